// Package conv holds advbench's convolution kernels: the three passes of a
// square-kernel, zero-padded, bias-free 2-D convolution over a batch in NCHW
// layout (Forward, BackwardData for the input gradient, BackwardWeight for
// the weight gradient), for a geometry Geom, in float32 and float64. nn's
// Conv2d op calls them; this package knows nothing of graphs.
//
// Float32 on a CPU where internal/sgemm has an assembly micro-kernel takes
// the fast path (fast.go), which never builds a patch matrix: the weights
// are packed once per call, and the micro-kernel reads the patches in place
// from zero-padded copies of a chunk of images through a table of tap
// offsets (padded channels are split into stride² phase planes, so strided
// convolutions and 8- or 4-wide output rows are read in place too), or packs
// them from there where it cannot; products go straight into the output
// batch. The stride-1 input gradient is the forward pass of the output
// gradient with the flipped, transposed kernel; the stride-2 one (even input
// sizes) is four such products, one per pixel parity, over the taps of that
// parity; other shapes add Wᵀ·dy back into the padded images along the runs
// the forward pass reads. The weight gradient reads both operands in place
// (on AVX-512, for few weights and 16k-wide output rows, as 4x6 tiles of dot
// products along the positions with no packing at all), each worker summing
// its chunks and the workers' sums added in a fixed order. Padded chunks, packed weights, scratch buffers and
// per-geometry tables are kept between calls.
//
// Everything else (float64 for gradient checks, float32 without an assembly
// kernel) takes the im2col path (im2col.go): the patch matrix of a chunk of
// images, multiplied with internal/gemm, added back with col2im for the
// input gradient. The tests hold the im2col path to the convolution's
// definition and the fast path to the im2col path.
//
// Chunks of images (at least 512 output positions each) run in parallel on
// internal/parallel's workers. The package imports only advbench's internal
// numeric packages (sgemm, gemm, vec, parallel).
package conv
