package gemm

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/advbench/advbench/internal/sgemm"
	"github.com/stretchr/testify/assert"
)

// TestMulHandComputed checks one product worked by hand:
// 2·[1 2; 3 4]·[5 6; 7 8] + 1·[1 1; 1 1] = 2·[19 22; 43 50] + 1.
func TestMulHandComputed(t *testing.T) {
	c := []float64{1, 1, 1, 1}
	Mul(false, false, 2, 2, 2, 2, []float64{1, 2, 3, 4}, []float64{5, 6, 7, 8}, 1, c)
	assert.Equal(t, []float64{39, 45, 87, 101}, c)
}

// TestMulMatchesDefinition compares Mul with the triple loop of its
// definition for both element types, every transpose and beta 0 and 0.5,
// on the float32 path in use and on gonum's (sgemm made portable).
func TestMulMatchesDefinition(t *testing.T) {
	const m, n, k = 7, 19, 5
	rng := rand.New(rand.NewPCG(3, 5))
	random := func(l int) []float64 {
		s := make([]float64, l)
		for i := range s {
			s[i] = rng.NormFloat64()
		}
		return s
	}
	for _, portable := range []bool{false, true} {
		for _, tA := range []bool{false, true} {
			for _, tB := range []bool{false, true} {
				for _, beta := range []float64{0, 0.5} {
					t.Run(fmt.Sprintf("portable=%v/tA=%v/tB=%v/beta=%v", portable, tA, tB, beta), func(t *testing.T) {
						if portable {
							defer sgemm.UsePortable()()
						}
						a, b, c := random(m*k), random(k*n), random(m*n)
						at := func(i, p int) float64 {
							if tA {
								return a[p*m+i]
							}
							return a[i*k+p]
						}
						bt := func(p, j int) float64 {
							if tB {
								return b[j*k+p]
							}
							return b[p*n+j]
						}
						want := make([]float64, m*n)
						for i := 0; i < m; i++ {
							for j := 0; j < n; j++ {
								s := 0.0
								for p := 0; p < k; p++ {
									s += at(i, p) * bt(p, j)
								}
								want[i*n+j] = 1.5*s + beta*c[i*n+j]
							}
						}
						got64 := append([]float64(nil), c...)
						Mul(tA, tB, m, n, k, 1.5, a, b, beta, got64)
						assert.InDeltaSlice(t, want, got64, 1e-12, "float64")

						a32, b32, got32 := to32(a), to32(b), to32(c)
						Mul(tA, tB, m, n, k, 1.5, a32, b32, float32(beta), got32)
						for i, v := range got32 {
							assert.InDelta(t, want[i], float64(v), 1e-5, "float32 element %d", i)
						}
					})
				}
			}
		}
	}
}

func to32(s []float64) []float32 {
	out := make([]float32, len(s))
	for i, v := range s {
		out[i] = float32(v)
	}
	return out
}
