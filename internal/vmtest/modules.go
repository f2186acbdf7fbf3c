package vmtest

import (
	"bufio"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// moduleDB is a kernel's lib/modules/<version> directory as modules.dep and modules.builtin describe it.
type moduleDB struct {
	dir     string              // on the host
	version string              // the directory's base name
	deps    map[string][]string // module path (relative to dir) -> its dependencies' paths
	paths   map[string]string   // module name -> path
	builtin map[string]bool     // names of modules built into the kernel
}

// guestModule is one module to load in the guest.
type guestModule struct {
	Name       string `json:"name"`
	Path       string `json:"path"` // in the guest
	Params     string `json:"params,omitempty"`
	Compressed bool   `json:"compressed,omitempty"` // needs MODULE_INIT_COMPRESSED_FILE
	src        string // on the host
}

// moduleName turns a module's file name or user-given name into the kernel's name for it:
// "kernel/drivers/gpio/gpio-pl061.ko.xz" and "gpio-pl061" are both "gpio_pl061".
func moduleName(p string) string {
	n := path.Base(p)
	if i := strings.Index(n, ".ko"); i >= 0 {
		n = n[:i]
	}
	return strings.ReplaceAll(n, "-", "_")
}

// loadModuleDB reads dir/modules.dep and, if present, dir/modules.builtin.
func loadModuleDB(dir string) (*moduleDB, error) {
	db := &moduleDB{
		dir:     dir,
		version: filepath.Base(dir),
		deps:    map[string][]string{},
		paths:   map[string]string{},
		builtin: map[string]bool{},
	}
	depPath := filepath.Join(dir, "modules.dep")
	f, err := os.Open(depPath)
	if err != nil {
		return nil, fmt.Errorf("vmtest: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		mod, deps, ok := strings.Cut(text, ":")
		if !ok || mod == "" {
			return nil, fmt.Errorf("vmtest: %s:%d: want \"module: deps...\", got %q", depPath, line, text)
		}
		mod = db.rel(mod)
		var ds []string
		for _, d := range strings.Fields(deps) {
			ds = append(ds, db.rel(d))
		}
		db.deps[mod] = ds
		db.paths[moduleName(mod)] = mod
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("vmtest: %s: %w", depPath, err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "modules.builtin")); err == nil {
		for _, p := range strings.Fields(string(b)) {
			db.builtin[moduleName(p)] = true
		}
	}
	return db, nil
}

// rel makes a modules.dep path relative to the module directory (old depmods wrote absolute paths).
func (db *moduleDB) rel(p string) string {
	if !path.IsAbs(p) {
		return p
	}
	if i := strings.Index(p, "/"+db.version+"/"); i >= 0 {
		return p[i+len(db.version)+2:]
	}
	return strings.TrimPrefix(p, "/")
}

// resolve turns requests ("name param=value ...") into the modules to load, dependencies first, each
// once. Built-in modules are left out.
func (db *moduleDB) resolve(reqs []string) ([]guestModule, error) {
	var out []guestModule
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(rel, params string, chain []string) error
	visit = func(rel, params string, chain []string) error {
		switch state[rel] {
		case 1:
			return fmt.Errorf("vmtest: modules.dep in %s has a cycle: %s -> %s", db.dir, strings.Join(chain, " -> "), rel)
		case 2:
			return nil
		}
		deps, ok := db.deps[rel]
		if !ok {
			return fmt.Errorf("vmtest: %s (needed by %s) is not in %s/modules.dep", rel, strings.Join(chain, " -> "), db.dir)
		}
		state[rel] = 1
		for _, d := range deps {
			if err := visit(d, "", append(chain, rel)); err != nil {
				return err
			}
		}
		state[rel] = 2
		out = append(out, guestModule{
			Name:       moduleName(rel),
			Path:       path.Join("/lib/modules", db.version, rel),
			Params:     params,
			Compressed: !strings.HasSuffix(rel, ".ko"),
			src:        filepath.Join(db.dir, filepath.FromSlash(rel)),
		})
		return nil
	}
	for _, req := range reqs {
		fields := strings.Fields(req)
		if len(fields) == 0 {
			return nil, fmt.Errorf("vmtest: empty module request")
		}
		name := moduleName(fields[0])
		if db.builtin[name] {
			continue
		}
		rel, ok := db.paths[name]
		if !ok {
			return nil, fmt.Errorf("vmtest: module %q is not in %s/modules.dep", fields[0], db.dir)
		}
		if state[rel] == 2 && len(fields) > 1 {
			return nil, fmt.Errorf("vmtest: module %q has parameters but is already loaded as a dependency of an earlier module; request it first", fields[0])
		}
		if err := visit(rel, strings.Join(fields[1:], " "), nil); err != nil {
			return nil, err
		}
	}
	return out, nil
}
