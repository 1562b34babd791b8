package main

import (
	"fmt"
	"io"

	"github.com/advbench/advbench/data/cifar"
	"github.com/advbench/advbench/internal/texttable"
	"github.com/urfave/cli/v2"
)

type dataVerifyOptions struct {
	Path   string
	Format string
}

func newDataVerifyCommand() *cli.Command {
	var opts dataVerifyOptions
	return &cli.Command{
		Name:      "verify",
		Usage:     "check CIFAR-10 files against the official release",
		ArgsUsage: "DIR|TARBALL|FILE",
		Description: `For a directory or a tarball, checks the six batch files of its release's
layout; for a file, that file. Each file is decoded (whole 3072-byte images,
one label 0-9 each) and its records are compared with the official ones of
its name (the sha256 of their binary layout; the python release holds the
same records). A file can be readable but not official (a subset, say): that
is reported, not an error.

Exit code 1 when any file is missing or unreadable.

Example:
  advbench data verify ../shared/cifar10`,
		Flags: []cli.Flag{formatFlag(&opts.Format, tableJSON)},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usagef("data verify: want one DIR or FILE argument, got %d", c.NArg())
			}
			opts.Path = c.Args().First()
			return runDataVerify(opts, c.App.Writer)
		},
	}
}

func runDataVerify(opts dataVerifyOptions, stdout io.Writer) error {
	if err := checkFormat(opts.Format, tableJSON); err != nil {
		return err
	}
	reps, err := cifar.Verify(opts.Path)
	if err != nil {
		return err
	}
	bad := 0
	for _, r := range reps {
		if r.Problem != "" {
			bad++
		}
	}
	if opts.Format == formatJSON {
		if err := printJSON(stdout, reps); err != nil {
			return err
		}
	} else {
		t := texttable.New(stdout)
		t.Header("file", "records", "official", "sha256", "problem")
		for _, r := range reps {
			off := "no"
			if r.Official {
				off = "yes"
			}
			t.Append(r.Name, fmt.Sprint(r.Records), off, r.SHA256, r.Problem)
		}
		if err := t.Render(); err != nil {
			return err
		}
	}
	if bad > 0 {
		return fmt.Errorf("data verify: %d of %d files missing or unreadable", bad, len(reps))
	}
	return nil
}
