package runtime_test

import (
	"context"
	"testing"

	"github.com/edgeinfer/edgeinfer/models/arch"
	"github.com/edgeinfer/edgeinfer/runtime"
)

// The benchmark architectures prepare, plan and run.
func TestArchitecturesRun(t *testing.T) {
	for _, name := range arch.Names() {
		m, err := arch.Build(name, 1)
		if err != nil {
			t.Fatal(err)
		}
		it, err := runtime.New(m, runtime.Options{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		t.Logf("%s: %.1f M MACs, arena %d bytes", name, float64(it.MACs())/1e6, it.Plan().ArenaSize)
		if testing.Short() || name != "mobilenet_v2_1.0_224" {
			it.Close()
			continue
		}
		if err := it.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		it.Close()
	}
}
