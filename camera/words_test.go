package camera

import (
	"testing"

	"github.com/edgeinfer/edgeinfer/internal/wordcheck"
)

// TestWordEncodings checks every WORD-encoded instruction of the package's .s files against
// aarch64-linux-gnu-as (internal/wordcheck).
func TestWordEncodings(t *testing.T) { wordcheck.Check(t, "camera", "bilinear_arm64.s") }
