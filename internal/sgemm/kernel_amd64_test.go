package sgemm

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
)

// TestWrappers runs the wrappers the one-panel-a-call assembly kernels go
// through (asm, perPanel, indirect, perPanelInd) around the portable
// kernel, so that they are checked on CPUs without AVX2 too: written over
// NaNs, then added, with packed and in-place B, several panels and a last
// panel of 1 row.
func TestWrappers(t *testing.T) {
	defer func(k Kernel) { Active = k }(Active)
	const mr = 6
	packedKernel := func(k int, a, b, c *float32, ldc, set int) {
		kernelGo(k, 1, unsafe.Slice(a, k*mr), unsafe.Slice(b, k*nr), unsafe.Slice(c, (mr-1)*ldc+nr), ldc, set != 0)
	}
	inPlaceKernel := func(k int, a, b *float32, offs *int32, c *float32, ldc, segs, dist, set int) {
		os := unsafe.Slice(offs, k)
		src := unsafe.Slice(b, int(slices.Max(os))+(segs-1)*dist+nr/segs)
		panel := make([]float32, k*nr)
		for p, o := range os {
			for t := 0; t < nr; t++ {
				panel[p*nr+t] = src[int(o)+(t/(nr/segs))*dist+t%(nr/segs)]
			}
		}
		packedKernel(k, a, &panel[0], c, ldc, set)
	}
	Active = Kernel{Name: "wrapped-go", MR: mr, fn: asm(mr, mr, perPanel(mr, packedKernel)),
		ind: indirect(mr, mr, perPanelInd(mr, inPlaceKernel))}
	rng := rand.New(rand.NewPCG(11, 11))
	const m, k, n = 37, 301, 48
	for _, seg := range []Segments{{1, 0}, {2, 11}, {4, 6}} {
		b := gappedB{seg: seg}
		off := 0
		for p := 0; p < k; p++ {
			b.offs = append(b.offs, int32(off))
			off += n + 1 + p%3
		}
		b.data = randSlice(rng, off+n+4*seg.Dist)
		dense := make([]float32, k*n)
		for p := 0; p < k; p++ {
			for j := 0; j < n; j++ {
				dense[p*n+j] = b.at(p, j)
			}
		}
		a := randSlice(rng, m*k)
		want := reference(false, false, m, n, k, 1, a, k, dense, n, 0, make([]float32, m*n), n)
		for _, right := range []BOperand{b, StridedB{B: dense, LD: n}} {
			c := make([]float32, m*n)
			for i := range c {
				c[i] = float32(math.NaN())
			}
			GemmSet(m, n, k, Strided{A: a, LD: k, Alpha: 1}, right, c, n, nil)
			for i := range c {
				require.InDelta(t, want[i], float64(c[i]), 1e-3*(1+math.Abs(want[i])), "%v %T, set: element %d", seg, right, i)
			}
			Gemm(m, n, k, Strided{A: a, LD: k, Alpha: 1}, right, c, n, nil)
			for i := range c {
				require.InDelta(t, 2*want[i], float64(c[i]), 2e-3*(1+math.Abs(want[i])), "%v %T: element %d", seg, right, i)
			}
		}
	}
}

// BenchmarkKernelL1 times the 16x16 micro-kernels alone on operands that
// stay in the L1 cache (k 96: 12 KiB of A and B), the ceiling the packed
// products can reach on this CPU; compare with scripts/fma_peak.c's figure.
func BenchmarkKernelL1(b *testing.B) {
	if !hasAVX512 {
		b.Skip("no AVX-512")
	}
	const k = 96
	rng := rand.New(rand.NewPCG(1, 1))
	x, y, c := randSlice(rng, k*16), randSlice(rng, k*16), make([]float32, 16*16)
	offs := make([]int32, k)
	for p := range offs {
		offs[p] = int32(16 * p)
	}
	run := func(b *testing.B, flops float64, f func()) {
		for b.Loop() {
			f()
		}
		b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	}
	b.Run("fp32", func(b *testing.B) {
		run(b, 2*16*16*k, func() { kernel16x16(k, &x[0], &y[0], &c[0], 16, 0, 1) })
	})
	b.Run("fp32-ind", func(b *testing.B) {
		run(b, 2*16*16*k, func() { kernel16x16ind(k, &x[0], &y[0], &offs[0], &c[0], 16, 1, 0, 0, 1) })
	})
	if hasBF16 {
		b.Run("bf16", func(b *testing.B) {
			run(b, 2*16*16*2*(k/2), func() { kernelBF16x16(k/2, &x[0], &y[0], &c[0], 16, 0, 1) })
		})
	}
}
