// Package decide turns a model's per-frame class scores into labels that do not flicker.
//
// A Decider is built once from the model's labels and a Config, then Step is called with each
// frame's dequantized scores (probabilities, one per label) and the frame's time. Step smooths every
// class score with a moving average over the last Config.Smoothing frames (a ring buffer of
// Smoothing x len(labels) scores with running sums, allocated in New, the sums rebuilt exactly each
// time the ring wraps), reports the top label of the smoothed scores and the Config.TopK best
// classes, and runs for each watched class a two-threshold state machine:
//
//	inactive -> active    the smoothed score is >= On for MinFrames frames in a row
//	active -> inactive    the smoothed score has stayed below Off for OffDelay
//
// Between Off and On a class keeps its state (hysteresis). OffDelay is measured with the frame
// times given to Step, so a gap in the frames counts by time and tests drive it with a fake clock.
// Step returns the transitions of that frame (became active / became inactive) and allocates
// nothing: the Result's slices are owned by the Decider and valid until the next Step.
//
// Watched classes are named by label, or by the name of a Group: a set of labels whose smoothed
// scores are summed (ImageNet's five domestic cats as "cat"; see models/zoo's built-in groups), so
// that a group is watched, and its transitions reported under its name, like a class. A name that
// is neither is an error naming it. Thresholds can be changed while running (SetThresholds), e.g.
// from an MQTT command. A Decider is not safe for concurrent use.
package decide
