package vmtest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// VM is a running guest as the Options.Host hook sees it.
type VM struct {
	monitor string // HMP monitor socket

	mu      sync.Mutex
	events  map[string]bool
	changed chan struct{} // closed and replaced whenever events grows
	exited  chan struct{} // closed when the console ends (QEMU exited)
}

func newVM(monitor string) *VM {
	return &VM{monitor: monitor, events: map[string]bool{}, changed: make(chan struct{}), exited: make(chan struct{})}
}

func (vm *VM) addEvent(name string) {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	vm.events[name] = true
	close(vm.changed)
	vm.changed = make(chan struct{})
}

func (vm *VM) seen(name string) bool {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	return vm.events[name]
}

// WaitEvent waits until the guest has called Event(name), the guest exits, or ctx ends.
func (vm *VM) WaitEvent(ctx context.Context, name string) error {
	for {
		vm.mu.Lock()
		seen, changed := vm.events[name], vm.changed
		vm.mu.Unlock()
		if seen {
			return nil
		}
		select {
		case <-changed:
		case <-vm.exited:
			return fmt.Errorf("vmtest: the guest exited before event %q", name)
		case <-ctx.Done():
			return fmt.Errorf("vmtest: waiting for guest event %q: %w", name, ctx.Err())
		}
	}
}

// Monitor runs one command on QEMU's human monitor (HMP) and returns what it printed.
func (vm *VM) Monitor(ctx context.Context, cmd string) (string, error) {
	var d net.Dialer
	var conn net.Conn
	var err error
	for { // the socket appears shortly after QEMU starts
		conn, err = d.DialContext(ctx, "unix", vm.monitor)
		if err == nil {
			break
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("vmtest: monitor %s: %w", vm.monitor, err)
		case <-vm.exited:
			return "", fmt.Errorf("vmtest: monitor: the guest exited")
		case <-time.After(50 * time.Millisecond):
		}
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	} else {
		conn.SetDeadline(time.Now().Add(30 * time.Second))
	}
	r := bufio.NewReader(conn)
	if _, err := readUntilPrompt(r); err != nil {
		return "", fmt.Errorf("vmtest: monitor: reading the banner: %w", err)
	}
	if _, err := io.WriteString(conn, cmd+"\n"); err != nil {
		return "", fmt.Errorf("vmtest: monitor: %w", err)
	}
	out, err := readUntilPrompt(r)
	if err != nil {
		return out, fmt.Errorf("vmtest: monitor: %q: %w", cmd, err)
	}
	return out, nil
}

const hmpPrompt = "(qemu) "

// readUntilPrompt reads up to and including the next HMP prompt and returns what came before it.
func readUntilPrompt(r *bufio.Reader) (string, error) {
	var buf bytes.Buffer
	for {
		b, err := r.ReadByte()
		if err != nil {
			return buf.String(), err
		}
		buf.WriteByte(b)
		if bytes.HasSuffix(buf.Bytes(), []byte(hmpPrompt)) {
			return strings.TrimSuffix(buf.String(), hmpPrompt), nil
		}
	}
}

// PowerButton presses QEMU's power button (HMP system_powerdown). On the virt machine that raises GPIO
// line 3 of the PL061 (/dev/gpiochip0) and lowers it again 100 ms later.
func (vm *VM) PowerButton(ctx context.Context) error {
	_, err := vm.Monitor(ctx, "system_powerdown")
	return err
}

// netdevID is the QEMU id of the guest's network backend (user networking, eth0 in the guest).
const netdevID = "n0"

// SetLink connects (up) or disconnects the guest's network cable (HMP set_link): while it is down
// the virtio NIC reports no carrier and every frame either way is dropped, as when a cable is pulled
// or a switch fails; TCP connections are not told (no RST, no FIN), so both ends find out only by
// their own timeouts, and packets sent meanwhile are lost and retransmitted after it is up again.
func (vm *VM) SetLink(ctx context.Context, up bool) error {
	state := "off"
	if up {
		state = "on"
	}
	cmd := "set_link " + netdevID + " " + state
	out, err := vm.Monitor(ctx, cmd)
	if err != nil {
		return err
	}
	// The monitor echoes the command; anything else it prints is an error ("Device 'n0' not found").
	for _, l := range strings.Split(out, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.Contains(l, cmd) {
			return fmt.Errorf("vmtest: %s: %s", cmd, l)
		}
	}
	return nil
}

// bootResult is the outcome of one guest boot.
type bootResult struct {
	exit int    // the guest test binary's exit code
	err  error  // the boot itself failed: QEMU, timeout, no result, Host hook
	log  string // the guest's console, then QEMU's stderr
}

// qemuArgs is the QEMU command line for one boot.
func (r *rig) qemuArgs(initrd, monitor string, opts Options) []string {
	cmdline := []string{"console=ttyAMA0", "panic=-1", "quiet"}
	cmdline = append(cmdline, strings.Fields(os.Getenv(EnvAppend))...)
	cmdline = append(cmdline, opts.KernelArgs...)
	args := []string{
		"-M", "virt", "-cpu", "cortex-a72", "-smp", "1", "-m", strconv.Itoa(opts.MemoryMB),
		"-nodefaults", "-display", "none", "-no-reboot",
		"-serial", "stdio",
		"-monitor", "unix:" + monitor + ",server=on,wait=off",
		"-kernel", r.vmlinuz, "-initrd", initrd,
		"-append", strings.Join(cmdline, " "),
	}
	if !opts.NoNetwork {
		args = append(args, "-netdev", "user,id="+netdevID, "-device", "virtio-net-pci,netdev="+netdevID+",romfile=")
	}
	return args
}

// boot runs QEMU until the guest powers off, ctx ends or the Host hook fails.
func (r *rig) boot(ctx context.Context, initrd string, opts Options) bootResult {
	// Unix socket paths are short (108 bytes): keep the monitor out of the test's long TempDir.
	sockDir, err := os.MkdirTemp("", "vmtest-mon-")
	if err != nil {
		return bootResult{err: fmt.Errorf("vmtest: %w", err)}
	}
	defer os.RemoveAll(sockDir)
	vm := newVM(filepath.Join(sockDir, "hmp.sock"))

	cmd := exec.Command(r.qemu, r.qemuArgs(initrd, vm.monitor, opts)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return bootResult{err: fmt.Errorf("vmtest: %w", err)}
	}
	if err := cmd.Start(); err != nil {
		return bootResult{err: fmt.Errorf("vmtest: starting %s: %w", r.qemu, err)}
	}

	con := &console{vm: vm}
	consoleDone := make(chan struct{})
	go func() {
		defer close(consoleDone)
		con.read(stdout)
		close(vm.exited)
	}()
	waitErr := make(chan error, 1)
	go func() {
		<-consoleDone
		waitErr <- cmd.Wait()
	}()

	hostCtx, hostCancel := context.WithCancel(ctx)
	defer hostCancel()
	hostErr := make(chan error, 1)
	hostDone := make(chan struct{})
	if opts.Host != nil {
		go func() {
			defer close(hostDone)
			err := opts.Host(hostCtx, vm)
			if err != nil && hostCtx.Err() == nil {
				hostErr <- err
			}
		}()
	} else {
		close(hostDone)
	}

	var res bootResult
	select {
	case err := <-waitErr:
		if err != nil {
			res.err = fmt.Errorf("QEMU: %w", err)
		}
	case <-ctx.Done():
		cmd.Process.Kill()
		<-waitErr
		res.err = fmt.Errorf("the guest did not finish within %v", opts.Timeout)
	case err := <-hostErr:
		cmd.Process.Kill()
		<-waitErr
		res.err = fmt.Errorf("host hook: %w", err)
	}
	hostCancel()
	<-hostDone

	code, ok := con.exitCode()
	switch {
	case res.err != nil:
	case !ok:
		res.err = errNoResult
	case code == 0 && !vm.seen(eventRan):
		res.err = errNotReached
	}
	res.exit = code
	res.log = con.String()
	if s := strings.TrimSpace(stderr.String()); s != "" {
		res.log += "--- QEMU stderr ---\n" + s + "\n"
	}
	return res
}

// maxConsole bounds the console log kept in memory; past it, the middle is dropped.
const maxConsole = 4 << 20

// console collects the guest's serial output and picks out the markers in it.
type console struct {
	vm *VM

	mu      sync.Mutex
	head    strings.Builder
	tail    []string
	dropped int
	exit    int
	hasExit bool
}

func (c *console) read(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		c.line(strings.TrimRight(sc.Text(), "\r"))
	}
	// A line over 1 MiB ends the scan; drain so QEMU never blocks on a full pipe.
	io.Copy(io.Discard, r)
}

func (c *console) line(l string) {
	if name, ok := marker(l, markerEvent); ok && c.vm != nil {
		c.vm.addEvent(name)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if v, ok := marker(l, markerExit); ok {
		if n, err := strconv.Atoi(v); err == nil {
			c.exit, c.hasExit = n, true
		}
	}
	if c.head.Len() < maxConsole/2 {
		c.head.WriteString(l)
		c.head.WriteByte('\n')
		return
	}
	c.tail = append(c.tail, l)
	if len(c.tail) > 2000 {
		c.dropped += len(c.tail) - 1000
		c.tail = append(c.tail[:0], c.tail[len(c.tail)-1000:]...)
	}
}

// marker returns the value of the marker with the given prefix in line l.
func marker(l, prefix string) (string, bool) {
	i := strings.Index(l, prefix)
	if i < 0 {
		return "", false
	}
	v, _, ok := strings.Cut(l[i+len(prefix):], markerEnd)
	return v, ok && v != ""
}

func (c *console) exitCode() (int, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.exit, c.hasExit
}

func (c *console) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var b strings.Builder
	b.WriteString(c.head.String())
	if c.dropped > 0 {
		fmt.Fprintf(&b, "... %d lines dropped ...\n", c.dropped)
	}
	for _, l := range c.tail {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return b.String()
}
