package main

import (
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/urfave/cli/v2"
)

// formatFlags returns every --format flag of cmds and their subcommands, by
// the command's full name.
func formatFlags(t *testing.T, prefix string, cmds []*cli.Command) map[string]*cli.StringFlag {
	t.Helper()
	found := map[string]*cli.StringFlag{}
	for _, c := range cmds {
		name := prefix + c.Name
		for _, f := range c.Flags {
			if f.Names()[0] != "format" {
				continue
			}
			sf, ok := f.(*cli.StringFlag)
			require.True(t, ok, "%s: --format is a %T", name, f)
			found[name] = sf
		}
		for k, v := range formatFlags(t, name+" ", c.Subcommands) {
			found[k] = v
		}
	}
	return found
}

// TestFormatVocabulary: every command that prints results names its
// renderings with the same words (table for reading, the default, and json
// for data), and says that the old "text" still works.
func TestFormatVocabulary(t *testing.T) {
	flags := formatFlags(t, "", newApp(io.Discard, io.Discard).Commands)
	want := []string{"bench", "data inspect", "data verify", "eval", "eval tables", "gradstats", "model summary", "regress", "train"}
	for _, name := range want {
		f, ok := flags[name]
		if !assert.True(t, ok, "%s has no --format", name) {
			continue
		}
		assert.Equal(t, "table", f.Value, "%s: default", name)
		assert.Regexp(t, `^result format: table(, [a-z]+)*( or [a-z]+)? \("text" is an old name for table\)$`, f.Usage, name)
		assert.Contains(t, f.Usage, "json", name)
	}
	assert.Len(t, flags, len(want), "commands with --format: %v", flags)
}

// TestFormatTextAlias: --format text, the old name of the table, prints
// what --format table prints and warns on stderr, in a command whose
// vocabulary said "text" and in one whose said "table".
func TestFormatTextAlias(t *testing.T) {
	args := []string{"model", "summary", "--norm", "bn", "--width", "0.0625"}
	code, table, stderr := runCLI(t, append(args, "--format", "table")...)
	require.Equal(t, exitOK, code, stderr)
	assert.Empty(t, stderr)
	assert.Contains(t, table, "layer4.1.conv2")
	code, text, stderr := runCLI(t, append(args, "--format", "text")...)
	require.Equal(t, exitOK, code, stderr)
	assert.Equal(t, table, text)
	assert.Equal(t, "advbench: --format text is deprecated; use --format table\n", stderr)

	// regress --reband checks --format before it reads the baseline.
	code, _, stderr = runCLI(t, "regress", "--baseline", "/nonexistent/base.json", "--reband", "--format", "text")
	assert.Equal(t, exitFailure, code, stderr)
	assert.Contains(t, stderr, "/nonexistent/base.json")
	assert.Contains(t, stderr, "--format text is deprecated")

	code, _, stderr = runCLI(t, "model", "summary", "--format", "xml")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, `--format "xml": want table or json`)
}
