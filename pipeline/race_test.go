//go:build race

package pipeline

// The race detector makes the daemon 5-10 times slower: the liveness bounds of the tests that
// run the real model (how long to wait for a label) are multiplied by slowdown under -race.
func init() { slowdown = 5 }
