package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/edgeinfer/edgeinfer/internal/download"
	"github.com/edgeinfer/edgeinfer/models/zoo"
)

func init() {
	commands["models"] = command{"list known models, or pull one into the cache (models pull NAME)", runModels}
}

const modelsUsage = `usage: edgeinfer models [list]
       edgeinfer models pull [--base-url URL|file:///DIR|DIR] NAME...

list shows the embedded models and the known public ones, and where they are cached
($EDGEINFER_CACHE/models, else the user cache directory). pull fetches public models into the
cache and verifies their SHA-256; --base-url (or $EDGEINFER_MODELS_URL) names a mirror: an
http(s):// URL, or a file:// URL or a plain directory holding copies of the files.
`

func runModels(ctx context.Context, e *env, args []string) error {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
		fmt.Fprint(e.stderr, modelsUsage)
		return flag.ErrHelp
	}
	if len(args) > 1 && args[0] == "list" {
		if args[1] == "-h" || args[1] == "--help" {
			fmt.Fprint(e.stderr, modelsUsage)
			return flag.ErrHelp
		}
		return usagef("models list takes no arguments")
	}
	if len(args) == 0 || args[0] == "list" {
		dir, err := zoo.CacheDir()
		if err != nil {
			return err
		}
		fmt.Fprintln(e.stdout, "embedded (no download; the first is the default):")
		for _, b := range zoo.Builtins {
			fmt.Fprintf(e.stdout, "  %-30s %s\n", b.Name, b.Description)
		}
		fmt.Fprintf(e.stdout, "public, pulled into %s:\n", dir)
		for _, m := range zoo.Public {
			state := "not pulled"
			if p, ok := m.Cached(dir); ok {
				state = "pulled: " + p
			}
			fmt.Fprintf(e.stdout, "  %-30s %s [%s]\n", m.Name, m.Description, state)
		}
		return nil
	}
	if args[0] != "pull" {
		return usagef("unknown subcommand %q (list or pull)", args[0])
	}
	fs := newFlags(e, "models pull", "NAME...")
	base := fs.String("base-url", "", "where to fetch from: an http(s):// URL, or a mirror as a file:// URL or a directory holding the files (default $EDGEINFER_MODELS_URL, else "+zoo.DefaultBaseURL+")")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usagef("no model name given (see 'edgeinfer models list')")
	}
	url := modelsBase(e, *base)
	dir, err := zoo.CacheDir()
	if err != nil {
		return err
	}
	for _, name := range fs.Args() {
		m, ok := zoo.Lookup(name)
		if !ok {
			return fmt.Errorf("unknown model %q (see 'edgeinfer models list')", name)
		}
		path, err := zoo.Pull(ctx, m, url, dir, e.stderr)
		if err != nil {
			if download.IsRemote(url) && !errors.Is(err, zoo.ErrChecksum) && ctx.Err() == nil {
				return fmt.Errorf("%s: %s (offline? pull from a mirror holding %s and %s: --base-url file:///DIR or DIR, or EDGEINFER_MODELS_URL)",
					m.Name, trimPrefixes(err.Error()), m.File, m.Labels)
			}
			return fmt.Errorf("%s: %s", m.Name, trimPrefixes(err.Error()))
		}
		fmt.Fprintf(e.stdout, "%s -> %s\n", m.Name, path)
	}
	return nil
}
