package sgemm

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// kernel6x16 is the AVX2/FMA micro-kernel (kernel_amd64.s), run on panels
// consecutive 6-row panels of A and C against one B panel (one call per
// column of tiles); like every AVX2 kernel it writes the tile over C
// instead of adding it when set is 1.
//
//go:noescape
func kernel6x16(k int, a, b, c *float32, ldc, set, panels int)

// kernel6x16ind is kernel6x16 reading B in place through an offset table,
// each row as segs runs dist floats apart (kernel_amd64.s).
//
//go:noescape
func kernel6x16ind(k int, a, b *float32, offs *int32, c *float32, ldc, segs, dist, set, panels int)

// kernel4x16 and kernel2x16 are kernel6x16 for the first 4 or 2 rows of
// the tile, reading the same 6-row packed A (kernel_amd64.s).
//
//go:noescape
func kernel4x16(k int, a, b, c *float32, ldc, set int)

//go:noescape
func kernel2x16(k int, a, b, c *float32, ldc, set int)

// kernel4x16ind and kernel2x16ind are kernel6x16ind for the first 4 or 2
// rows of the tile (kernel_amd64.s).
//
//go:noescape
func kernel4x16ind(k int, a, b *float32, offs *int32, c *float32, ldc, segs, dist, set int)

//go:noescape
func kernel2x16ind(k int, a, b *float32, offs *int32, c *float32, ldc, segs, dist, set int)

// kernel16x16 is the AVX-512 micro-kernel with a 16-row tile: channel
// counts (64, 128, 256, 512) are whole multiples of it, so no edge tile
// computes padding rows (kernel_amd64.s). Like the AVX2 kernels it runs
// panels consecutive panels a call and writes the tile over C when set is
// 1.
//
//go:noescape
func kernel16x16(k int, a, b, c *float32, ldc, set, panels int)

// kernel16x16ind is kernel16x16 reading B in place through an offset
// table, each row as segs runs dist floats apart (kernel_amd64.s).
//
//go:noescape
func kernel16x16ind(k int, a, b *float32, offs *int32, c *float32, ldc, segs, dist, set, panels int)

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
		ks = append(ks, Kernel{Name: "avx512", MR: 16, fn: asm(16, 16, kernel16x16),
			ind: indirect(16, 16, kernel16x16ind)})
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		ks = append(ks, Kernel{Name: "avx2", MR: 6, fn: asm(6, 6, kernel6x16), ind: indirect(6, 6, kernel6x16ind),
			part: map[int]kernelPart{
				4: {asm(6, 4, perPanel(6, kernel4x16)), indirect(6, 4, perPanelInd(6, kernel4x16ind))},
				2: {asm(6, 2, perPanel(6, kernel2x16)), indirect(6, 2, perPanelInd(6, kernel2x16ind))},
			}})
	}
	return ks
}

// asm wraps an assembly kernel that runs panels mr-row panels in a call,
// the last writing rows rows of C, with the bounds checks it cannot do
// itself.
func asm(mr, rows int, f func(k int, a, b, c *float32, ldc, set, panels int)) kernelFunc {
	return func(k, panels int, a, b, c []float32, ldc int, set bool) {
		_ = a[panels*k*mr-1]
		_ = b[k*nr-1]
		_ = c[((panels-1)*mr+rows-1)*ldc+nr-1]
		f(k, &a[0], &b[0], &c[0], ldc, flag(set), panels)
	}
}

// indirect is asm for an in-place kernel; hi is the largest of offs.
func indirect(mr, rows int, f func(k int, a, b *float32, offs *int32, c *float32, ldc, segs, dist, set, panels int)) indFunc {
	return func(k, panels int, a, b []float32, offs []int32, hi int, seg Segments, c []float32, ldc int, set bool) {
		if seg.N != 1 && seg.N != 2 && seg.N != 4 || seg.N > 1 && seg.Dist < nr/seg.N {
			panic("sgemm: bad B segments")
		}
		_ = offs[k-1]
		_ = b[hi+(seg.N-1)*seg.Dist+nr/seg.N-1]
		_ = a[panels*k*mr-1]
		_ = c[((panels-1)*mr+rows-1)*ldc+nr-1]
		f(k, &a[0], &b[0], &offs[0], &c[0], ldc, seg.N, seg.Dist, flag(set), panels)
	}
}

// perPanel runs a kernel that takes one mr-row panel a call on each panel
// in turn.
func perPanel(mr int, f func(k int, a, b, c *float32, ldc, set int)) func(k int, a, b, c *float32, ldc, set, panels int) {
	return func(k int, a, b, c *float32, ldc, set, panels int) {
		for q := 0; q < panels; q++ {
			f(k, at(a, q*k*mr), b, at(c, q*mr*ldc), ldc, set)
		}
	}
}

// perPanelInd is perPanel for an in-place kernel.
func perPanelInd(mr int, f func(k int, a, b *float32, offs *int32, c *float32, ldc, segs, dist, set int)) func(k int, a, b *float32, offs *int32, c *float32, ldc, segs, dist, set, panels int) {
	return func(k int, a, b *float32, offs *int32, c *float32, ldc, segs, dist, set, panels int) {
		for q := 0; q < panels; q++ {
			f(k, at(a, q*k*mr), b, offs, at(c, q*mr*ldc), ldc, segs, dist, set)
		}
	}
}

// at is &p[i] for a p the wrappers above have bounds checked.
func at(p *float32, i int) *float32 { return (*float32)(unsafe.Add(unsafe.Pointer(p), 4*i)) }

func flag(set bool) int {
	if set {
		return 1
	}
	return 0
}

// dot4x6 is DotTile's AVX-512 kernel (dot_amd64.s).
//
//go:noescape
func dot4x6(n int, a *float32, lda int, aoff *int32, b *float32, boff *int32, rows *int32, c *float32)

// HasDotTile says whether DotTile runs on its AVX-512 kernel here (callers
// choose it over the packed GEMM only then).
var HasDotTile = cpu.X86.HasAVX512F
