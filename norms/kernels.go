package norms

import "github.com/advbench/advbench/nn"

// moments computes, for every (n, c) plane of x, the mean mu and the centred
// (biased) variance v, accumulating in float64.
func moments[T nn.Float](x []T, s shape, mu, v []float64) {
	nn.ParallelFor(s.n*s.c, func(lo, hi int) {
		for p := lo; p < hi; p++ {
			plane := x[p*s.hw : (p+1)*s.hw]
			sum := 0.0
			for _, e := range plane {
				sum += float64(e)
			}
			m := sum / float64(s.hw)
			sq := 0.0
			for _, e := range plane {
				d := float64(e) - m
				sq += d * d
			}
			mu[p], v[p] = m, sq/float64(s.hw)
		}
	})
}

// scaleShift writes y = a*x + b with one (a, b) per plane.
func scaleShift[T nn.Float](x, y []T, s shape, a, b []float64) {
	nn.ParallelFor(s.n*s.c, func(lo, hi int) {
		for p := lo; p < hi; p++ {
			ap, bp := T(a[p]), T(b[p])
			src, dst := x[p*s.hw:(p+1)*s.hw], y[p*s.hw:(p+1)*s.hw]
			for i, e := range src {
				dst[i] = ap*e + bp
			}
		}
	})
}

// reduceGrad computes per plane A = Σ g and B = Σ g*(x-mu).
func reduceGrad[T nn.Float](x, g []T, s shape, mu, A, B []float64) {
	nn.ParallelFor(s.n*s.c, func(lo, hi int) {
		for p := lo; p < hi; p++ {
			xs, gs := x[p*s.hw:(p+1)*s.hw], g[p*s.hw:(p+1)*s.hw]
			m := mu[p]
			sa, sb := 0.0, 0.0
			for i, e := range gs {
				ge := float64(e)
				sa += ge
				sb += ge * (float64(xs[i]) - m)
			}
			A[p], B[p] = sa, sb
		}
	})
}

// inputGrad writes dx = a*g + dmu/HW + dv*2*(x-mu)/HW per plane: the
// gradient through y = a*x + b plus the gradient through the plane's mean
// and centred variance.
func inputGrad[T nn.Float](x, g, dx []T, s shape, a, mu, dmu, dv []float64) {
	hw := float64(s.hw)
	nn.ParallelFor(s.n*s.c, func(lo, hi int) {
		for p := lo; p < hi; p++ {
			k2 := 2 * dv[p] / hw
			k0 := dmu[p]/hw - k2*mu[p]
			ka, kx, kc := T(a[p]), T(k2), T(k0)
			xs, gs, ds := x[p*s.hw:(p+1)*s.hw], g[p*s.hw:(p+1)*s.hw], dx[p*s.hw:(p+1)*s.hw]
			for i := range ds {
				ds[i] = ka*gs[i] + kx*xs[i] + kc
			}
		}
	})
}
