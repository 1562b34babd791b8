package main

import (
	"github.com/urfave/cli/v2"
)

// formatFlag is the --format flag of commands that print results.
func formatFlag(dst *string) cli.Flag {
	return &cli.StringFlag{
		Name:        "format",
		Usage:       "result format: text (a table) or json (data)",
		Value:       "text",
		Destination: dst,
	}
}

func checkFormat(f string) error {
	if f != "text" && f != "json" {
		return usagef("--format %q: want text or json", f)
	}
	return nil
}
