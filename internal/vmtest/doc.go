// Package vmtest runs a test function inside an emulated arm64 Linux with real kernel drivers: Debian's
// arm64 kernel under qemu-system-aarch64 (machine virt, cortex-a72, one CPU, TCG). The guest has
//
//   - /dev/video0 from the vivid driver (when Options.Modules names "vivid"),
//   - /dev/gpiochip0: the virt machine's PL061 GPIO chip, 8 lines; line 3 is wired to QEMU's power
//     button, so VM.PowerButton makes a rising then (100 ms later) a falling edge on it. gpio_keys is
//     never loaded, so the line stays free for the test;
//   - eth0 at 10.0.2.15/24 with a default route via 10.0.2.2 (QEMU user networking). The host's 127.0.0.1
//     is HostIP (10.0.2.2) from the guest: a broker that StartMosquitto started on the host's loopback at
//     port P is tcp://10.0.2.2:P in the guest. VM.SetLink pulls and reconnects its cable (a network
//     partition: frames are dropped both ways and neither end is told).
//
// # How a test uses it
//
// The package's test binary is rebuilt for linux/arm64 (go test -c, CGO_ENABLED=0, once per test
// process) and booted as the guest's /init, in an initramfs written in Go (newc cpio) that also holds
// /dev/console, the kernel modules the test asked for with their dependencies from modules.dep, and
// /vmtest.json, which says which test and which Run call this boot serves. In the guest, vmtest.Main
// mounts devtmpfs, proc, sysfs and tmpfs, loads the modules (finit_module), configures eth0, sets the
// environment from Options.Env, then runs only that test (-test.run=^Name$ -test.v), prints its exit code
// on the serial console and powers the guest off. On the host, Run streams the console, fails the test
// with the guest's log when the guest's test failed or never reported, and logs it under -v.
//
//	func TestMain(m *testing.M) { vmtest.Main(m) } // required in every package that calls Run
//
//	func TestCamera(t *testing.T) {
//		var env map[string]string
//		if !vmtest.InGuest() { // host-only setup: the test function runs on both sides
//			b := vmtest.StartMosquitto(t)
//			env = map[string]string{"BROKER": b.GuestURL()}
//		}
//		vmtest.Run(t, vmtest.Options{
//			Modules: []string{"vivid node_types=0x1"},
//			WaitFor: []string{"/dev/video0"},
//			Env:     env,
//			Host: func(ctx context.Context, vm *vmtest.VM) error { // on the host, while the guest runs
//				if err := vm.WaitEvent(ctx, "armed"); err != nil {
//					return err
//				}
//				return vm.PowerButton(ctx)
//			},
//		}, func(t *testing.T) {
//			// Runs in the guest, with the guest's *testing.T: t.Run, t.Fatal, ... as usual.
//			// vmtest.Event("armed") tells the Host hook to go on.
//		})
//	}
//
// Rules that follow from the test binary running on both sides:
//   - code outside the Run function runs on the host and again in the guest: guard host-only work
//     (brokers, subscribers, temp files) with InGuest, and pass what the guest needs through
//     Options.Env, never through captured variables;
//   - a test may call Run more than once (each call boots its own VM); the calls are matched by their
//     order, so the sequence of Run calls in a test must not depend on host-only state (a guest that
//     passes without reaching its Run call fails the host's test);
//   - Run works from subtests; the guest runs the whole named subtest path.
//
// # Where the kernel and QEMU come from
//
// .ci/vmtest-setup.sh installs qemu-system-arm, mosquitto and kmod, downloads Debian's pinned
// linux-image-*-arm64 package and unpacks vmlinuz and its modules (with a modules.dep written by depmod)
// to $EDGEINFER_CACHE/vmtest/current (default ~/.cache/edgeinfer). The environment can point elsewhere:
//
//	EDGEINFER_VMTEST_KERNEL_DIR  directory with vmlinuz and lib/modules/<version>/modules.dep
//	EDGEINFER_VMTEST_QEMU        the qemu-system-aarch64 binary
//	EDGEINFER_VMTEST_APPEND      extra kernel command-line arguments (e.g. "loglevel=7" instead of quiet)
//	EDGEINFER_REQUIRE_VM=1       fail instead of skip when the kernel, QEMU or mosquitto is missing (CI)
//
// The guest's 6.1 kernel wants uncompressed .ko files; a 6.12 kernel's .ko.xz are loaded with
// MODULE_INIT_COMPRESSED_FILE. Modules that modules.builtin lists are skipped; soft dependencies
// (modules.softdep) are not followed.
package vmtest
