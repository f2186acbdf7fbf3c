package pipeline

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"
)

// Notifier receives the daemon's state for the service manager: "READY=1", "WATCHDOG=1",
// "STOPPING=1" (systemd's sd_notify protocol).
type Notifier interface {
	Notify(state string) error
}

// SystemdNotifier sends sd_notify messages as datagrams to a unix socket ($NOTIFY_SOCKET).
type SystemdNotifier struct {
	conn *net.UnixConn
}

// Systemd returns the notifier and the watchdog interval systemd asks for, from the environment:
// NOTIFY_SOCKET (a path, or "@name" in the abstract namespace) and WATCHDOG_USEC (with
// WATCHDOG_PID, when set, naming this process). Without NOTIFY_SOCKET it returns nil, 0, nil:
// not run by systemd, or not as Type=notify.
func Systemd(getenv func(string) string) (*SystemdNotifier, time.Duration, error) {
	sock := getenv("NOTIFY_SOCKET")
	if sock == "" {
		return nil, 0, nil
	}
	if sock[0] != '/' && sock[0] != '@' {
		return nil, 0, fmt.Errorf("pipeline: NOTIFY_SOCKET=%q: want an absolute path or @name", sock)
	}
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		return nil, 0, fmt.Errorf("pipeline: systemd notify socket: %w", err)
	}
	var wd time.Duration
	if v := getenv("WATCHDOG_USEC"); v != "" {
		us, err := strconv.ParseUint(v, 10, 63)
		if err != nil || us == 0 {
			conn.Close()
			return nil, 0, fmt.Errorf("pipeline: WATCHDOG_USEC=%q: want a positive number of microseconds", v)
		}
		if pid := getenv("WATCHDOG_PID"); pid == "" || pid == strconv.Itoa(os.Getpid()) {
			wd = time.Duration(us) * time.Microsecond
		}
	}
	return &SystemdNotifier{conn: conn}, wd, nil
}

// notifyTimeout bounds a send: a service manager that does not read its socket must not stop the
// daemon (a unix datagram socket holds only a few messages, net.unix.max_dgram_qlen).
const notifyTimeout = time.Second

// Notify sends one message, giving up after a second.
func (n *SystemdNotifier) Notify(state string) error {
	if n == nil {
		return errors.New("pipeline: systemd notify: not connected")
	}
	n.conn.SetWriteDeadline(time.Now().Add(notifyTimeout))
	if _, err := n.conn.Write([]byte(state)); err != nil {
		return fmt.Errorf("pipeline: systemd notify %q: %w", state, err)
	}
	return nil
}

// Close closes the socket.
func (n *SystemdNotifier) Close() error { return n.conn.Close() }
