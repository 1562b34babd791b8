package main

import "github.com/urfave/cli/v2"

// newDataCommand groups the dataset subcommands.
func newDataCommand() *cli.Command {
	return &cli.Command{
		Name:  "data",
		Usage: "verify, download, generate and look at datasets",
		Description: `CIFAR-10 is read in its official binary layout: records of 3073 bytes, a label
byte (0-9) then 1024 red, 1024 green and 1024 blue bytes of a 32x32 image. A
dataset path is a directory holding data_batch_1.bin .. data_batch_5.bin and
test_batch.bin, or a single such file.`,
		Subcommands: []*cli.Command{
			newDataVerifyCommand(),
			newDataDownloadCommand(),
			newDataSynthCommand(),
			newDataInspectCommand(),
		},
	}
}
