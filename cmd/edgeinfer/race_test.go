//go:build race

package main

// Under the race detector the pattern source's own pixel loops are several times slower, so an
// unthrottled pattern no longer outruns inference (TestClassifyPatternRate's fps=0 case).
func init() { raceDetector = true }
