package norms

import (
	"math"

	"github.com/advbench/advbench/nn"
)

// moments computes, for every (n, c) plane of x, the mean mu and the centred
// (biased) variance v, accumulating in float64 (four running sums, so the
// additions do not wait on each other).
func moments[T nn.Float](x []T, s shape, mu, v []float64) {
	nn.ParallelFor(s.n*s.c, func(lo, hi int) {
		for p := lo; p < hi; p++ {
			plane := x[p*s.hw : (p+1)*s.hw]
			m := sum4(plane, 0) / float64(s.hw)
			mu[p], v[p] = m, sumSq4(plane, m)/float64(s.hw)
		}
	})
}

// sum4 returns Σ (x_i - m) in float64 with four partial sums.
func sum4[T nn.Float](x []T, m float64) float64 {
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(x); i += 4 {
		q := x[i : i+4 : i+4]
		s0 += float64(q[0]) - m
		s1 += float64(q[1]) - m
		s2 += float64(q[2]) - m
		s3 += float64(q[3]) - m
	}
	for ; i < len(x); i++ {
		s0 += float64(x[i]) - m
	}
	return (s0 + s1) + (s2 + s3)
}

// sumSq4 returns Σ (x_i - m)² in float64 with four partial sums.
func sumSq4[T nn.Float](x []T, m float64) float64 {
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(x); i += 4 {
		q := x[i : i+4 : i+4]
		d0, d1, d2, d3 := float64(q[0])-m, float64(q[1])-m, float64(q[2])-m, float64(q[3])-m
		s0 += d0 * d0
		s1 += d1 * d1
		s2 += d2 * d2
		s3 += d3 * d3
	}
	for ; i < len(x); i++ {
		d := float64(x[i]) - m
		s0 += d * d
	}
	return (s0 + s1) + (s2 + s3)
}

// scaleShift writes y = a*x + b with one (a, b) per plane, then max(y, 0)
// when relu is set.
func scaleShift[T nn.Float](x, y []T, s shape, a, b []float64, relu bool) {
	nn.ParallelFor(s.n*s.c, func(lo, hi int) {
		for p := lo; p < hi; p++ {
			ap, bp := T(a[p]), T(b[p])
			src, dst := x[p*s.hw:(p+1)*s.hw], y[p*s.hw:(p+1)*s.hw]
			if relu {
				for i, e := range src {
					dst[i] = max(ap*e+bp, 0)
				}
				continue
			}
			for i, e := range src {
				dst[i] = ap*e + bp
			}
		}
	})
}

// maskGrad writes into dst the gradient through a fused ReLU: g where its
// output y > 0, else 0. y is never negative, so y > 0 exactly when its bits
// are not all zero; the mask is built from the bits without a branch (random
// signs defeat branch prediction).
func maskGrad[T nn.Float](g, y, dst []T) {
	const block = 1 << 14
	nn.ParallelFor((len(g)+block-1)/block, func(lo, hi int) {
		lo, hi = lo*block, min(hi*block, len(g))
		switch gs := any(g[lo:hi]).(type) {
		case []float32:
			ys, out := any(y[lo:hi]).([]float32), any(dst[lo:hi]).([]float32)
			for i, v := range gs {
				b := math.Float32bits(ys[i])
				m := uint32(int32(b|-b) >> 31) // all ones iff b != 0
				out[i] = math.Float32frombits(math.Float32bits(v) & m)
			}
		case []float64:
			ys, out := any(y[lo:hi]).([]float64), any(dst[lo:hi]).([]float64)
			for i, v := range gs {
				b := math.Float64bits(ys[i])
				m := uint64(int64(b|-b) >> 63)
				out[i] = math.Float64frombits(math.Float64bits(v) & m)
			}
		}
	})
}

// reduceGrad computes per plane A = Σ g and B = Σ g*(x-mu), in float64 with
// four partial sums of each.
func reduceGrad[T nn.Float](x, g []T, s shape, mu, A, B []float64) {
	nn.ParallelFor(s.n*s.c, func(lo, hi int) {
		for p := lo; p < hi; p++ {
			xs, gs := x[p*s.hw:(p+1)*s.hw], g[p*s.hw:(p+1)*s.hw]
			m := mu[p]
			var a0, a1, a2, a3, b0, b1, b2, b3 float64
			i := 0
			for ; i+4 <= len(gs); i += 4 {
				gq, xq := gs[i:i+4:i+4], xs[i:i+4:i+4]
				g0, g1, g2, g3 := float64(gq[0]), float64(gq[1]), float64(gq[2]), float64(gq[3])
				a0 += g0
				a1 += g1
				a2 += g2
				a3 += g3
				b0 += g0 * (float64(xq[0]) - m)
				b1 += g1 * (float64(xq[1]) - m)
				b2 += g2 * (float64(xq[2]) - m)
				b3 += g3 * (float64(xq[3]) - m)
			}
			for ; i < len(gs); i++ {
				ge := float64(gs[i])
				a0 += ge
				b0 += ge * (float64(xs[i]) - m)
			}
			A[p], B[p] = (a0+a1)+(a2+a3), (b0+b1)+(b2+b3)
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
