package mqtt

import (
	"context"
	"runtime"
	"strconv"
	"testing"
	"time"
)

// TestCloseLeavesNoGoroutines opens and closes publishers, connected and not, and checks that
// their goroutines end.
func TestCloseLeavesNoGoroutines(t *testing.T) {
	b := startBroker(t, brokerOpts{})
	log, _ := testLogger()
	unreachable := "tcp://127.0.0.1:" + itoa(freePort(t))
	before := runtime.NumGoroutine()
	for i := range 6 {
		url := b.url()
		if i%2 == 1 {
			url = unreachable
		}
		p, err := Open(context.Background(), Config{Broker: url, Device: "leak", Classes: []string{"cat"}, Logger: log})
		if err != nil {
			t.Fatal(err)
		}
		p.PublishState(State{Label: "cat"})
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		p.Close(ctx)
		cancel()
	}
	var n int
	eventually(t, 5*time.Second, "goroutines back to where they were", func() bool {
		n = runtime.NumGoroutine()
		return n <= before
	})
}

func itoa(i int) string { return strconv.Itoa(i) }
