// Package ratelog keeps repeated log records from flooding a log: the first record of a kind is
// written at once, the ones that follow within an interval are counted instead, and the count is
// written with the next record of that kind after the interval (as suppressed=N) or by Flush.
//
// A kind is the record's message, so callers log with a constant message and put what varies in
// attributes:
//
//	rl := ratelog.New(log, time.Minute)
//	rl.Warn("camera: cannot read frame", "file", path, "err", err)
//
// At most 64 kinds are tracked; records of further kinds share one slot, so a flood of distinct
// messages is bounded too. A Logger is safe for concurrent use.
package ratelog
