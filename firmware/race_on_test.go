//go:build race

package firmware

// raceSlowdown scales the tests' time budgets under the race detector, which makes the image
// writing (compression, FAT and ext4 code) several times slower: BuildAppliance took over 5 minutes
// under -race on a loaded 2-core machine.
const raceSlowdown = 5
