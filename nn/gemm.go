package nn

import (
	"github.com/advbench/advbench/internal/sgemm"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"
)

// gemm computes C = alpha·op(A)·op(B) + beta·C for row-major matrices: op(A)
// is m×k, op(B) is k×n, C is m×n. A is stored m×k (or k×m when tA), B k×n
// (or n×k when tB). It is the one place matrix products are computed, so a
// faster back-end replaces it here: float32 goes to internal/sgemm (packed,
// blocked, AVX-512 or AVX2 micro-kernel) where the CPU has one and to gonum
// otherwise; float64 (gradient checks) goes to gonum.
func gemm[T Float](tA, tB bool, m, n, k int, alpha T, a []T, b []T, beta T, c []T) {
	ta, tb := blas.NoTrans, blas.NoTrans
	lda, ldb := k, n
	if tA {
		ta, lda = blas.Trans, m
	}
	if tB {
		tb, ldb = blas.Trans, k
	}
	switch av := any(a).(type) {
	case []float32:
		if sgemm.Fast() {
			sgemm.Sgemm(tA, tB, m, n, k, float32(alpha), av, lda, any(b).([]float32), ldb, float32(beta), any(c).([]float32), n)
			return
		}
		blas32.Implementation().Sgemm(ta, tb, m, n, k, float32(alpha), av, lda, any(b).([]float32), ldb, float32(beta), any(c).([]float32), n)
	case []float64:
		blas64.Implementation().Dgemm(ta, tb, m, n, k, float64(alpha), av, lda, any(b).([]float64), ldb, float64(beta), any(c).([]float64), n)
	}
}
