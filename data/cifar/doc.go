// Package cifar reads, writes, verifies and downloads CIFAR-10 in its official
// binary layout: records of 3073 bytes, one label byte (0..9) followed by
// 1024 red, 1024 green and 1024 blue bytes of a row-major 32x32 image.
//
// A Dataset keeps the raw bytes (uint8, CHW per record); callers convert
// batches to float32 in [0,1] NCHW with Dataset.Float32. Every error names the
// file, the record index where one applies, and the problem, and is prefixed
// with "cifar:". Nothing in this package panics on bad input.
package cifar
