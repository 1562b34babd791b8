// Package version holds advbench's version, written into results and checkpoints.
package version

// Version is the advbench release this code is.
const Version = "0.1.0-dev"
