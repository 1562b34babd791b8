// Package gemm is advbench's one matrix product for both element types:
// Mul sends float32 to internal/sgemm (packed, blocked, AVX-512 or AVX2
// micro-kernel) where the CPU has an assembly kernel and to gonum
// otherwise, and float64 (gradient checks) to gonum. A faster back-end
// replaces it here.
package gemm

import (
	"github.com/advbench/advbench/internal/sgemm"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"
)

// Mul computes C = alpha·op(A)·op(B) + beta·C for row-major matrices: op(A)
// is m×k, op(B) is k×n, C is m×n. A is stored m×k (or k×m when tA), B k×n
// (or n×k when tB), all densely (leading dimensions k or m, n or k, n).
func Mul[T ~float32 | ~float64](tA, tB bool, m, n, k int, alpha T, a []T, b []T, beta T, c []T) {
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
