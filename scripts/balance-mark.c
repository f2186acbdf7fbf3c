/* balance-mark: a QEMU TCG plugin (plugin API version 1, QEMU 7.2) that counts executed AArch64
 * instructions and, each time the block at the address given by mark=0xADDR starts, records the count
 * so far. At exit it writes one count per line to out=PATH. scripts/balance runs the runtime's
 * TestBalanceHarness under it: the harness calls its marker function before each part of each
 * parallel op, so consecutive differences are the instructions of one part. Exact for one busy
 * thread (the harness pins itself to one OS thread; other threads of the Go runtime add a few). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef uint64_t qemu_plugin_id_t;
struct qemu_plugin_tb;
typedef struct qemu_info_t qemu_info_t;
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };
enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS };
typedef void (*tb_trans_cb)(qemu_plugin_id_t, struct qemu_plugin_tb *);
typedef void (*udata_cb)(qemu_plugin_id_t, void *);
typedef void (*vcpu_udata_cb)(unsigned int, void *);

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t, tb_trans_cb);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *);
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *);
void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *, enum qemu_plugin_op, void *, uint64_t);
void qemu_plugin_register_vcpu_tb_exec_cb(struct qemu_plugin_tb *, vcpu_udata_cb, enum qemu_plugin_cb_flags, void *);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t, udata_cb, void *);

__attribute__((visibility("default"))) int qemu_plugin_version = 1;

static uint64_t total, mark;
static uint64_t *marks;
static size_t nmarks, capmarks;
static char out[512] = "balance-marks.txt";

static void on_mark(unsigned int vcpu, void *p) {
    if (nmarks == capmarks) {
        capmarks = capmarks ? 2 * capmarks : 4096;
        marks = realloc(marks, capmarks * sizeof *marks);
        if (!marks) abort();
    }
    marks[nmarks++] = total;
}

static void on_tb(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
    qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &total, qemu_plugin_tb_n_insns(tb));
    if (qemu_plugin_tb_vaddr(tb) == mark)
        qemu_plugin_register_vcpu_tb_exec_cb(tb, on_mark, QEMU_PLUGIN_CB_NO_REGS, NULL);
}

static void at_exit_cb(qemu_plugin_id_t id, void *p) {
    FILE *f = fopen(out, "w");
    if (!f) return;
    for (size_t i = 0; i < nmarks; i++) fprintf(f, "%llu\n", (unsigned long long)marks[i]);
    fclose(f);
}

__attribute__((visibility("default")))
int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv) {
    for (int i = 0; i < argc; i++) {
        if (strncmp(argv[i], "out=", 4) == 0) snprintf(out, sizeof out, "%s", argv[i] + 4);
        if (strncmp(argv[i], "mark=", 5) == 0) mark = strtoull(argv[i] + 5, NULL, 0);
    }
    if (!mark) { fprintf(stderr, "balance-mark: mark=0xADDR missing\n"); return -1; }
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_tb);
    qemu_plugin_register_atexit_cb(id, at_exit_cb, NULL);
    return 0;
}
