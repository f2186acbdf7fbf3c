package credentials

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestGenerate(t *testing.T) {
	seen := map[string]bool{}
	for range 20 {
		c, err := Generate()
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(c.Username, UserPrefix) || len(c.Username) != len(UserPrefix)+UserSuffix {
			t.Errorf("username %q", c.Username)
		}
		if len(c.Password) != PasswordLen || strings.Trim(c.Password, alphanum) != "" {
			t.Errorf("password %q", c.Password)
		}
		if seen[c.Password] {
			t.Errorf("password %q drawn twice", c.Password)
		}
		seen[c.Password] = true
	}
}

// Every symbol of the alphabet can be drawn, and bytes past the last whole multiple of the
// alphabet's size are skipped rather than folded onto its first symbols.
func TestRandomStringUniform(t *testing.T) {
	src := make([]byte, 256)
	for i := range src {
		src[i] = byte(i)
	}
	s, err := randomString(bytes.NewReader(src), alphanum, 248)
	if err != nil {
		t.Fatal(err)
	}
	// 256 bytes, 62 symbols: 248 usable (0..247), each symbol exactly 4 times.
	for _, r := range alphanum {
		if n := strings.Count(s, string(r)); n != 4 {
			t.Errorf("%q drawn %d times, want 4", r, n)
		}
	}
	if _, err := randomString(bytes.NewReader(src[:10]), alphanum, 5); err == nil {
		t.Error("short random source: no error")
	}
}

func TestMarshalParse(t *testing.T) {
	c, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	data := c.Marshal("For the MQTT broker (port 1883) and the status page (port 9108).")
	if !bytes.HasPrefix(data, []byte("# edgeinfer appliance credentials")) {
		t.Errorf("file:\n%s", data)
	}
	path := filepath.Join(t.TempDir(), "credentials.yaml")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil || got != c {
		t.Fatalf("Load = %+v, %v; want %+v", got, err, c)
	}
	for _, tc := range []struct{ data, want string }{
		{"", "empty"},
		{"username: a\n", "want both"},
		{"username: a\npassword: short\n", "at least 12"},
		{"username: a:b\npassword: longenoughpassword\n", "must not contain ':'"},
		{"user: a\npassword: longenoughpassword\n", "field user not found"},
		{"username: [\n", "credentials: f.yaml:"},
	} {
		_, err := Parse("f.yaml", []byte(tc.data))
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "credentials: ") {
			t.Errorf("Parse(%q) = %v, want an error with %q", tc.data, err, tc.want)
		}
	}
	if _, err := Load(filepath.Join(t.TempDir(), "none")); err == nil || !strings.Contains(err.Error(), "credentials: ") {
		t.Errorf("missing file: %v", err)
	}
}

func TestCheck(t *testing.T) {
	c := Credentials{Username: "edgeinfer-abc123", Password: "0123456789abcdef"}
	for _, tc := range []struct {
		u, p string
		want bool
	}{
		{c.Username, c.Password, true},
		{c.Username, "", false},
		{"", c.Password, false},
		{c.Username, c.Password + "x", false},
		{c.Username, c.Password[:len(c.Password)-1], false},
		{"edgeinfer-abc124", c.Password, false},
		{c.Password, c.Username, false},
	} {
		if got := c.Check([]byte(tc.u), []byte(tc.p)); got != tc.want {
			t.Errorf("Check(%q, %q) = %v", tc.u, tc.p, got)
		}
	}
	if (Credentials{}).Check(nil, nil) {
		t.Error("empty credentials accept an empty pair")
	}
}
