package main

import "github.com/urfave/cli/v2"

// newDataCommand groups the dataset subcommands.
func newDataCommand() *cli.Command {
	return &cli.Command{
		Name:  "data",
		Usage: "verify, download, generate and look at datasets",
		Description: `CIFAR-10 is read in either official release: the binary one (records of 3073
bytes, a label byte 0-9 then 1024 red, 1024 green and 1024 blue bytes of a
32x32 image) or the python one torchvision reads (pickled numpy arrays of the
same bytes, decoded without running any code of the pickle). A dataset path is
a directory holding data_batch_1 .. data_batch_5 and test_batch (.bin files or
pickles), a directory holding cifar-10-batches-bin or cifar-10-batches-py,
cifar-10-binary.tar.gz or cifar-10-python.tar.gz itself (read without
unpacking), or a single batch file, which is one split only.`,
		Subcommands: []*cli.Command{
			newDataVerifyCommand(),
			newDataDownloadCommand(),
			newDataSynthCommand(),
			newDataInspectCommand(),
		},
	}
}
