// Package cifar reads, writes, verifies and downloads CIFAR-10. It reads
// both official releases: the binary one, records of 3073 bytes, one label
// byte (0..9) followed by 1024 red, 1024 green and 1024 blue bytes of a
// row-major 32x32 image; and the python one (what torchvision reads), each
// batch a pickled dict of a uint8 numpy array of the same image bytes and a
// list of labels, decoded without running any of the pickle's code. Either
// is read as a directory of batch files, a directory holding the directory
// a tarball unpacks to, a single batch file (one split), or the tarball
// itself, streamed without unpacking. The same records in any of these
// give the same Dataset.
//
// A Dataset keeps the raw bytes (uint8, CHW per record); callers convert
// batches to float32 in [0,1] NCHW with Dataset.Float32. Every error names the
// file (and the tarball's member), the record index where one applies, and
// the problem, and is prefixed with "cifar:". Nothing in this package panics
// on bad input.
package cifar
