package main

import (
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/advbench/advbench/data/cifar"
	"github.com/advbench/advbench/internal/progress"
	"github.com/urfave/cli/v2"
)

type dataDownloadOptions struct {
	Dir string
	URL string
}

func newDataDownloadCommand() *cli.Command {
	var opts dataDownloadOptions
	return &cli.Command{
		Name:  "download",
		Usage: "download the official CIFAR-10 binary release",
		Description: `Downloads cifar-10-binary.tar.gz, checks its md5, extracts the six .bin files
and checks each one's sha256 before moving it into --dir. An interrupted or
corrupt download leaves nothing in --dir. Progress goes to stderr.

Example:
  advbench data download --dir ~/data/cifar10
  advbench train --data ~/data/cifar10`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "dir", Value: "cifar10", Usage: "directory to put the .bin files in (created if needed)", Destination: &opts.Dir},
			&cli.StringFlag{Name: "url", Value: cifar.Official.URL, Usage: "where to fetch the tarball (a mirror of the same file; its md5 is still checked)", Destination: &opts.URL},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 0 {
				return usagef("data download: unexpected argument %q (use --dir)", c.Args().First())
			}
			return runDataDownload(c.Context, opts, c.App.Writer, c.App.ErrWriter)
		},
	}
}

func runDataDownload(ctx context.Context, opts dataDownloadOptions, stdout, stderr io.Writer) error {
	src := cifar.Official
	src.URL = opts.URL
	bar := progress.New(stderr, "download", 0, "B")
	var last int64
	err := cifar.Download(ctx, http.DefaultClient, src, opts.Dir, func(done, total int64) {
		if total > 0 {
			bar.SetTotal(float64(total))
		}
		last = done
		bar.Update(float64(done))
	})
	bar.Done(float64(last))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "downloaded and verified %d files into %s\n", len(src.Members), opts.Dir)
	return nil
}
