package sgemm

// Gather16 writes, for u < n, dst[16u + t] = src[u + offs[t]] for the 16
// offsets: the packed form of 16 rows of a matrix read along n contiguous
// columns (a transposing pack). Whole blocks of columns are transposed in
// registers (16-wide with AVX-512, 8-wide with AVX2), the rest gathered (one
// AVX-512 gather per 16 values, or in Go). It panics if an index falls
// outside src or dst.
func Gather16(dst, src []float32, offs *[16]int32, n int) {
	if n <= 0 {
		return
	}
	_ = dst[16*n-1]
	lo, hi := offs[0], offs[0]
	for _, o := range offs {
		lo, hi = min(lo, o), max(hi, o)
	}
	if lo < 0 || int(hi)+n > len(src) {
		panic("sgemm: Gather16 index out of range")
	}
	if hasAVX512 {
		// Whole blocks of 16 columns are loaded as 16 rows and transposed
		// in registers; the rest is gathered.
		if blocks := n / 16; blocks > 0 {
			transpose16(&dst[0], &src[0], &offs[0], blocks)
			dst, src, n = dst[256*blocks:], src[16*blocks:], n-16*blocks
		}
		if n > 0 {
			gather16(&dst[0], &src[0], &offs[0], n)
		}
		return
	}
	if hasAVX2 {
		if blocks := n / 8; blocks > 0 {
			transpose8(&dst[0], &src[0], &offs[0], blocks)
			dst, src, n = dst[128*blocks:], src[8*blocks:], n-8*blocks
		}
		if n == 0 {
			return
		}
	}
	gather16Go(dst, src, offs, n)
}

func gather16Go(dst, src []float32, offs *[16]int32, n int) {
	for t, o := range offs {
		for u, v := range src[int(o) : int(o)+n] {
			dst[16*u+t] = v
		}
	}
}
