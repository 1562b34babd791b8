package sgemm

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
)

// TestAddingWrappers runs the wrappers the AVX-512 kernels go through (one
// panel a call, C cleared first for a written product: asm, perPanel,
// adding, indirect, perPanelInd, addingInd) around the portable kernel, so that they are checked
// on CPUs without AVX-512 too: written over NaNs, then added, with packed and
// in-place B, several panels and a last panel of 1 row.
func TestAddingWrappers(t *testing.T) {
	defer func(k Kernel) { Active = k }(Active)
	const mr = 6
	packedKernel := func(k int, a, b, c *float32, ldc int) {
		kernelGo(k, 1, unsafe.Slice(a, k*mr), unsafe.Slice(b, k*nr), unsafe.Slice(c, (mr-1)*ldc+nr), ldc, false)
	}
	inPlaceKernel := func(k int, a, b *float32, offs *int32, c *float32, ldc, segs, dist int) {
		os := unsafe.Slice(offs, k)
		src := unsafe.Slice(b, int(slices.Max(os))+(segs-1)*dist+nr/segs)
		panel := make([]float32, k*nr)
		for p, o := range os {
			for t := 0; t < nr; t++ {
				panel[p*nr+t] = src[int(o)+(t/(nr/segs))*dist+t%(nr/segs)]
			}
		}
		packedKernel(k, a, &panel[0], c, ldc)
	}
	Active = Kernel{Name: "wrapped-go", MR: mr, fn: asm(mr, mr, perPanel(mr, adding(mr, packedKernel))),
		ind: indirect(mr, mr, perPanelInd(mr, addingInd(mr, inPlaceKernel)))}
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
