package main

import "github.com/urfave/cli/v2"

// newModelCommand groups the model subcommands.
func newModelCommand() *cli.Command {
	return &cli.Command{
		Name:  "model",
		Usage: "describe the PreAct ResNet-18 and its norm slots",
		Subcommands: []*cli.Command{
			newModelSummaryCommand(),
		},
	}
}
