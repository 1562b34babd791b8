// Package rundir names every path of a run directory and of a
// reproduction's directory, and resolves a checkpoint selection ("last",
// "best", "reference", "epoch-NNN") to its file; it also holds the one
// error every long job returns when it is interrupted (ErrInterrupted). It
// imports nothing of advbench's, so that train (which writes a run), evaluate
// (which writes its results), study (which reads both) and the command
// line all spell the layout from here:
//
//	RUN_DIR/
//	  config.json               what the run computes, and on which data
//	  log.jsonl                 one line per finished epoch
//	  landscape.jsonl           one line per probed training step (package landscape)
//	  seen-images.fp64          fingerprints of the images it trained and validated on
//	  checkpoints/
//	    last.safetensors        the latest position (resume from here)
//	    best.safetensors        the best validation robust accuracy so far
//	    epoch-NNN.safetensors   after 0-based epoch NNN
//	  results/
//	    BRANCH.json             an evaluation of a branch (clean, adv, shared)
//	    sweep-BRANCH.json       accuracy against eps of a branch
//	    gradstats.json          gradient statistics
//	    landscape-CKPT.jsonl    the landscape probe of checkpoint CKPT
//
// A checkpoint file outside a run keeps its results in a results folder
// beside it; a reproduction's directory holds plan.json and one run
// directory per cell.
package rundir
