package vec

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// paths runs f at every level of loops the CPU has: the Go loops, and the
// AVX2 and AVX-512 assembly where available.
func paths(t *testing.T, f func(t *testing.T)) {
	defer func(v isa) { level = v }(level)
	for _, l := range available() {
		level = l
		t.Run(l.String(), f)
	}
}

// planes returns x, g and a ReLU output y (about half zeros) of n elements.
func planes(rng *rand.Rand, n int) (x, g, y []float32) {
	x, g, y = make([]float32, n), make([]float32, n), make([]float32, n)
	for i := range x {
		x[i] = float32(rng.NormFloat64()*2 + 0.5)
		g[i] = float32(rng.NormFloat64())
		y[i] = max(float32(rng.NormFloat64()), 0)
	}
	return x, g, y
}

// lengths: empty, under one block, whole blocks, blocks and a tail.
var lengths = []int{0, 5, 16, 64, 1024, 1037}

func TestSums(t *testing.T) {
	paths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(1, 2))
		for _, n := range lengths {
			x, g, y := planes(rng, n)
			var s, m float64
			for _, v := range x {
				s += float64(v)
			}
			if n > 0 {
				m = s / float64(n)
			}
			var sq, sg, sgx, msg, msgx float64
			for i, v := range x {
				d := float64(v) - m
				sq += d * d
				sg += float64(g[i])
				sgx += float64(g[i]) * d
				if y[i] > 0 {
					msg += float64(g[i])
					msgx += float64(g[i]) * d
				}
			}
			tol := 1e-12 * float64(n+1)
			assert.InDelta(t, s, Sum(x), tol*(1+math.Abs(s)), "Sum n=%d", n)
			assert.InDelta(t, sq, SumSqDev(x, m), tol*(1+sq), "SumSqDev n=%d", n)
			a, b := GradSums(x, g, nil, m)
			assert.InDelta(t, sg, a, tol*(1+math.Abs(sg)), "GradSums n=%d", n)
			assert.InDelta(t, sgx, b, tol*(1+math.Abs(sgx)), "GradSums n=%d", n)
			a, b = GradSums(x, g, y, m)
			assert.InDelta(t, msg, a, tol*(1+math.Abs(msg)), "masked GradSums n=%d", n)
			assert.InDelta(t, msgx, b, tol*(1+math.Abs(msgx)), "masked GradSums n=%d", n)
			if n >= 16 {
				assert.NotEqual(t, sg, msg, "the mask must change the sum")
			}
		}
	})
}

func TestElementwise(t *testing.T) {
	paths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(3, 4))
		const a, b, ka, kx, kc = 1.5, -0.25, 0.75, -0.125, 0.0625
		for _, n := range lengths {
			x, g, y := planes(rng, n)
			for _, relu := range []bool{false, true} {
				got := make([]float32, n)
				ScaleShift(got, x, a, b, relu)
				for i, v := range x {
					want := a*float64(v) + b
					if relu {
						want = max(want, 0)
					}
					require.InDelta(t, want, float64(got[i]), 1e-6*(1+math.Abs(want)), "ScaleShift relu=%v n=%d i=%d", relu, n, i)
				}
			}
			for _, mask := range []bool{false, true} {
				got := make([]float32, n)
				var ym []float32
				if mask {
					ym = y
				}
				InputGrad(got, x, g, ym, ka, kx, kc)
				for i, v := range x {
					gi := float64(g[i])
					if mask && y[i] <= 0 {
						gi = 0
					}
					want := ka*gi + kx*float64(v) + kc
					require.InDelta(t, want, float64(got[i]), 1e-6*(1+math.Abs(want)), "InputGrad mask=%v n=%d i=%d", mask, n, i)
				}
			}
		}
	})
}

func TestAdd(t *testing.T) {
	paths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(7, 8))
		for _, n := range lengths {
			a, b, _ := planes(rng, n)
			got := make([]float32, n)
			Add(got, a, b)
			for i := range a {
				require.Equal(t, a[i]+b[i], got[i], "n=%d i=%d", n, i)
			}
			Add(a, a, b) // in place
			require.Equal(t, got, a, "n=%d in place", n)
		}
	})
}

// TestAddBlocks: overlapping destination blocks, block lengths with and
// without a tail, against the definition.
func TestAddBlocks(t *testing.T) {
	paths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(9, 10))
		for _, n := range []int{4, 16, 21, 40} {
			dst, src, _ := planes(rng, 300)
			dOffs := []int32{0, 100, 3, 200, 103}
			sOffs := []int32{250, 0, 17, 17, 90}
			want := slices.Clone(dst)
			for i, d := range dOffs {
				for u := 0; u < n; u++ {
					want[int(d)+u] += src[int(sOffs[i])+u]
				}
			}
			AddBlocks(dst, src, n, dOffs, sOffs)
			require.Equal(t, want, dst, "n=%d", n)
		}
		x := make([]float32, 64)
		assert.Panics(t, func() { AddBlocks(x, x, 16, []int32{49}, []int32{0}) })
		assert.Panics(t, func() { AddBlocks(x, x, 16, []int32{0}, []int32{0, 1}) })
	})
}

// TestCopyRows copies row blocks of every width class (whole 16-float
// blocks, a tail, both) between strided planes; bytes around each row stay
// untouched.
func TestCopyRows(t *testing.T) {
	paths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(11, 12))
		for _, n := range []int{4, 8, 16, 21, 32, 34} {
			const rows = 5
			src, _, _ := planes(rng, rows*(n+3))
			dst, _, _ := planes(rng, rows*(n+7)+9)
			want := slices.Clone(dst)
			for r := 0; r < rows; r++ {
				copy(want[9+r*(n+7):9+r*(n+7)+n], src[r*(n+3):r*(n+3)+n])
			}
			CopyRows(dst[9:], n+7, src, n+3, rows, n)
			require.Equal(t, want, dst, "n=%d", n)
		}
		x := make([]float32, 64)
		assert.Panics(t, func() { CopyRows(x, 16, x, 16, 4, 17) }, "row wider than its stride")
		assert.Panics(t, func() { CopyRows(x, 20, x, 16, 4, 16) }, "last row past the end")
	})
}

// TestInterleave splits strided rows into even and odd elements and joins
// them back, for pair counts with and without whole 16-pair blocks and
// tails of every size class; nothing outside the rows is written.
func TestInterleave(t *testing.T) {
	paths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(13, 14))
		for _, pairs := range []int{1, 4, 8, 9, 16, 17, 31, 32, 40} {
			const rows = 3
			ldr, lde, ldo := 2*pairs+5, pairs+2, pairs+7
			src, _, _ := planes(rng, rows*ldr)
			even, odd, _ := planes(rng, rows*ldo)
			even = even[:rows*lde]
			wantE, wantO := slices.Clone(even), slices.Clone(odd)
			for r := 0; r < rows; r++ {
				for u := 0; u < pairs; u++ {
					wantE[r*lde+u], wantO[r*ldo+u] = src[r*ldr+2*u], src[r*ldr+2*u+1]
				}
			}
			Deinterleave(even, lde, odd, ldo, src, ldr, rows, pairs)
			require.Equal(t, wantE, even, "even, pairs=%d", pairs)
			require.Equal(t, wantO, odd, "odd, pairs=%d", pairs)

			back, _, _ := planes(rng, rows*ldr)
			want := slices.Clone(back)
			for r := 0; r < rows; r++ {
				copy(want[r*ldr:r*ldr+2*pairs], src[r*ldr:r*ldr+2*pairs])
			}
			Interleave(back, ldr, even, lde, odd, ldo, rows, pairs)
			require.Equal(t, want, back, "joined, pairs=%d", pairs)
		}
		x := make([]float32, 64)
		assert.Panics(t, func() { Deinterleave(x, 8, x, 8, x, 16, 4, 9) }, "row longer than its stride")
		assert.Panics(t, func() { Interleave(x, 32, x, 8, x, 8, 3, 8) }, "last row past the end")
	})
}

// TestInPlaceAndNaN: dst may alias x, and a NaN survives the ReLU (a
// diverged run must not turn into zeros).
func TestInPlaceAndNaN(t *testing.T) {
	paths(t, func(t *testing.T) {
		x := make([]float32, 40)
		for i := range x {
			x[i] = float32(i) - 20
		}
		x[3], x[33] = float32(math.NaN()), float32(math.NaN())
		ScaleShift(x, x, 2, 1, true)
		for i, v := range x {
			switch i {
			case 3, 33:
				assert.True(t, math.IsNaN(float64(v)), "element %d: %v", i, v)
			default:
				assert.Equal(t, max(2*(float32(i)-20)+1, 0), v, "element %d", i)
			}
		}
	})
}

func TestShortOperandPanics(t *testing.T) {
	x := make([]float32, 32)
	assert.Panics(t, func() { ScaleShift(make([]float32, 31), x, 1, 0, false) })
	assert.Panics(t, func() { GradSums(x, make([]float32, 31), nil, 0) })
	assert.Panics(t, func() { InputGrad(make([]float32, 32), x, x, make([]float32, 8), 1, 1, 1) })
}

// BenchmarkNormPasses runs the five loops of a fused normalisation step
// over a 64 x 1024 block of planes.
func BenchmarkNormPasses(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 6))
	const planeLen, count = 1024, 64
	x, g, y := planes(rng, planeLen*count)
	dst := make([]float32, len(x))
	for _, l := range available() {
		b.Run(l.String(), func(b *testing.B) {
			defer func(v isa) { level = v }(level)
			level = l
			b.SetBytes(int64(4 * len(x)))
			for b.Loop() {
				for p := 0; p < count; p++ {
					xs, gs, ys, ds := x[p*planeLen:(p+1)*planeLen], g[p*planeLen:(p+1)*planeLen], y[p*planeLen:(p+1)*planeLen], dst[p*planeLen:(p+1)*planeLen]
					m := Sum(xs) / planeLen
					_ = SumSqDev(xs, m)
					ScaleShift(ds, xs, 1.1, 0.1, true)
					GradSums(xs, gs, ys, m)
					InputGrad(ds, xs, gs, ys, 1, 0.5, 0.25)
				}
			}
		})
	}
}
