package sgemm

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// dotTables returns n random 16-float block offsets into a of length la
// (leaving room for 3 more rows lda apart) and into b of length lb (room
// for the largest row offset hiRow), with their maxima.
func dotTables(rng *rand.Rand, n, la, lda, lb, hiRow int) (aoff, boff []int32, hiA, hiB int) {
	for range n {
		ao := rng.IntN(la - 3*lda - 16 + 1)
		bo := rng.IntN(lb - hiRow - 16 + 1)
		aoff, boff = append(aoff, int32(ao)), append(boff, int32(bo))
		hiA, hiB = max(hiA, ao), max(hiB, bo)
	}
	return aoff, boff, hiA, hiB
}

func TestDotTile(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for _, n := range []int{1, 2, 5, 64, 300} {
		const lda, la, lb = 37, 400, 500
		a, b := randSlice(rng, la), randSlice(rng, lb)
		var rows [6]int32
		hiRow := 0
		for j := range rows {
			rows[j] = int32(rng.IntN(100))
			hiRow = max(hiRow, int(rows[j]))
		}
		aoff, boff, hiA, hiB := dotTables(rng, n, la, lda, lb, hiRow)
		var got [24]float32
		DotTile(&got, a, lda, aoff, hiA, b, &rows, boff, hiB)
		for i := 0; i < 4; i++ {
			for j := 0; j < 6; j++ {
				want, mag := 0.0, 0.0
				for k := range aoff {
					for u := 0; u < 16; u++ {
						p := float64(a[int(aoff[k])+i*lda+u]) * float64(b[int(boff[k])+int(rows[j])+u])
						want += p
						mag += math.Abs(p)
					}
				}
				assert.InDelta(t, want, float64(got[i*6+j]), 1e-6*mag+1e-6, "n=%d c[%d][%d]", n, i, j)
			}
		}
		if HasDotTile {
			var ref [24]float32
			dotTileGo(&ref, a, lda, aoff, b, &rows, boff)
			for k := range ref {
				assert.InDelta(t, float64(ref[k]), float64(got[k]), 1e-3, "kernel vs Go, n=%d entry %d", n, k)
			}
		}
	}
}

func TestDotTileBounds(t *testing.T) {
	a, b := make([]float32, 100), make([]float32, 100)
	rows := [6]int32{0, 1, 2, 3, 4, 84}
	var c [24]float32
	require.NotPanics(t, func() { DotTile(&c, a, 20, []int32{24}, 24, b, &rows, []int32{0}, 0) })
	assert.Panics(t, func() { DotTile(&c, a, 20, []int32{25}, 25, b, &rows, []int32{0}, 0) }, "A row 3 past the end")
	assert.Panics(t, func() { DotTile(&c, a, 20, []int32{0}, 0, b, &rows, []int32{1}, 1) }, "B row 5 past the end")
	assert.Panics(t, func() { DotTile(&c, a, 20, []int32{0, 0}, 0, b, &rows, []int32{0}, 0) }, "tables differ")
	rows[2] = -1
	assert.Panics(t, func() { DotTile(&c, a, 20, []int32{0}, 0, b, &rows, []int32{0}, 0) }, "negative row")
	c[3] = 5
	DotTile(&c, a, 20, nil, 0, b, &rows, nil, 0)
	assert.Equal(t, [24]float32{}, c, "an empty table gives zero sums")
}

// BenchmarkDotTile runs a weight-gradient-shaped product (16 x 144 outputs
// over 4096 positions) through DotTile tiles, against the packed GEMM of
// the same shape with depth along the positions (GFLOP/s reported).
func BenchmarkDotTile(b *testing.B) {
	const m, n, k = 16, 144, 4096
	rng := rand.New(rand.NewPCG(1, 2))
	a, bm := randSlice(rng, m*k), randSlice(rng, n*k)
	flops := float64(2 * m * n * k)
	b.Run("dot", func(b *testing.B) {
		if !HasDotTile {
			b.Skip("no AVX-512 kernel")
		}
		var aoff, boff []int32
		for p := 0; p < k; p += 16 {
			aoff, boff = append(aoff, int32(p)), append(boff, int32(p))
		}
		var c [24]float32
		out := make([]float32, m*n)
		for b.Loop() {
			for i := 0; i < m; i += 4 {
				for j := 0; j < n; j += 6 {
					var rows [6]int32
					for r := range rows {
						rows[r] = int32((j + r) * k)
					}
					DotTile(&c, a[i*k:], k, aoff, k-16, bm, &rows, boff, k-16)
					for r := 0; r < 24; r++ {
						out[(i+r/6)*n+j+r%6] += c[r]
					}
				}
			}
		}
		b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	})
	b.Run("gemm", func(b *testing.B) {
		out := make([]float32, m*n)
		for b.Loop() {
			Sgemm(false, true, m, n, k, 1, a, k, bm, k, 1, out, n)
		}
		b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	})
}
