package sgemm

import "golang.org/x/sys/cpu"

// kernel6x16 is the AVX2/FMA micro-kernel (kernel_amd64.s).
//
//go:noescape
func kernel6x16(k int, a, b, c *float32, ldc int)

// kernel6x16ind is kernel6x16 reading B in place through an offset table,
// each row as segs runs dist floats apart (kernel_amd64.s).
//
//go:noescape
func kernel6x16ind(k int, a, b *float32, offs *int32, c *float32, ldc, segs, dist int)

// kernel16x16 is the AVX-512 micro-kernel with a 16-row tile: channel
// counts (64, 128, 256, 512) are whole multiples of it, so no edge tile
// computes padding rows (kernel_amd64.s).
//
//go:noescape
func kernel16x16(k int, a, b, c *float32, ldc int)

// kernel16x16ind is kernel16x16 reading B in place through an offset
// table, each row as segs runs dist floats apart (kernel_amd64.s).
//
//go:noescape
func kernel16x16ind(k int, a, b *float32, offs *int32, c *float32, ldc, segs, dist int)

// gather16 is Gather16's AVX-512 loop (kernel_amd64.s).
//
//go:noescape
func gather16(dst, src *float32, offs *int32, n int)

// transpose16 is Gather16's AVX-512 loop over whole 16-column blocks:
// contiguous loads transposed in registers (kernel_amd64.s).
//
//go:noescape
func transpose16(dst, src *float32, offs *int32, blocks int)

// transpose8 is Gather16's AVX2 loop over whole 8-column blocks: two 8x8
// transposes in registers per block (kernel_amd64.s).
//
//go:noescape
func transpose8(dst, src *float32, offs *int32, blocks int)

// hasAVX512 says whether gather16 and transpose16 can run here, hasAVX2
// whether transpose8 can.
var (
	hasAVX512 = cpu.X86.HasAVX512F
	hasAVX2   = cpu.X86.HasAVX2
)

func asmKernels() []Kernel {
	var ks []Kernel
	if cpu.X86.HasAVX512F {
		ks = append(ks, Kernel{Name: "avx512", MR: 16, fn: asm(16, kernel16x16), ind: indirect(16, kernel16x16ind)})
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		ks = append(ks, Kernel{Name: "avx2", MR: 6, fn: asm(6, kernel6x16), ind: indirect(6, kernel6x16ind)})
	}
	return ks
}

// asm wraps an assembly kernel with the bounds checks it cannot do itself.
func asm(mr int, f func(k int, a, b, c *float32, ldc int)) func(k int, a, b, c []float32, ldc int) {
	return func(k int, a, b, c []float32, ldc int) {
		_ = a[k*mr-1]
		_ = b[k*nr-1]
		_ = c[(mr-1)*ldc+nr-1]
		f(k, &a[0], &b[0], &c[0], ldc)
	}
}

// indirect wraps an in-place assembly kernel of mr rows with the bounds
// checks it cannot do itself; hi is the largest of offs.
func indirect(mr int, f func(k int, a, b *float32, offs *int32, c *float32, ldc, segs, dist int)) func(k int, a, b []float32, offs []int32, hi int, seg Segments, c []float32, ldc int) {
	return func(k int, a, b []float32, offs []int32, hi int, seg Segments, c []float32, ldc int) {
		if k == 0 {
			return
		}
		if seg.N != 1 && seg.N != 2 && seg.N != 4 || seg.N > 1 && seg.Dist < nr/seg.N {
			panic("sgemm: bad B segments")
		}
		_ = a[k*mr-1]
		_ = offs[k-1]
		_ = b[hi+(seg.N-1)*seg.Dist+nr/seg.N-1]
		_ = c[(mr-1)*ldc+nr-1]
		f(k, &a[0], &b[0], &offs[0], &c[0], ldc, seg.N, seg.Dist)
	}
}

// dot4x6 is DotTile's AVX-512 kernel (dot_amd64.s).
//
//go:noescape
func dot4x6(n int, a *float32, lda int, aoff *int32, b *float32, boff *int32, rows *int32, c *float32)

// HasDotTile says whether DotTile runs on its AVX-512 kernel here (callers
// choose it over the packed GEMM only then).
var HasDotTile = cpu.X86.HasAVX512F
