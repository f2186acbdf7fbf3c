// Package report measures an int8 model against its float graph and writes the result as one
// self-contained HTML page (inline CSS and SVG, no script, nothing fetched): float and int8
// top-1/top-5 accuracy and their top-1 agreement on an evaluation subset, a chart of each layer's
// SQNR and cosine similarity, and the worst layers.
package report
