package report

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"math"
	"os"
	"sort"
	"time"

	"github.com/edgeinfer/edgeinfer/models"
	"github.com/edgeinfer/edgeinfer/quant/dataset"
	"github.com/edgeinfer/edgeinfer/quant/graph"
	"github.com/edgeinfer/edgeinfer/quant/quantize"
	"github.com/edgeinfer/edgeinfer/runtime"
)

// Input is what Build measures.
type Input struct {
	Graph       *graph.Graph // the float model (simplified)
	Calibration *quantize.Calibration
	Model       *models.Model
	Set         dataset.Set
	// HeldOut says Set is not the calibration set: its accuracy figures are on held-out images.
	// Otherwise they are on the calibration set (images other than the calibration ones where the
	// set has more, see EvalIndices), and the report says so.
	HeldOut     bool
	Count       int // evaluation images, spread over Set; 0 means 500
	LayerImages int // images for the per-layer comparison; 0 means 32
	Options     quantize.Options
	Command     string
	Progress    func(done, total int)
}

// Report is the measured result.
type Report struct {
	Model     string
	Method    string
	Command   string
	Data      string
	Date      string
	Float     quantize.Accuracy
	Int8      quantize.Accuracy
	Agree     int
	Layers    []quantize.LayerStat
	Worst     []quantize.LayerStat
	Labelled  bool
	CalibSize int
	HeldOut   bool // the figures are on a held-out set (Input.HeldOut)
}

// Source says where the accuracy figures come from: held-out images, or the calibration set.
func (r *Report) Source() string {
	if r.HeldOut {
		return "held-out images (not the calibration set)"
	}
	return "the calibration set (not held out: give --report-data for held-out images)"
}

// AgreementPercent is the share of images with the same top-1 class in float and int8.
func (r *Report) AgreementPercent() float64 {
	if r.Float.N == 0 {
		return 0
	}
	return 100 * float64(r.Agree) / float64(r.Float.N)
}

// EvalIndices returns count indices spread over n, offset by half a stride from
// dataset.Spread's, so that they avoid the calibration images where they can.
func EvalIndices(n, count int) []int {
	idx := dataset.Spread(n, count)
	if len(idx) < n {
		off := n / len(idx) / 2
		for i := range idx {
			idx[i] = (idx[i] + off) % n
		}
	}
	return idx
}

// Build evaluates the float graph and the int8 model.
func Build(ctx context.Context, in Input) (*Report, error) {
	if in.Count == 0 {
		in.Count = 500
	}
	if in.LayerImages == 0 {
		in.LayerImages = 32
	}
	cal := in.Calibration
	r := &Report{Model: in.Model.Name, Method: in.Options.MethodName(), Command: in.Command, Data: in.Set.Name(),
		Date: time.Now().UTC().Format("2006-01-02 15:04 UTC"), CalibSize: len(cal.Pixels), HeldOut: in.HeldOut}
	if in.Options.PerTensor {
		r.Method += ", per-tensor weights"
	}
	if in.Options.BiasCorrection {
		r.Method += ", bias correction"
	}
	fc, err := quantize.NewFloatClassifier(in.Graph, cal.Input)
	if err != nil {
		return nil, err
	}
	qc, err := quantize.NewInt8Classifier(in.Model, runtime.Options{})
	if err != nil {
		return nil, err
	}
	defer qc.Close()
	idx := EvalIndices(in.Set.Len(), in.Count)
	for k, i := range idx {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		img, label, err := in.Set.Image(i)
		if err != nil {
			return nil, err
		}
		f, err := fc.Scores(ctx, img)
		if err != nil {
			return nil, err
		}
		q, err := qc.Scores(ctx, img)
		if err != nil {
			return nil, err
		}
		if label >= 0 {
			r.Labelled = true
		}
		r.Float.Add(f, label)
		r.Int8.Add(q, label)
		if quantize.Argmax(f) == quantize.Argmax(q) {
			r.Agree++
		}
		if in.Progress != nil {
			in.Progress(k+1, len(idx))
		}
	}
	if r.Layers, err = quantize.CompareLayers(ctx, cal, in.Model, in.LayerImages); err != nil {
		return nil, err
	}
	r.Worst = append([]quantize.LayerStat(nil), r.Layers...)
	sort.SliceStable(r.Worst, func(a, b int) bool { return r.Worst[a].SQNR < r.Worst[b].SQNR })
	r.Worst = r.Worst[:min(10, len(r.Worst))]
	return r, nil
}

// WriteFile writes the HTML page.
func (r *Report) WriteFile(path string) error {
	var buf bytes.Buffer
	if err := r.HTML(&buf); err != nil {
		return err
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

// HTML renders the page.
func (r *Report) HTML(buf *bytes.Buffer) error {
	if err := page.Execute(buf, r); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

func pct(n, d int) string {
	if d == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f%%", 100*float64(n)/float64(d))
}

// chart draws per-layer SQNR as bars (left axis, dB) and cosine similarity as dots (right axis).
func (r *Report) Chart() template.HTML {
	const w, h, left, right, top, bottom = 900.0, 300.0, 50.0, 60.0, 20.0, 30.0
	n := len(r.Layers)
	if n == 0 {
		return ""
	}
	maxDB := 10.0
	for _, l := range r.Layers {
		if !math.IsInf(l.SQNR, 0) && !math.IsNaN(l.SQNR) {
			maxDB = max(maxDB, l.SQNR)
		}
	}
	maxDB = math.Ceil(maxDB/10) * 10
	minCos := 1.0
	for _, l := range r.Layers {
		minCos = min(minCos, l.Cosine)
	}
	minCos = math.Max(0, math.Floor(minCos*100)/100-0.01)
	pw, ph := w-left-right, h-top-bottom
	bw := pw / float64(n)
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %g %g" width="100%%" role="img" aria-label="per-layer SQNR and cosine similarity">`, w, h)
	for db := 0.0; db <= maxDB; db += 10 {
		y := top + ph*(1-db/maxDB)
		fmt.Fprintf(&b, `<line x1="%g" y1="%.1f" x2="%g" y2="%.1f" stroke="#ddd"/><text x="%g" y="%.1f" font-size="11" text-anchor="end">%g dB</text>`, left, y, w-right, y, left-4, y+4, db)
	}
	for k := 0; k <= 4; k++ {
		c := minCos + (1-minCos)*float64(k)/4
		y := top + ph*(1-float64(k)/4)
		fmt.Fprintf(&b, `<text x="%g" y="%.1f" font-size="11" fill="#c0392b">%.3f</text>`, w-right+4, y+4, c)
	}
	for i, l := range r.Layers {
		x := left + float64(i)*bw
		v := l.SQNR
		if math.IsInf(v, 1) || v > maxDB {
			v = maxDB
		}
		v = max(v, 0)
		bh := ph * v / maxDB
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#2e86c1"><title>%s (%s): SQNR %.1f dB, cosine %.5f</title></rect>`,
			x+bw*0.1, top+ph-bh, bw*0.8, bh, template.HTMLEscapeString(l.Tensor), l.Op, l.SQNR, l.Cosine)
		cy := top + ph*(1-(l.Cosine-minCos)/(1-minCos))
		fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="2.5" fill="#c0392b"><title>%s: cosine %.5f</title></circle>`, x+bw/2, cy, template.HTMLEscapeString(l.Tensor), l.Cosine)
	}
	fmt.Fprintf(&b, `<text x="%g" y="%g" font-size="11">layers in execution order (%d); bars: SQNR (left), dots: cosine similarity (right)</text></svg>`, left, h-8, n)
	return template.HTML(b.String())
}

var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"pct": pct,
	"delta": func(a, b quantize.Accuracy) string {
		if a.N == 0 || b.N == 0 {
			return "–"
		}
		return fmt.Sprintf("%+.2f", 100*(float64(b.Top1)/float64(b.N)-float64(a.Top1)/float64(a.N)))
	},
	"db": func(v float64) string {
		if math.IsInf(v, 1) {
			return "exact"
		}
		return fmt.Sprintf("%.1f", v)
	},
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>edgeinfer quantization report: {{.Model}}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:960px;margin:2em auto;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}
th{background:#f4f4f4}td.l,th.l{text-align:left}.big{font-size:1.6em;font-weight:600}
code{background:#f4f4f4;padding:2px 4px}.note{color:#666;font-size:.9em}
</style></head><body>
<h1>{{.Model}}: float vs int8</h1>
<p class="note">{{.Date}} · method: {{.Method}} · {{.CalibSize}} calibration images · data: <code>{{.Data}}</code><br>
<code>{{.Command}}</code></p>
<p>Accuracy on {{.Source}}.</p>
<table>
<tr><th class="l"></th><th>top-1</th><th>top-5</th><th>images</th></tr>
<tr><td class="l">float</td><td class="big">{{if .Labelled}}{{pct .Float.Top1 .Float.N}}{{else}}–{{end}}</td><td>{{if .Labelled}}{{pct .Float.Top5 .Float.N}}{{else}}–{{end}}</td><td>{{.Float.N}}</td></tr>
<tr><td class="l">int8</td><td class="big">{{if .Labelled}}{{pct .Int8.Top1 .Int8.N}}{{else}}–{{end}}</td><td>{{if .Labelled}}{{pct .Int8.Top5 .Int8.N}}{{else}}–{{end}}</td><td>{{.Int8.N}}</td></tr>
<tr><td class="l">int8 − float (points)</td><td>{{if .Labelled}}{{delta .Float .Int8}}{{else}}–{{end}}</td><td></td><td></td></tr>
<tr><td class="l">same top-1 class</td><td class="big">{{pct .Agree .Float.N}}</td><td></td><td>{{.Float.N}}</td></tr>
</table>
<h2>Per-layer error</h2>
<p class="note">Each int8 activation against the float graph's, over the first calibration images:
SQNR = 10·log10(Σf² / Σ(f−q)²), and cosine similarity.</p>
{{.Chart}}
<h2>Worst layers</h2>
<table><tr><th>#</th><th class="l">tensor</th><th class="l">op</th><th>SQNR (dB)</th><th>cosine</th></tr>
{{range $i, $l := .Worst}}<tr><td>{{$i}}</td><td class="l">{{$l.Tensor}}</td><td class="l">{{$l.Op}}</td><td>{{db $l.SQNR}}</td><td>{{printf "%.5f" $l.Cosine}}</td></tr>
{{end}}</table>
<h2>All layers</h2>
<table><tr><th class="l">tensor</th><th class="l">op</th><th>SQNR (dB)</th><th>cosine</th></tr>
{{range .Layers}}<tr><td class="l">{{.Tensor}}</td><td class="l">{{.Op}}</td><td>{{db .SQNR}}</td><td>{{printf "%.5f" .Cosine}}</td></tr>
{{end}}</table>
</body></html>
`))
