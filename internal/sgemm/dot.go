package sgemm

// DotTile is a product whose depth runs along memory in both factors, as in
// a convolution's weight gradient (output gradient rows times patch rows,
// both along output positions): it computes the 4x6 tile
//
//	c[i*6+j] = Σ_t Σ_{u<16} a[aoff[t] + i*lda + u] · b[boff[t] + rows[j] + u]
//
// for i < 4, j < 6: four A rows lda floats apart, six B rows at arbitrary
// offsets, and a table of 16-float blocks (the positions) read from both.
// Nothing is packed; the AVX-512 kernel keeps the 24 sums in registers over
// the whole table. hiA and hiB are the largest entries of aoff and boff.
// It panics if a read would fall outside a or b.
func DotTile(c *[24]float32, a []float32, lda int, aoff []int32, hiA int, b []float32, rows *[6]int32, boff []int32, hiB int) {
	if len(aoff) != len(boff) {
		panic("sgemm: DotTile tables differ in length")
	}
	if len(aoff) == 0 {
		*c = [24]float32{}
		return
	}
	hiRow := rows[0]
	for _, r := range rows {
		if r < 0 {
			panic("sgemm: DotTile negative row offset")
		}
		hiRow = max(hiRow, r)
	}
	if lda < 0 || hiA+3*lda+16 > len(a) || hiB+int(hiRow)+16 > len(b) {
		panic("sgemm: DotTile index out of range")
	}
	if HasDotTile {
		dot4x6(len(aoff), &a[0], lda, &aoff[0], &b[0], &boff[0], &rows[0], &c[0])
		return
	}
	dotTileGo(c, a, lda, aoff, b, rows, boff)
}

// dotTileGo is DotTile in plain Go (the reference the kernel is tested
// against, and the path where there is no kernel).
func dotTileGo(c *[24]float32, a []float32, lda int, aoff []int32, b []float32, rows *[6]int32, boff []int32) {
	for i := 0; i < 4; i++ {
		for j, r := range rows {
			var s float32
			for t, ao := range aoff {
				x := a[int(ao)+i*lda:][:16]
				y := b[int(boff[t])+int(r):][:16]
				for u := range x {
					s += x[u] * y[u]
				}
			}
			c[i*6+j] = s
		}
	}
}
