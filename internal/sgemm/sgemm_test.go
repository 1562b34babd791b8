package sgemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

func randSlice(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(rng.NormFloat64())
	}
	return s
}

// reference computes the product in float64 from the definition.
func reference(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) []float64 {
	out := make([]float64, len(c))
	for i := range c {
		out[i] = float64(c[i])
	}
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			s := 0.0
			for p := 0; p < k; p++ {
				av, bv := a[i*lda+p], b[p*ldb+j]
				if tA {
					av = a[p*lda+i]
				}
				if tB {
					bv = b[j*ldb+p]
				}
				s += float64(av) * float64(bv)
			}
			prev := float64(beta) * float64(c[i*ldc+j])
			if beta == 0 {
				prev = 0
			}
			out[i*ldc+j] = float64(alpha)*s + prev
		}
	}
	return out
}

// TestAgainstDefinition runs every kernel this CPU can execute.
func TestAgainstDefinition(t *testing.T) {
	defer func(k Kernel) { Active = k }(Active)
	for _, k := range Available() {
		Active = k
		t.Run(k.Name, testAgainstDefinition)
	}
}

func testAgainstDefinition(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	shapes := [][3]int{{1, 1, 1}, {6, 16, 1}, {7, 17, 3}, {5, 3, 300}, {64, 1024, 27}, {97, 33, 513}, {13, 2100, 5}, {200, 40, 600},
		{8, 32, 7}, {4, 48, 1}, {2, 16, 2}} // edge panels of 2 and 4 rows, odd and even depths
	for _, s := range shapes {
		for _, tA := range []bool{false, true} {
			for _, tB := range []bool{false, true} {
				m, n, k := s[0], s[1], s[2]
				t.Run(fmt.Sprintf("%dx%dx%d_tA%v_tB%v", m, n, k, tA, tB), func(t *testing.T) {
					lda, ldb, ldc := k+1, n+2, n+3 // padded leading dimensions
					if tA {
						lda = m + 1
					}
					if tB {
						ldb = k + 2
					}
					a := randSlice(rng, max(m, k)*lda)
					b := randSlice(rng, max(n, k)*ldb)
					c := randSlice(rng, m*ldc)
					alpha, beta := float32(0.7), float32(-0.3)
					want := reference(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
					Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
					worst := 0.0
					for i := range c {
						worst = math.Max(worst, math.Abs(float64(c[i])-want[i])/(1+math.Abs(want[i])))
					}
					assert.Less(t, worst, 2e-5*math.Sqrt(float64(k)))
				})
			}
		}
	}
}

// TestGemmSetZeroDepth: an empty product sets C to zero, through the
// column mapping, and leaves what lies between its rows alone.
func TestGemmSetZeroDepth(t *testing.T) {
	const m, n, ldc = 3, 20, 24
	c := make([]float32, m*ldc)
	for i := range c {
		c[i] = float32(math.NaN())
	}
	GemmSet(m, n, 0, Strided{}, StridedB{}, c, ldc, func(j int) int { return j + 2 })
	for i := range c {
		if col := i % ldc; col >= 2 && col < n+2 {
			assert.Zero(t, c[i], "element %d", i)
		} else {
			assert.True(t, math.IsNaN(float64(c[i])), "element %d", i)
		}
	}
}

func TestBetaZeroOverwritesNaN(t *testing.T) {
	a, b := []float32{1, 2}, []float32{3, 4}
	c := []float32{float32(math.NaN())}
	Sgemm(false, false, 1, 1, 2, 1, a, 2, b, 1, 0, c, 1)
	assert.Equal(t, float32(11), c[0])
}

// TestKernelsMatch compares each kernel's tiles with a float64 product, on
// one panel and on three (one call down a column of tiles), and each kernel
// for the first rows of a tile with the same rows of it, adding into C and
// writing over it: rows below theirs stay as they were.
func TestKernelsMatch(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	for _, k := range Available() {
		check := func(rows, panels, depth int, set bool, fn kernelFunc) {
			const ldc = nr + 8
			a, b := randSlice(rng, panels*depth*k.MR), randSlice(rng, depth*nr)
			c := randSlice(rng, (panels*k.MR+1)*ldc)
			want := make([]float64, len(c))
			for i := range c {
				want[i] = float64(c[i])
			}
			for q := 0; q < panels; q++ {
				for i := 0; i < rows; i++ {
					for j := 0; j < nr; j++ {
						at := (q*k.MR+i)*ldc + j
						if set {
							want[at] = 0
						}
						for p := 0; p < depth; p++ {
							want[at] += float64(a[q*depth*k.MR+p*k.MR+i]) * float64(b[p*nr+j])
						}
					}
				}
			}
			fn(depth, panels, a, b, c, ldc, set)
			for i := range c {
				require.InDelta(t, want[i], float64(c[i]), 1e-4, "%s, %d rows, %d panels, depth %d, set %v: element %d", k.Name, rows, panels, depth, set, i)
			}
		}
		for _, depth := range []int{37, 38, 1} {
			for _, set := range []bool{false, true} {
				check(k.MR, 1, depth, set, k.fn)
				check(k.MR, 3, depth, set, k.fn)
				for rows, part := range k.part {
					check(rows, 1, depth, set, part.fn)
				}
			}
		}
	}
	t.Logf("kernels here: %v, active %s", names(Available()), Active.Name)
}

func names(ks []Kernel) []string {
	var out []string
	for _, k := range ks {
		out = append(out, k.Name)
	}
	return out
}

// BenchmarkSgemm compares with gonum's pure-Go Sgemm on conv-shaped products.
func BenchmarkSgemm(b *testing.B) {
	for _, s := range [][3]int{{64, 1024, 576}, {256, 64, 2304}, {512, 16, 4608}, {512, 512, 512}} {
		m, n, k := s[0], s[1], s[2]
		rng := rand.New(rand.NewPCG(3, 3))
		x, y, z := randSlice(rng, m*k), randSlice(rng, k*n), make([]float32, m*n)
		flops := 2 * float64(m*n*k)
		for _, kern := range Available() {
			b.Run(fmt.Sprintf("%s/%dx%dx%d", kern.Name, m, n, k), func(b *testing.B) {
				defer func(k Kernel) { Active = k }(Active)
				Active = kern
				for i := 0; i < b.N; i++ {
					Sgemm(false, false, m, n, k, 1, x, k, y, n, 0, z, n)
				}
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
		b.Run(fmt.Sprintf("gonum/%dx%dx%d", m, n, k), func(b *testing.B) {
			impl := gonum.Implementation{}
			for i := 0; i < b.N; i++ {
				impl.Sgemm(blas.NoTrans, blas.NoTrans, m, n, k, 1, x, k, y, n, 0, z, n)
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// TestPackedAndScatteredC: a prepacked A (either storage order) reused for
// two products, and C written in a batch layout (columns in groups of p that
// belong to different images, channel-major inside each), accumulating onto
// what C held (Gemm) and writing over it (GemmSet) — against the
// definition, for every kernel.
func TestPackedAndScatteredC(t *testing.T) {
	defer func(k Kernel) { Active = k }(Active)
	rng := rand.New(rand.NewPCG(5, 5))
	const m, k, p, images = 37, 300, 32, 3
	n := p * images
	for _, kern := range Available() {
		Active = kern
		for _, tA := range []bool{false, true} {
			a := randSlice(rng, m*k)
			lda := k
			if tA {
				lda = m
			}
			packed := Pack(tA, m, k, a, lda, 0.5)
			for rep := 0; rep < 2; rep++ {
				b := randSlice(rng, k*n)
				c := randSlice(rng, images*m*p)
				set := rep == 1
				want := make([]float64, len(c))
				for i := range c {
					if !set {
						want[i] = float64(c[i])
					}
				}
				plain := reference(tA, false, m, n, k, 0.5, a, lda, b, n, 0, make([]float32, m*n), n)
				for i := 0; i < m; i++ {
					for j := 0; j < n; j++ {
						want[(j/p)*m*p+i*p+j%p] += plain[i*n+j]
					}
				}
				off := func(j int) int { return (j/p)*m*p + j%p }
				if set {
					GemmSet(m, n, k, packed, StridedB{B: b, LD: n}, c, p, off)
				} else {
					Gemm(m, n, k, packed, StridedB{B: b, LD: n}, c, p, off)
				}
				for i := range c {
					require.InDelta(t, want[i], float64(c[i]), 1e-3*(1+math.Abs(want[i])), "%s tA=%v set %v: element %d", kern.Name, tA, set, i)
				}
			}
		}
	}
}

// BenchmarkGather16 packs 16 rows of 1024 floats (a batch-row panel) with
// Gather16 and with the gather instruction alone.
func BenchmarkGather16(b *testing.B) {
	rng := rand.New(rand.NewPCG(9, 9))
	const n = 1024
	src := randSlice(rng, 16*(n+8))
	var offs [16]int32
	for t := range offs {
		offs[t] = int32(t * (n + 8))
	}
	dst := make([]float32, 16*n)
	b.Run("Gather16", func(b *testing.B) {
		b.SetBytes(4 * 16 * n)
		for b.Loop() {
			Gather16(dst, src, &offs, n)
		}
	})
	if hasAVX512 {
		// The gather instruction alone, for comparison with the
		// in-register transpose Gather16 uses on whole blocks.
		b.Run("gather-only", func(b *testing.B) {
			b.SetBytes(4 * 16 * n)
			for b.Loop() {
				gather16(&dst[0], &src[0], &offs[0], n)
			}
		})
	}
}

// TestGather16 compares every path the CPU has (AVX-512 transposes and
// gathers, AVX2 transposes, Go) with the Go loop on unordered, repeated
// offsets, and checks the range guard.
func TestGather16(t *testing.T) {
	defer func(a, b bool) { hasAVX512, hasAVX2 = a, b }(hasAVX512, hasAVX2)
	paths := []struct {
		name       string
		avx512, v2 bool
	}{{"go", false, false}}
	if hasAVX2 {
		paths = append(paths, struct {
			name       string
			avx512, v2 bool
		}{"avx2", false, true})
	}
	if hasAVX512 {
		paths = append(paths, struct {
			name       string
			avx512, v2 bool
		}{"avx512", true, hasAVX2})
	}
	for _, p := range paths {
		hasAVX512, hasAVX2 = p.avx512, p.v2
		rng := rand.New(rand.NewPCG(7, 7))
		src := randSlice(rng, 1020)
		offs := [16]int32{900, 3, 17, 17, 0, 500, 250, 251, 800, 64, 65, 66, 970, 1, 2, 40}
		// 29: whole blocks and a tail; 16, 48: whole blocks only; 7: the
		// tail only.
		for _, n := range []int{29, 16, 48, 7} {
			got, want := randSlice(rng, 16*n), make([]float32, 16*n)
			Gather16(got, src, &offs, n)
			gather16Go(want, src, &offs, n)
			require.Equal(t, want, got, "%s n=%d", p.name, n)
			assert.Equal(t, src[2+n-1], got[16*(n-1)+14], "%s n=%d", p.name, n)
		}
		const n = 29
		got := make([]float32, 16*n)
		offs[3] = 1010
		assert.Panics(t, func() { Gather16(got, src, &offs, n) }, "1010+29 > 1020")
	}
}

// gappedB is a k x n matrix whose rows sit at gapped offsets of
// one slice, each row of a 16-column tile read as seg.N runs seg.Dist apart:
// an IndirectB (read in place) with BPanels for other kernels.
type gappedB struct {
	data []float32
	offs []int32
	seg  Segments
}

func (g gappedB) at(p, j int) float32 {
	w := nr / g.seg.N
	t := j % nr
	return g.data[j-t+int(g.offs[p])+(t/w)*g.seg.Dist+t%w]
}
func (g gappedB) BPanels(dst []float32, pc, kcur, jc, ncur int) {
	for q := 0; q*nr < ncur; q++ {
		for p := 0; p < kcur; p++ {
			for t := 0; t < nr; t++ {
				v := float32(0)
				if q*nr+t < ncur {
					v = g.at(pc+p, jc+q*nr+t)
				}
				dst[q*kcur*nr+p*nr+t] = v
			}
		}
	}
}
func (g gappedB) Indirect() Segments    { return g.seg }
func (g gappedB) BTile(j int) []float32 { return g.data[j:] }
func (g gappedB) BOffsets() []int32     { return g.offs }

// TestIndirectB: a product whose B is read in place through an offset table
// (rows contiguous, or in runs of 8 or 4 floats) equals the one from packed
// panels and the definition (edge rows included).
func TestIndirectB(t *testing.T) {
	defer func(k Kernel) { Active = k }(Active)
	for _, seg := range []Segments{{1, 0}, {2, 11}, {4, 6}} {
		rng := rand.New(rand.NewPCG(8, uint64(seg.N)))
		const k, n = 301, 48 // depth blocks of 256 and 45: even and odd
		b := gappedB{seg: seg}
		off := 0
		for p := 0; p < k; p++ {
			b.offs = append(b.offs, int32(off))
			off += n + 1 + p%3
		}
		if seg.N == 4 { // offsets need not be increasing
			slices.Reverse(b.offs)
		}
		b.data = randSlice(rng, off+n+4*seg.Dist)
		dense := make([]float32, k*n)
		for p := 0; p < k; p++ {
			for j := 0; j < n; j++ {
				dense[p*n+j] = b.at(p, j)
			}
		}
		used := false
		for _, m := range []int{37, 40, 38} { // last panels of 1, 4 and 2 rows
			a := randSlice(rng, m*k)
			want := reference(false, false, m, n, k, 1, a, k, dense, n, 0, make([]float32, m*n), n)
			for _, kern := range Available() {
				Active = kern
				used = used || kern.ind != nil
				c := make([]float32, m*n)
				for i := range c {
					c[i] = float32(math.NaN())
				}
				// Written over the NaNs, then added once more.
				GemmSet(m, n, k, Strided{A: a, LD: k, Alpha: 1}, b, c, n, nil)
				for i := range c {
					require.InDelta(t, want[i], float64(c[i]), 1e-3*(1+math.Abs(want[i])), "%v %s, m %d, set: element %d", seg, kern.Name, m, i)
				}
				Gemm(m, n, k, Strided{A: a, LD: k, Alpha: 1}, b, c, n, nil)
				for i := range c {
					require.InDelta(t, 2*want[i], float64(c[i]), 2e-3*(1+math.Abs(want[i])), "%v %s, m %d: element %d", seg, kern.Name, m, i)
				}
			}
		}
		t.Logf("%v: an in-place kernel ran: %v", seg, used)
	}
}
