package main

import (
	"context"
	"fmt"

	"github.com/edgeinfer/edgeinfer/models/zoo"
)

func init() {
	commands["models"] = command{"list known models, or pull one into the cache (models pull NAME)", runModels}
}

func runModels(ctx context.Context, e *env, args []string) error {
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
	base := fs.String("base-url", "", "where to download from (default "+zoo.DefaultBaseURL+", or $EDGEINFER_MODELS_URL)")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usagef("no model name given (see 'edgeinfer models list')")
	}
	url := *base
	if url == "" {
		url = e.getenv("EDGEINFER_MODELS_URL")
	}
	if url == "" {
		url = zoo.DefaultBaseURL
	}
	if url[len(url)-1] != '/' {
		url += "/"
	}
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
			return err
		}
		fmt.Fprintf(e.stdout, "%s -> %s\n", m.Name, path)
	}
	return nil
}
