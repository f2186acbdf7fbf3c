package mqtt

import (
	"context"
	"testing"
	"time"
)

// BenchmarkPublishStateDelivered measures labels delivered to a local mosquitto (PUBACK received),
// from PublishState to the last acknowledgement, with the default in-flight window.
func BenchmarkPublishStateDelivered(b *testing.B) {
	br := startBroker(b, brokerOpts{})
	log, _ := testLogger()
	p, err := Open(context.Background(), Config{Broker: br.url(), Device: "bench", Logger: log, Outbox: b.N + 16})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close(context.Background())
	eventually(b, 5*time.Second, "connected", func() bool { return p.Stats().Connects == 1 })
	s := State{Label: "cat", Score: 0.9, TopK: []Scored{{"cat", 0.9}, {"dog", 0.05}, {"fox", 0.01}}, Time: time.Now()}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		s.Seq = uint64(i)
		if err := p.PublishState(s); err != nil {
			b.Fatal(err)
		}
	}
	eventually(b, time.Minute, "all delivered", func() bool { return p.Stats().Delivered == uint64(b.N) })
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "labels/s")
}
