package models

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"unsafe"
)

func TestRoundTrip(t *testing.T) {
	m := fullModel()
	if err := m.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	seen := map[OpType]bool{}
	for _, op := range m.Ops {
		seen[op.Type] = true
	}
	for o := OpConv2D; o <= OpDequantize; o++ {
		if !seen[o] {
			t.Errorf("fullModel does not use %v", o)
		}
	}
	b := mustEncode(t, m, WriteOptions{})
	got, err := Decode(b)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if !reflect.DeepEqual(got, fullModel()) {
		t.Errorf("round trip changed the model:\n got %+v\nwant %+v", got, fullModel())
	}
}

func TestSpecMatchesEncoder(t *testing.T) {
	// specSmall writes the file from FORMAT.md by hand: the encoder must produce the same bytes.
	want := specSmall(false).b
	got := mustEncode(t, smallModel(), WriteOptions{})
	if !bytes.Equal(got, want) {
		t.Fatalf("Encode(smallModel) differs from the file written per FORMAT.md:\n got %x\nwant %x", got, want)
	}
	m, err := Decode(want)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if !reflect.DeepEqual(m, smallModel()) {
		t.Errorf("Decode(spec file) = %+v, want %+v", m, smallModel())
	}
}

func TestFloat16Storage(t *testing.T) {
	b := mustEncode(t, fullModel(), WriteOptions{Float16: true})
	if plain := mustEncode(t, fullModel(), WriteOptions{}); len(b) >= len(plain) {
		t.Errorf("float16 file is %d bytes, float32 file %d", len(b), len(plain))
	}
	got, err := Decode(b)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	want := fullModel()
	const bias = 18 // the only Float32 constant
	g, w := &got.Tensors[bias], &want.Tensors[bias]
	if g.Type != Float16 || len(g.Data) != 2*w.NumElements() {
		t.Fatalf("tensor %d: %v with %d bytes, want float16 with %d", bias, g.Type, len(g.Data), 2*w.NumElements())
	}
	gv, wv := g.Float32s(), w.Float32s()
	for i := range wv {
		// binary16 has an 11-bit significand: relative error ≤ 2^-11 after rounding to nearest.
		if d := math.Abs(float64(gv[i] - wv[i])); d > math.Abs(float64(wv[i]))/2048 {
			t.Errorf("element %d: %v, want %v within float16 precision", i, gv[i], wv[i])
		}
	}
	// Everything else is unchanged: int8 weights, the existing Float16 tensor, the graph.
	*g = *w
	if !reflect.DeepEqual(got, want) {
		t.Errorf("float16 storage changed more than the Float32 constants")
	}
}

func TestFloat16OutOfRange(t *testing.T) {
	m := fullModel()
	binary.LittleEndian.PutUint32(m.Tensors[18].Data[12:], math.Float32bits(1e6))
	err := Encode(&bytes.Buffer{}, m, WriteOptions{Float16: true})
	if err == nil || !strings.Contains(err.Error(), "element 3 = 1e+06 is out of float16 range") || !strings.Contains(err.Error(), `tensor 18 "bias/f32"`) {
		t.Errorf("Encode(1e6 as float16) = %v, want an out of range error naming the tensor and element", err)
	}
}

func TestDeterministic(t *testing.T) {
	for _, opt := range []WriteOptions{{}, {Float16: true}} {
		a := mustEncode(t, fullModel(), opt)
		b := mustEncode(t, fullModel(), opt)
		if !bytes.Equal(a, b) {
			t.Fatalf("%+v: two encodings of the same model differ", opt)
		}
		m, err := Decode(a)
		if err != nil {
			t.Fatal(err)
		}
		if c := mustEncode(t, m, WriteOptions{}); !bytes.Equal(a, c) {
			t.Errorf("%+v: re-encoding the decoded model changed the bytes", opt)
		}
	}
}

func TestDecodeAliasesInput(t *testing.T) {
	b := mustEncode(t, fullModel(), WriteOptions{})
	m, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	base := uintptr(unsafe.Pointer(&b[0]))
	consts := 0
	for i, tn := range m.Tensors {
		if len(tn.Data) == 0 {
			continue
		}
		consts++
		off := uintptr(unsafe.Pointer(&tn.Data[0])) - base
		if off >= uintptr(len(b)) {
			t.Errorf("tensor %d: data is a copy, not a slice of the input", i)
		} else if off%64 != 0 {
			t.Errorf("tensor %d: data at offset %d, not 64-byte aligned", i, off)
		}
		if cap(tn.Data) != len(tn.Data) {
			t.Errorf("tensor %d: cap %d > len %d: an append would overwrite the file", i, cap(tn.Data), len(tn.Data))
		}
	}
	if consts != 8 {
		t.Errorf("%d non-empty constants, want 8", consts)
	}
	if e := m.Tensors[22]; e.Data == nil || len(e.Data) != 0 {
		t.Errorf("empty constant decoded as %v, want a non-nil empty slice", e.Data)
	}
}

func TestWriteFileOpen(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "full.eim")
	if err := fullModel().WriteFile(path, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	// Overwrite: the rename replaces the file.
	if err := fullModel().WriteFile(path, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries after WriteFile, want 1 (temporary file left behind?)", len(entries))
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", fi.Mode().Perm())
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := runtime.GOOS == "linux"; f.Mapped() != want {
		t.Errorf("Mapped() = %v, want %v on %s", f.Mapped(), want, runtime.GOOS)
	}
	if f.Size() != int(fi.Size()) {
		t.Errorf("Size() = %d, want %d", f.Size(), fi.Size())
	}
	if !reflect.DeepEqual(f.Model, fullModel()) {
		t.Errorf("Open(WriteFile(m)) differs from m")
	}
	for i, tn := range f.Model.Tensors {
		if len(tn.Data) > 0 {
			base := uintptr(unsafe.Pointer(&f.data[0]))
			if p := uintptr(unsafe.Pointer(&tn.Data[0])); p < base || p >= base+uintptr(len(f.data)) {
				t.Errorf("tensor %d: data is not in the file's mapping", i)
			}
			if f.Mapped() && uintptr(unsafe.Pointer(&tn.Data[0]))%64 != 0 {
				t.Errorf("tensor %d: mapped data not 64-byte aligned in memory", i)
			}
		}
	}
	if err := f.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := Open(filepath.Join(dir, "missing.eim")); err == nil || !strings.HasPrefix(err.Error(), "models: ") || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Open(missing) = %v, want a models: error wrapping ErrNotExist", err)
	}
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty.eim", nil, "truncated"},
		{"text.eim", []byte("hello, this is not a model at all"), "bad magic"},
	} {
		path := filepath.Join(dir, tc.name)
		if err := os.WriteFile(path, tc.data, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Open(path)
		if err == nil || !strings.Contains(err.Error(), "models: "+path+": header at offset") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Open(%s) = %v, want an error naming the path and %q", tc.name, err, tc.want)
		}
	}
	if err := (&Model{}).WriteFile(filepath.Join(dir, "invalid.eim"), WriteOptions{}); err == nil {
		t.Errorf("WriteFile(invalid model) succeeded")
	}
	if _, err := os.Stat(filepath.Join(dir, "invalid.eim")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("WriteFile(invalid model) left a file: %v", err)
	}
}

func TestTruncated(t *testing.T) {
	b := mustEncode(t, smallModel(), WriteOptions{})
	for n := range len(b) {
		_, err := Decode(b[:n])
		if !errors.Is(err, ErrTruncated) || !strings.Contains(err.Error(), "truncated") || !strings.HasPrefix(err.Error(), "models: model: header at offset ") {
			t.Errorf("Decode(first %d of %d bytes) = %v, want a truncation error", n, len(b), err)
		}
	}
	_, err := Decode(append(b[:len(b):len(b)], 0))
	if err == nil || !strings.Contains(err.Error(), "1 trailing bytes") {
		t.Errorf("Decode(one byte too many) = %v, want a trailing bytes error", err)
	}
}

func TestFlippedBytes(t *testing.T) {
	b := mustEncode(t, smallModel(), WriteOptions{})
	for i := range b {
		c := append([]byte(nil), b...)
		c[i] ^= 0x10
		_, err := Decode(c)
		var want string
		switch {
		case i < 8:
			want = "bad magic"
		case i < 12:
			want = "unsupported format version"
		case i >= 16 && i < 24: // the file length: now longer or shorter than the file
			want = "truncated"
			if c[i] < b[i] {
				want = "trailing bytes"
			}
		default:
			want = "checksum mismatch"
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("byte %d flipped: %v, want %q", i, err, want)
		}
		if i >= 24 && !errors.Is(err, ErrChecksum) {
			t.Errorf("byte %d flipped: %v is not ErrChecksum", i, err)
		}
	}
}

func TestBadMagicAndVersion(t *testing.T) {
	b := mustEncode(t, smallModel(), WriteOptions{})
	c := append([]byte(nil), b...)
	copy(c, "EDGEINF1")
	if _, err := Decode(c); !errors.Is(err, ErrNotModel) || !strings.Contains(err.Error(), `"EDGEINF1", want "EDGEINFM"`) {
		t.Errorf("bad magic: %v", err)
	}
	for _, v := range []uint32{0, 2, 0xffffffff} {
		c := append([]byte(nil), b...)
		binary.LittleEndian.PutUint32(c[8:], v)
		_, err := Decode(fixChecksum(c))
		if !errors.Is(err, ErrVersion) || !strings.Contains(err.Error(), fmt.Sprintf("version %d (this build reads version 1)", v)) ||
			strings.Contains(err.Error(), "newer") != (v > 1) || !strings.Contains(err.Error(), "header at offset 8") {
			t.Errorf("version %d: %v", v, err)
		}
	}
}

// TestStructuralBytes patches fields of the hand-written file and fixes the checksum, so that the
// parser's and validator's checks must catch what the checksum no longer does.
func TestStructuralBytes(t *testing.T) {
	s := specSmall(false)
	off := func(name string) string { return fmt.Sprintf("at offset %d: ", s.at[name]) }
	cases := []struct {
		name string
		file []byte
		want []string
	}{
		{"reserved", s.put32("reserved", 1), []string{"header at offset 28: reserved field"}},
		{"graph length past end", s.put32("graphlen", 1<<31), []string{"header at offset 24: graph section of 2147483648 bytes exceeds"}},
		{"graph length short", s.put32("graphlen", uint32(s.at["preprocess"]-32)), []string{"preprocess " + off("preprocess"), "has preprocess: need 1 bytes, 0 remain"}},
		{"graph bytes left over", specSmall(true).b, []string{"graph at offset", "1 bytes left over"}},
		{"tensor count", s.put32("tensors.count", 0xffffffff), []string{"graph " + off("tensors.count"), "tensor count: count 4294967295 needs at least"}},
		{"name length", s.put32("t0.name", 0xfffffff0), []string{"tensor 0 " + off("t0.name"), "name: count 4294967280"}},
		{"shape count", s.put32("t0.shape", 1<<30), []string{"tensor 0 " + off("t0.shape"), "shape: count 1073741824"}},
		{"tensor flags", s.put8("t0.flags", 0x82), []string{"tensor 0 " + off("t0.flags"), "unknown flag bits 0x80"}},
		{"dtype", s.put8("t0.dtype", 9), []string{`tensor 0 "in" ` + off("t0"), "invalid dtype dtype(9)"}},
		{"misaligned blob", s.put64("t1.offset", uint64(s.at["blob"]+1)), []string{"tensor 1 " + off("t1.offset"), "not a multiple of 64"}},
		{"blob in graph", s.put64("t1.offset", 0), []string{"tensor 1 " + off("t1.offset"), "before the data area"}},
		{"blob past end", s.put64("t1.offset", 1<<62), []string{"runs past the end of the file"}},
		{"blob length overflow", s.put64("t1.length", math.MaxUint64-10), []string{"runs past the end of the file"}},
		{"blob length", s.put64("t1.length", 7), []string{`tensor 1 "w" ` + off("t1"), "data length 7, want 8 for int8 [2 4]"}},
		{"NaN scale", s.put32("t0.scale", 0x7fc00000), []string{`tensor 0 "in"`, "quantization: scale 0 is NaN"}},
		{"Inf scale", s.put32("t0.scale", 0x7f800000), []string{"scale 0 is +Inf"}},
		{"negative scale", s.put32("t0.scale", math.Float32bits(-1)), []string{"scale 0 is -1"}},
		{"zero point range", s.put32("t0.zero", 200), []string{"zero point 0 is 200, out of int8 range"}},
		{"per-channel axis", s.put32("t1.axis", 1), []string{`tensor 1 "w"`, "2 scales, want 1 or 4 (dimension 1)"}},
		{"per-channel axis range", s.put32("t1.axis", 5), []string{"per-channel axis 5 out of range for rank 2"}},
		{"op type", s.put32("op0.type", 200|1<<16), []string{`op 0 (op(200) "fc") ` + off("op0"), "unknown op type 200"}},
		{"op input range", s.put32("op0.in1", 7), []string{`op 0 (FullyConnected "fc") ` + off("op0"), "input 1: tensor 7 out of range [0, 3)"}},
		{"op input required", s.put32("op0.in0", 0xffffffff), []string{"input 0: absent (-1) but required"}},
		{"op input negative", s.put32("op0.in1", 0xfffffffe), []string{"input 1: tensor -2 out of range"}},
		{"op output range", s.put32("op0.out0", 3), []string{"output 0: tensor 3 out of range"}},
		{"op output const", s.put32("op0.out0", 1), []string{"output 0: tensor 1 is a constant"}},
		{"op output input", s.put32("op0.out0", 0), []string{"output 0: tensor 0 is a graph input"}},
		{"op activation", s.put8("op0.activation", 4), []string{"unknown activation(4)"}},
		{"op flags", s.put8("op0.flags", 0x20), []string{"op 0 " + off("op0.flags"), "unknown flag bits 0x20"}},
		{"op stride", s.put32("op0.stride", 0xffffffff), []string{"stride[0] is -1"}},
		{"op beta", s.put32("op0.beta", 0x7f800000), []string{"beta is +Inf"}},
		{"graph input range", s.put32("inputs.0", 3), []string{"inputs " + off("inputs"), "input 0: tensor 3 out of range [0, 3)"}},
		{"graph input const", s.put32("inputs.0", 1), []string{"input 0: tensor 1 is a constant"}},
		{"has preprocess", s.put8("preprocess", 2), []string{"preprocess " + off("preprocess"), "boolean is 2"}},
	}
	for _, tc := range cases {
		_, err := Decode(tc.file)
		if err == nil {
			t.Errorf("%s: Decode succeeded", tc.name)
			continue
		}
		var fe *FormatError
		if !errors.As(err, &fe) {
			t.Errorf("%s: %T is not a *FormatError", tc.name, err)
		}
		for _, w := range append(tc.want, "models: model: ") {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %v\n\tdoes not contain %q", tc.name, err, w)
			}
		}
		if errors.Is(err, ErrChecksum) {
			t.Errorf("%s: checksum error: the test did not reach the structural checks", tc.name)
		}
	}
}

// bigAxis does not fit i32 (a variable: the conversion to int wraps, rather than failing to
// compile, on 32-bit systems, where the case is skipped).
var bigAxis int64 = math.MaxInt32 + 1

// TestStructuralModels encodes invalid models without validating them (the checksum is right) and
// checks that Decode and Validate reject each for the right reason.
func TestStructuralModels(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(m *Model)
		want   string
	}{
		{"data length", func(m *Model) { m.Tensors[2].Data = m.Tensors[2].Data[:100] }, `tensor 2 "conv/w"`},
		{"huge shape", func(m *Model) { m.Tensors[4].Shape = []int{1 << 20, 1 << 20} }, "exceeds 2147483647 bytes"},
		{"negative dim", func(m *Model) { m.Tensors[4].Shape = []int{1, -8} }, "dimension 1 is -8"},
		{"no scale", func(m *Model) { m.Tensors[4].Quant.Scale = nil }, "quantization: no scale"},
		{"zero points", func(m *Model) { m.Tensors[5].Quant.ZeroPoint = []int32{0, 0, 0} }, "3 zero points, want 0, 1 or 8"},
		{"uint8 zero point", func(m *Model) { m.Tensors[0].Quant.ZeroPoint = []int32{-1} }, "zero point 0 is -1, out of uint8 range"},
		{"conv inputs", func(m *Model) { m.Ops[1].Inputs = []int{1} }, `op 1 (Conv2D "conv")`},
		{"add inputs", func(m *Model) { m.Ops[9].Inputs = []int{13, 14, 14} }, "3 inputs, want 2"},
		{"concat inputs", func(m *Model) { m.Ops[10].Inputs = nil }, "0 inputs, want at least 1"},
		{"two outputs", func(m *Model) { m.Ops[7].Outputs = []int{11, 12} }, "2 outputs, want 1"},
		{"optional not last", func(m *Model) { m.Ops[1].Inputs = []int{1, -1, 3} }, "input 1: absent (-1) but required"},
		{"produced twice", func(m *Model) { m.Ops[8].Outputs = []int{11} }, "output 0: tensor 11 is already produced by op 7"},
		{"not produced", func(m *Model) { m.Ops[13].Outputs = []int{16} }, "tensor 16 is already produced"},
		{"dangling", func(m *Model) { m.Tensors = append(m.Tensors, Tensor{Name: "x", Type: Int8}) }, `tensor 24 "x"`},
		{"order", func(m *Model) { m.Ops[3], m.Ops[4] = m.Ops[4], m.Ops[3] }, "tensor 7 is produced by op 4, not an earlier op: ops must be in execution order"},
		{"self loop", func(m *Model) { m.Ops[5].Inputs = []int{9} }, "tensor 9 is produced by op 5, not an earlier op"},
		{"odd paddings", func(m *Model) { m.Ops[5].Paddings = []int{1, 1, 1} }, "3 paddings"},
		{"dilation", func(m *Model) { m.Ops[2].Dilation[1] = -1 }, "dilation[1] is -1"},
		{"axis range", func(m *Model) { m.Ops[10].Axis = int(bigAxis) }, "axis 2147483648"},
		{"beta NaN", func(m *Model) { m.Ops[13].Beta = float32(math.NaN()) }, "beta is NaN"},
		{"no inputs", func(m *Model) { m.Inputs = nil }, "the model has no inputs"},
		{"no outputs", func(m *Model) { m.Outputs = nil }, "outputs"},
		{"output twice", func(m *Model) { m.Outputs = []int{20, 20} }, "output 1: tensor 20 listed twice"},
		{"output const", func(m *Model) { m.Outputs = []int{20, 18} }, "output 1: tensor 18 is a constant"},
		{"input twice", func(m *Model) { m.Inputs = []int{0, 0} }, "input 1: tensor 0 listed twice"},
		{"std", func(m *Model) { m.Preprocess.Std[1] = 0 }, "std [0.229 0 0.225]: must be > 0"},
		{"crop", func(m *Model) { m.Preprocess.CropFraction = 1.5 }, "crop fraction 1.5"},
		{"resize", func(m *Model) { m.Preprocess.Resize = "cubic" }, `unknown resize "cubic"`},
		{"mean NaN", func(m *Model) { m.Preprocess.Mean[0] = float32(math.Inf(-1)) }, "not finite"},
	}
	for _, tc := range cases {
		if tc.name == "axis range" && math.MaxInt == math.MaxInt32 {
			continue // every int fits i32 on 32-bit systems
		}
		m := fullModel()
		tc.mutate(m)
		err := m.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), `models: model "everything": `) || strings.Contains(err.Error(), "at offset") {
			t.Errorf("%s: Validate() = %v, want %q", tc.name, err, tc.want)
		}
		if err := Encode(&bytes.Buffer{}, m, WriteOptions{}); err == nil {
			t.Errorf("%s: Encode accepted an invalid model", tc.name)
		}
		if tc.name == "axis range" { // an int beyond i32 cannot be in a file: Validate only
			continue
		}
		var buf bytes.Buffer
		if err := encode(&buf, m, WriteOptions{}); err != nil {
			t.Fatalf("%s: encode: %v", tc.name, err)
		}
		_, err = Decode(buf.Bytes())
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), " at offset ") || errors.Is(err, ErrChecksum) {
			t.Errorf("%s: Decode = %v, want %q at an offset", tc.name, err, tc.want)
		}
	}
	var nilModel *Model
	if err := nilModel.Validate(); err == nil || err.Error() != "models: model: graph: nil model" {
		t.Errorf("nil model: %v", err)
	}
}

// FuzzDecode feeds arbitrary bytes to Decode as they are, then with the file length and checksum
// fields rewritten to match, so that the fuzzer explores the graph parser and the validity checks
// rather than stopping at the checksum (FORMAT.md §7). Whatever decodes must be valid and must
// survive an encode/decode round trip unchanged.
func FuzzDecode(f *testing.F) {
	for _, m := range []*Model{smallModel(), fullModel()} {
		f.Add(mustEncode(f, m, WriteOptions{}))
		f.Add(mustEncode(f, m, WriteOptions{Float16: true}))
	}
	f.Add(specSmall(true).b)
	f.Add([]byte(Magic))
	f.Fuzz(func(t *testing.T, b []byte) {
		Decode(b)
		fixed := append([]byte(nil), b...)
		if len(fixed) >= 24 {
			binary.LittleEndian.PutUint64(fixed[16:], uint64(len(fixed)))
		}
		fixChecksum(fixed)
		m, err := Decode(fixed)
		if err != nil {
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("error %T is not a *FormatError: %v", err, err)
			}
			return
		}
		if err := m.Validate(); err != nil {
			t.Fatalf("decoded model does not validate: %v", err)
		}
		var buf bytes.Buffer
		if err := Encode(&buf, m, WriteOptions{}); err != nil {
			t.Fatalf("decoded model does not encode: %v", err)
		}
		m2, err := Decode(buf.Bytes())
		if err != nil {
			t.Fatalf("re-encoded model does not decode: %v", err)
		}
		if !reflect.DeepEqual(m, m2) {
			t.Fatalf("round trip changed the model:\n%+v\n%+v", m, m2)
		}
	})
}

// BenchmarkDecode decodes a model with 4 MiB of int8 weights: the weights are not copied, so the
// allocations are those of the graph alone.
func BenchmarkDecode(b *testing.B) {
	const layers, width = 4, 1024
	m := &Model{Name: "bench"}
	m.Tensors = append(m.Tensors, Tensor{Name: "in", Type: Int8, Shape: []int{1, width}, Quant: &Quant{Scale: []float32{0.1}, ZeroPoint: []int32{0}}})
	prev := 0
	for l := range layers {
		w := make([]byte, width*width)
		for i := range w {
			w[i] = byte(i * (l + 7))
		}
		scales := make([]float32, width)
		for i := range scales {
			scales[i] = 0.001
		}
		m.Tensors = append(m.Tensors,
			Tensor{Name: fmt.Sprintf("w%d", l), Type: Int8, Shape: []int{width, width}, Quant: &Quant{Scale: scales, ZeroPoint: []int32{0}}, Data: w},
			Tensor{Name: fmt.Sprintf("b%d", l), Type: Int32, Shape: []int{width}, Data: make([]byte, 4*width)},
			Tensor{Name: fmt.Sprintf("a%d", l), Type: Int8, Shape: []int{1, width}, Quant: &Quant{Scale: []float32{0.1}, ZeroPoint: []int32{0}}})
		n := len(m.Tensors)
		m.Ops = append(m.Ops, Op{Type: OpFullyConnected, Name: fmt.Sprintf("fc%d", l), Inputs: []int{prev, n - 3, n - 2}, Outputs: []int{n - 1}, Activation: ActReLU})
		prev = n - 1
	}
	m.Inputs, m.Outputs = []int{0}, []int{prev}
	data := mustEncode(b, m, WriteOptions{})
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := Decode(data); err != nil {
			b.Fatal(err)
		}
	}
}
