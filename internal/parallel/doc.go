// Package parallel runs advbench's data-parallel loops: For cuts a loop
// into contiguous chunks that up to GOMAXPROCS workers (the caller and
// long-lived helper goroutines that spin briefly between loops) take as they
// free up; ForBlocks does the same for an element-wise loop cut into blocks;
// Sum adds up per-worker partial sums in a fixed order, so a reduction gives
// the same bits on every run. It imports nothing of advbench's.
package parallel
