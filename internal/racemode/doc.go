// Package racemode tells tests whether they run under the race detector (go test -race), which
// makes Go code 5–10 times slower: tests that wait for real work scale their time budgets by
// Slowdown, and a check that depends on the relative speed of two pieces of Go code can leave
// itself out when Enabled.
package racemode
