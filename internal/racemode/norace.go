//go:build !race

package racemode

// Enabled is true when the race detector is on.
const Enabled = false

// Slowdown multiplies time budgets under the race detector.
const Slowdown = 1
