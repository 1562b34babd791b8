package vec

// isa names a set of loops.
type isa int

const (
	goLoops isa = iota // plain Go
	avx2               // AVX2 and FMA (8 lanes)
	avx512             // every loop in AVX-512 (16 lanes)
)

// String names the level as tests and benchmarks show it.
func (l isa) String() string { return [...]string{"go", "avx2", "avx512"}[l] }

// Kernels names the loops the norm passes run on this CPU: avx512, avx2 or go.
func Kernels() string { return level.String() }

// Float is the element type of the loops.
type Float interface{ ~float32 | ~float64 }

// Sum returns Σ x_i in float64.
func Sum[T Float](x []T) float64 {
	if xs, ok := any(x).([]float32); ok && level > goLoops {
		if n := len(xs) &^ 15; n > 0 {
			return asm[level].sum(&xs[0], n) + sum(xs[n:])
		}
	}
	return sum(x)
}

// SumSqDev returns Σ (x_i - m)² in float64.
func SumSqDev[T Float](x []T, m float64) float64 {
	if xs, ok := any(x).([]float32); ok && level > goLoops {
		if n := len(xs) &^ 15; n > 0 {
			return asm[level].sumSqDev(&xs[0], n, m) + sumSqDev(xs[n:], m)
		}
	}
	return sumSqDev(x, m)
}

// ScaleShift writes dst_i = a*x_i + b, then max(dst_i, 0) when relu is
// set (a NaN stays NaN). dst may be x.
func ScaleShift[T Float](dst, x []T, a, b T, relu bool) {
	_ = dst[:len(x)]
	if xs, ok := any(x).([]float32); ok && level > goLoops {
		ds := any(dst).([]float32)
		af, bf := float32(a), float32(b)
		if n := len(xs) &^ 15; n > 0 {
			asm[level].scaleShift(&ds[0], &xs[0], n, af, bf, relu)
			ds, xs = ds[n:], xs[n:]
		}
		scaleShift(ds, xs, af, bf, relu)
		return
	}
	scaleShift(dst, x, a, b, relu)
}

// GradSums returns Σ g'_i and Σ g'_i (x_i - m) in float64, where g' is g
// masked by a ReLU's output y (g'_i = g_i where y_i > 0, else 0) or g
// itself when y is nil.
func GradSums[T Float](x, g, y []T, m float64) (sg, sgx float64) {
	_ = g[:len(x)]
	if y != nil {
		_ = y[:len(x)]
	}
	if xs, ok := any(x).([]float32); ok && level > goLoops {
		gs, ys := any(g).([]float32), any(y).([]float32)
		if n := len(xs) &^ 15; n > 0 {
			sg, sgx = asm[level].gradSums(&xs[0], &gs[0], first(ys), n, m)
			xs, gs, ys = xs[n:], gs[n:], rest(ys, n)
		}
		a, b := gradSums(xs, gs, ys, m)
		return sg + a, sgx + b
	}
	return gradSums(x, g, y, m)
}

// InputGrad writes dst_i = ka*g'_i + kx*x_i + kc, with g' as in GradSums.
// dst may be x or g.
func InputGrad[T Float](dst, x, g, y []T, ka, kx, kc T) {
	_ = dst[:len(x)]
	_ = g[:len(x)]
	if y != nil {
		_ = y[:len(x)]
	}
	if xs, ok := any(x).([]float32); ok && level > goLoops {
		ds, gs, ys := any(dst).([]float32), any(g).([]float32), any(y).([]float32)
		k := [3]float32{float32(ka), float32(kx), float32(kc)}
		if n := len(xs) &^ 15; n > 0 {
			asm[level].inputGrad(&ds[0], &xs[0], &gs[0], first(ys), n, &k)
			ds, xs, gs, ys = ds[n:], xs[n:], gs[n:], rest(ys, n)
		}
		inputGrad(ds, xs, gs, ys, k[0], k[1], k[2])
		return
	}
	inputGrad(dst, x, g, y, ka, kx, kc)
}

// Add writes dst_i = a_i + b_i (the same rounding in every path). dst may
// be a or b.
func Add[T Float](dst, a, b []T) {
	_, _ = dst[:len(a)], b[:len(a)]
	if as, ok := any(a).([]float32); ok && level > goLoops {
		ds, bs := any(dst).([]float32), any(b).([]float32)
		if n := len(as) &^ 15; n > 0 {
			asm[level].add(&ds[0], &as[0], &bs[0], n)
			ds, as, bs = ds[n:], as[n:], bs[n:]
		}
		add(ds, as, bs)
		return
	}
	add(dst, a, b)
}

// AddBlocks adds blocks of n floats of src into dst: for each i in order,
// dst[dOffs[i]+t] += src[sOffs[i]+t] for t < n (blocks of dst may overlap).
// It panics if a block falls outside dst or src.
func AddBlocks(dst, src []float32, n int, dOffs, sOffs []int32) {
	if len(dOffs) != len(sOffs) {
		panic("vec: AddBlocks: offset lists differ in length")
	}
	if n <= 0 || len(dOffs) == 0 {
		return
	}
	for i, d := range dOffs {
		if d < 0 || sOffs[i] < 0 || int(d)+n > len(dst) || int(sOffs[i])+n > len(src) {
			panic("vec: AddBlocks: block out of range")
		}
	}
	if level > goLoops {
		asm[level].addBlocks(&dst[0], &src[0], n, &dOffs[0], &sOffs[0], len(dOffs))
		return
	}
	for i, d := range dOffs {
		add(dst[d:int(d)+n], dst[d:int(d)+n], src[sOffs[i]:int(sOffs[i])+n])
	}
}

// CopyRows copies rows rows of n floats: dst[r*ldd+t] = src[r*lds+t] for
// t < n (a block of image rows into a padded plane, or back). It panics if a
// row falls outside dst or src.
func CopyRows(dst []float32, ldd int, src []float32, lds, rows, n int) {
	if rows <= 0 || n <= 0 {
		return
	}
	if ldd < n || lds < n || (rows-1)*ldd+n > len(dst) || (rows-1)*lds+n > len(src) {
		panic("vec: CopyRows: row out of range")
	}
	if level > goLoops {
		asm[level].copyRows(&dst[0], ldd, &src[0], lds, rows, n)
		return
	}
	for r := 0; r < rows; r++ {
		copy(dst[r*ldd:r*ldd+n], src[r*lds:r*lds+n])
	}
}

// Deinterleave splits rows rows of 2·pairs floats into their even and odd
// elements: even[r*lde+t] = src[r*lds+2t], odd[r*ldo+t] = src[r*lds+2t+1]
// for t < pairs (image rows into stride-2 phase planes). Interleave is its
// inverse. They panic if a row falls outside a slice.
func Deinterleave(even []float32, lde int, odd []float32, ldo int, src []float32, lds, rows, pairs int) {
	interleaving(even, lde, odd, ldo, src, lds, rows, pairs, false)
}

// Interleave writes dst[r*ldd+2t] = even[r*lde+t], dst[r*ldd+2t+1] =
// odd[r*ldo+t].
func Interleave(dst []float32, ldd int, even []float32, lde int, odd []float32, ldo, rows, pairs int) {
	interleaving(even, lde, odd, ldo, dst, ldd, rows, pairs, true)
}

func interleaving(even []float32, lde int, odd []float32, ldo int, row []float32, ldr, rows, pairs int, join bool) {
	if rows <= 0 || pairs <= 0 {
		return
	}
	if lde < pairs || ldo < pairs || ldr < 2*pairs ||
		(rows-1)*lde+pairs > len(even) || (rows-1)*ldo+pairs > len(odd) || (rows-1)*ldr+2*pairs > len(row) {
		panic("vec: Deinterleave/Interleave: row out of range")
	}
	if level > goLoops {
		asm[level].interleave(&even[0], lde, &odd[0], ldo, &row[0], ldr, rows, pairs, join)
		return
	}
	for r := 0; r < rows; r++ {
		e, o, x := even[r*lde:r*lde+pairs], odd[r*ldo:r*ldo+pairs], row[r*ldr:r*ldr+2*pairs]
		for t := range e {
			if join {
				x[2*t], x[2*t+1] = e[t], o[t]
			} else {
				e[t], o[t] = x[2*t], x[2*t+1]
			}
		}
	}
}

// first returns &y[0], or nil for a nil (no mask) y.
func first(y []float32) *float32 {
	if y == nil {
		return nil
	}
	return &y[0]
}

// rest returns y[n:], keeping a nil y nil.
func rest(y []float32, n int) []float32 {
	if y == nil {
		return nil
	}
	return y[n:]
}

// The Go loops: the whole slice on other element types and CPUs, the tail
// after the last block of 16 otherwise. Four partial sums keep the float64
// additions from waiting on each other.

func sum[T Float](x []T) float64 {
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(x); i += 4 {
		q := x[i : i+4 : i+4]
		s0 += float64(q[0])
		s1 += float64(q[1])
		s2 += float64(q[2])
		s3 += float64(q[3])
	}
	for ; i < len(x); i++ {
		s0 += float64(x[i])
	}
	return (s0 + s1) + (s2 + s3)
}

func sumSqDev[T Float](x []T, m float64) float64 {
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

func scaleShift[T Float](dst, x []T, a, b T, relu bool) {
	dst = dst[:len(x)]
	if relu {
		for i, e := range x {
			v := a*e + b
			if v < 0 {
				v = 0
			}
			dst[i] = v
		}
		return
	}
	for i, e := range x {
		dst[i] = a*e + b
	}
}

// masked returns g where y > 0, else 0.
func masked[T Float](g, y T) T {
	if y > 0 {
		return g
	}
	return 0
}

func gradSums[T Float](x, g, y []T, m float64) (sg, sgx float64) {
	g = g[:len(x)]
	if y != nil {
		y = y[:len(x)]
		for i, e := range g {
			ge := float64(masked(e, y[i]))
			sg += ge
			sgx += ge * (float64(x[i]) - m)
		}
		return sg, sgx
	}
	var a0, a1, a2, a3, b0, b1, b2, b3 float64
	i := 0
	for ; i+4 <= len(g); i += 4 {
		gq, xq := g[i:i+4:i+4], x[i:i+4:i+4]
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
	for ; i < len(g); i++ {
		ge := float64(g[i])
		a0 += ge
		b0 += ge * (float64(x[i]) - m)
	}
	return (a0 + a1) + (a2 + a3), (b0 + b1) + (b2 + b3)
}

func inputGrad[T Float](dst, x, g, y []T, ka, kx, kc T) {
	dst, g = dst[:len(x)], g[:len(x)]
	if y != nil {
		y = y[:len(x)]
		for i, e := range x {
			dst[i] = ka*masked(g[i], y[i]) + kx*e + kc
		}
		return
	}
	for i, e := range x {
		dst[i] = ka*g[i] + kx*e + kc
	}
}

func add[T Float](dst, a, b []T) {
	dst, b = dst[:len(a)], b[:len(a)]
	for i, v := range a {
		dst[i] = v + b[i]
	}
}

// loops are the assembly loops of one level (asm[level]; none outside amd64).
type loops struct {
	// The norm passes and add take n, a positive multiple of 16.
	sum        func(x *float32, n int) float64
	sumSqDev   func(x *float32, n int, m float64) float64
	scaleShift func(dst, x *float32, n int, a, b float32, relu bool)
	gradSums   func(x, gy, y *float32, n int, m float64) (sg, sgx float64)
	inputGrad  func(dst, x, gy, y *float32, n int, k *[3]float32)
	add        func(dst, a, b *float32, n int)
	// The row and block loops take any positive n, rows, pairs, count.
	addBlocks  func(dst, src *float32, n int, dOffs, sOffs *int32, count int)
	copyRows   func(dst *float32, ldd int, src *float32, lds, rows, n int)
	interleave func(even *float32, lde int, odd *float32, ldo int, row *float32, ldr, rows, pairs int, join bool)
}

// UsePortable makes every loop run in plain Go, whatever the CPU: the
// results are then the same on every amd64 machine (the assembly levels
// sum in a different order, so their last bits differ from each other's).
// Call it before any work starts; it is not safe alongside running loops.
// restore switches back to the level in use before.
func UsePortable() (restore func()) {
	old := level
	level = goLoops
	return func() { level = old }
}
