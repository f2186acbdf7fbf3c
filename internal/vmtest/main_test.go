package vmtest_test

import (
	"testing"

	"github.com/edgeinfer/edgeinfer/internal/vmtest"
)

func TestMain(m *testing.M) { vmtest.Main(m) }
