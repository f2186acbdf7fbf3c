//go:build unix

package camera

import (
	"os/exec"
	"syscall"
)

// setProcessGroup puts the command in its own process group, so that killing it also kills what it
// started (a wrapper script's children).
func setProcessGroup(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} }

func killProcessGroup(cmd *exec.Cmd) {
	syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
}
