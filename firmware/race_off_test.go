//go:build !race

package firmware

// raceSlowdown scales the tests' time budgets under the race detector (race_on_test.go).
const raceSlowdown = 1
