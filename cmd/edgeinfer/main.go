// Command edgeinfer runs int8 image classifiers on Raspberry Pi-class boards: classify images,
// inspect and convert models, download known models.
//
// Each subcommand lives in its own file; main only dispatches. See README.md.
//
// With no --model, run, classify and firmware build use the ImageNet mobilenet_v2_1.0_224_quant
// (models/zoo.Default): taken from the cache, or fetched into it once and verified by SHA-256,
// from $EDGEINFER_MODELS_URL (a URL, a file:// URL or a directory) or the public default. Each
// step of reaching the server is bounded by 5 s (download.ConnectTimeout), so offline the
// embedded CIFAR-10 model takes over within seconds, with one WARN line saying what was tried and
// how to fix it (modelOrDefault). classify prints the best label groups (models/zoo/GROUPS.md)
// after the best classes.
//
// Exit codes: 0 success (and -h), 1 failure, 2 usage error (a bad flag, a flag value out of
// range, an unknown architecture, a model and data set with different class counts), 130
// interrupted.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
)

// env is what a subcommand may touch of the process: tests run the CLI in-process with their own.
type env struct {
	stdout, stderr io.Writer
	log            *slog.Logger
	getenv         func(string) string
}

type command struct {
	summary string
	run     func(ctx context.Context, e *env, args []string) error
}

var commands = map[string]command{}

// usageError is a mistake in the command line: exit code 2 and a hint.
type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	e := &env{stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv,
		log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))}
	os.Exit(run(ctx, e, os.Args[1:]))
}

// run executes one command line and returns the exit code.
func run(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printUsage(e.stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	if args[0] == "--version" {
		args = append([]string{"version"}, args[1:]...)
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(e.stderr, "edgeinfer: unknown command %q\n\n", args[0])
		printUsage(e.stderr)
		return 2
	}
	err := cmd.run(ctx, e, args[1:])
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(e.stderr, "edgeinfer %s: %v\nRun 'edgeinfer %s -h' for usage.\n", args[0], err, args[0])
		return 2
	case errors.Is(err, context.Canceled):
		fmt.Fprintf(e.stderr, "edgeinfer %s: interrupted\n", args[0])
		return 130
	default:
		fmt.Fprintf(e.stderr, "edgeinfer %s: %s\n", args[0], errorText(err))
		return 1
	}
}

// pkgPrefixes are the package names that the libraries put before their errors: the user needs
// the file and what went wrong, not which package noticed.
var pkgPrefixes = []string{"camera: ", "models: ", "tflite: ", "load: ", "dataset: ", "zoo: ", "download: ", "onnx: ",
	"tflitegraph: ", "quantize: ", "calibrate: ", "transform: ", "graph: ", "report: ", "runtime: ", "pipeline: "}

// errorText is err as one-shot commands print it after "edgeinfer CMD: ": "FILE: what went wrong".
// Package prefixes are dropped and an operating-system error on a file reads "PATH: reason" (not
// "open PATH: reason").
func errorText(err error) string {
	s := err.Error()
	var pe *fs.PathError
	if errors.As(err, &pe) {
		s = strings.Replace(s, pe.Error(), pe.Path+": "+pe.Err.Error(), 1)
	}
	return trimPkgPrefixes(s)
}

// trimPkgPrefixes drops the package prefixes (pkgPrefixes) at the start of s.
func trimPkgPrefixes(s string) string {
	for again := true; again; {
		again = false
		for _, p := range pkgPrefixes {
			if strings.HasPrefix(s, p) {
				s, again = s[len(p):], true
			}
		}
	}
	return s
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "usage: edgeinfer COMMAND [flags] [args]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'edgeinfer COMMAND -h' for a command's flags.")
}

// newFlags makes a flag set that reports errors instead of exiting, printing usage to e.stderr.
func newFlags(e *env, name, argsUsage string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "usage: edgeinfer %s [flags] %s\n", name, argsUsage)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags, turning errors into usage errors. Flags may follow arguments.
func parse(fs *flag.FlagSet, args []string) error {
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return err
			}
			return usageError{err.Error()}
		}
		if fs.NArg() == 0 {
			break
		}
		rest = append(rest, fs.Arg(0))
		args = fs.Args()[1:]
	}
	return fs.Parse(append([]string{"--"}, rest...))
}
