package firmware

// The kernel and the Raspberry Pi firmware are Go modules: these blank imports (of empty packages)
// pin their versions in go.mod, where KernelModule and FirmwareModule below must agree with them
// (TestModuleVersionsMatchGoMod checks it).
import (
	_ "github.com/gokrazy/firmware"
	_ "github.com/gokrazy/kernel.rpi"
)
