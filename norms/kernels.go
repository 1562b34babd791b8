package norms

import (
	"github.com/advbench/advbench/internal/parallel"
	"github.com/advbench/advbench/internal/vec"
	"github.com/advbench/advbench/nn"
)

// The plane loops of the fused op, parallel over the (n, c) planes; the
// per-plane work is package vec's (AVX-512 for float32 where present, sums
// in float64 always).

// moments computes, for every (n, c) plane of x, the mean mu and the centred
// (biased) variance v.
func moments[T nn.Float](x []T, s shape, mu, v []float64) {
	parallel.For(s.n*s.c, func(lo, hi int) {
		for p := lo; p < hi; p++ {
			plane := x[p*s.hw : (p+1)*s.hw]
			m := vec.Sum(plane) / float64(s.hw)
			mu[p], v[p] = m, vec.SumSqDev(plane, m)/float64(s.hw)
		}
	})
}

// scaleShift writes y = a*x + b with one (a, b) per plane, then max(y, 0)
// when relu is set.
func scaleShift[T nn.Float](x, y []T, s shape, a, b []float64, relu bool) {
	parallel.For(s.n*s.c, func(lo, hi int) {
		for p := lo; p < hi; p++ {
			vec.ScaleShift(y[p*s.hw:(p+1)*s.hw], x[p*s.hw:(p+1)*s.hw], T(a[p]), T(b[p]), relu)
		}
	})
}

// plane returns plane p of t, or nil for a nil t.
func plane[T nn.Float](t []T, p, hw int) []T {
	if t == nil {
		return nil
	}
	return t[p*hw : (p+1)*hw]
}

// reduceGrad computes per plane A = Σ g and B = Σ g*(x-mu), where g is the
// output gradient masked by the fused ReLU's output y (nil: no ReLU).
func reduceGrad[T nn.Float](x, g, y []T, s shape, mu, A, B []float64) {
	parallel.For(s.n*s.c, func(lo, hi int) {
		for p := lo; p < hi; p++ {
			A[p], B[p] = vec.GradSums(plane(x, p, s.hw), plane(g, p, s.hw), plane(y, p, s.hw), mu[p])
		}
	})
}

// inputGrad writes dx = a*g + dmu/HW + dv*2*(x-mu)/HW per plane, g masked as
// in reduceGrad: the gradient through y = a*x + b plus the gradient through
// the plane's mean and centred variance.
func inputGrad[T nn.Float](x, g, y, dx []T, s shape, a, mu, dmu, dv []float64) {
	hw := float64(s.hw)
	parallel.For(s.n*s.c, func(lo, hi int) {
		for p := lo; p < hi; p++ {
			k2 := 2 * dv[p] / hw
			k0 := dmu[p]/hw - k2*mu[p]
			vec.InputGrad(plane(dx, p, s.hw), plane(x, p, s.hw), plane(g, p, s.hw), plane(y, p, s.hw), T(a[p]), T(k2), T(k0))
		}
	})
}
