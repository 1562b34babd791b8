package nn

import (
	"maps"
	"slices"
	"sync"

	"github.com/advbench/advbench/internal/sgemm"
)

// The float32 convolution on an assembly GEMM kernel never materialises the
// patch matrix: the weights are packed once per call (sgemm.Pack), the
// patches are packed straight from the images into the GEMM's column panels
// (patches.BPanels), and the product is written straight into the output
// batch where every 16-column tile lies inside one image. The input gradient
// of a stride-1 convolution is the convolution of the output gradient with
// the flipped, transposed kernel, so it takes the same path and needs no
// col2im. Other shapes use the im2col path of conv.go.

// fastConv reports whether float32 convolutions take this path.
func fastConv() bool { return sgemm.Fast() }

// patches is the implicit patch matrix of a chunk of images, read from a
// zero-padded copy of them (so no read needs a bounds test): depth row r =
// (c, ky, kx), column j = output position j%P of the chunk's image j/P.
type patches struct {
	g      convGeom
	pad    []float32 // the chunk's images, each plane padded to ph x pw
	ph, pw int
	rows   []int   // per depth row: offset of its tap in a padded image
	rows32 []int32 // the same, for the in-place kernel
}

// Indirect reports whether every aligned 16-column tile is one run of a
// stride-1 output row, so the kernel can read its rows in place.
func (pt *patches) Indirect() bool { return pt.g.stride == 1 && pt.g.outW()%16 == 0 }

// BTile returns the padded data from the patch origin of column j.
func (pt *patches) BTile(j int) []float32 {
	g := pt.g
	wo, p := g.outW(), g.colCols()
	pos := j % p
	return pt.pad[(j/p)*g.c*pt.ph*pt.pw+(pos/wo)*pt.pw+pos%wo:]
}

// BOffsets returns each depth row's tap offset.
func (pt *patches) BOffsets() []int32 { return pt.rows32 }

// newPatches prepares the patch matrix of images [i0, i1) of x, padding
// them into buf: nil, or the buffer a call of the same geometry returned
// (its padding is never written, so it stays zero).
func newPatches(x []float32, g convGeom, i0, i1 int, rows []int, rows32 []int32, buf []float32) *patches {
	ph, pw := g.h+2*g.pad, g.w+2*g.pad
	in, pin := g.c*g.h*g.w, g.c*ph*pw
	need := (i1 - i0) * pin
	// A fresh buffer is zero; a reused one served this geometry before, so
	// its padding is still zero and its interior is overwritten below.
	if cap(buf) < need {
		buf = make([]float32, need)
	}
	buf = buf[:need]
	for i := i0; i < i1; i++ {
		for c := 0; c < g.c; c++ {
			src := x[i*in+c*g.h*g.w:]
			dst := buf[(i-i0)*pin+c*ph*pw+g.pad*pw+g.pad:]
			for y := 0; y < g.h; y++ {
				copy(dst[y*pw:y*pw+g.w], src[y*g.w:(y+1)*g.w])
			}
		}
	}
	return &patches{g: g, pad: buf, ph: ph, pw: pw, rows: rows, rows32: rows32}
}

// patchRows returns each depth row's tap offset in a padded image, as int
// and as int32.
func patchRows(g convGeom) ([]int, []int32) {
	ph, pw := g.h+2*g.pad, g.w+2*g.pad
	rows := make([]int, 0, g.colRows())
	for c := 0; c < g.c; c++ {
		for ky := 0; ky < g.k; ky++ {
			for kx := 0; kx < g.k; kx++ {
				rows = append(rows, c*ph*pw+ky*pw+kx)
			}
		}
	}
	rows32 := make([]int32, len(rows))
	for i, r := range rows {
		rows32[i] = int32(r)
	}
	return rows, rows32
}

// segment is a run of panel columns [t0, t0+n) on one output row: base is
// the padded offset of its first column's patch origin.
type segment struct{ t0, n, base int }

// BPanels packs depth rows [pc, pc+kcur) of columns [jc, jc+ncur).
func (pt *patches) BPanels(dst []float32, pc, kcur, jc, ncur int) {
	const nr = 16
	g := pt.g
	wo, p, pin := g.outW(), g.colCols(), g.c*pt.ph*pt.pw
	rows := pt.rows[pc : pc+kcur]
	var segs [nr]segment
	for q := 0; q*nr < ncur; q++ {
		panel := dst[q*kcur*nr : (q+1)*kcur*nr]
		cols := min(nr, ncur-q*nr)
		ns := 0
		for t := 0; t < cols; {
			j := jc + q*nr + t
			pos := j % p
			oy, ox := pos/wo, pos%wo
			n := min(cols-t, wo-ox)
			segs[ns] = segment{t0: t, n: n, base: (j/p)*pin + oy*g.stride*pt.pw + ox*g.stride}
			ns++
			t += n
		}
		if cols < nr {
			clear(panel)
		}
		src := pt.pad
		switch {
		case g.stride != 1:
			for pr, off := range rows {
				out := panel[pr*nr : (pr+1)*nr]
				for _, s := range segs[:ns] {
					for t := 0; t < s.n; t++ {
						out[s.t0+t] = src[s.base+off+t*g.stride]
					}
				}
			}
		case ns == 1 && cols == nr:
			// Rows go through locals: a direct array assignment between
			// slices that may overlap compiles to a memmove call.
			at := src[segs[0].base:]
			for pr, off := range rows {
				v := *(*[nr]float32)(at[off:])
				*(*[nr]float32)(panel[pr*nr:]) = v
			}
		case cols == nr && wo == 8 && ns == 2:
			a, b := src[segs[0].base:], src[segs[1].base:]
			for pr, off := range rows {
				va, vb := *(*[8]float32)(a[off:]), *(*[8]float32)(b[off:])
				*(*[8]float32)(panel[pr*nr:]) = va
				*(*[8]float32)(panel[pr*nr+8:]) = vb
			}
		case cols == nr && wo == 4 && ns == 4:
			for pr, off := range rows {
				for i, s := range segs[:4] {
					v := *(*[4]float32)(src[s.base+off:])
					*(*[4]float32)(panel[pr*nr+4*i:]) = v
				}
			}
		default:
			for pr, off := range rows {
				out := panel[pr*nr : (pr+1)*nr]
				for _, s := range segs[:ns] {
					copy(out[s.t0:s.t0+s.n], src[s.base+off:])
				}
			}
		}
	}
}

// convForwardFast computes y = conv(x, w) for n images.
func convForwardFast(x, w, y []float32, n int, g convGeom) {
	a := sgemm.Pack(false, g.cout, g.colRows(), w, g.colRows(), 1)
	convPacked(x, a, y, n, g)
}

// convPacked computes y = conv(x, weights packed as a) for n images.
func convPacked(x []float32, a *sgemm.Packed, y []float32, n int, g convGeom) {
	k, p := g.colRows(), g.colCols()
	out := g.cout * p
	rows, rows32 := patchRows(g)
	size, count := chunks(n, p)
	direct := p%16 == 0
	off := func(j int) int { return (j/p)*out + j%p }
	ParallelFor(count, func(lo, hi int) {
		var tmp, buf []float32
		for ch := lo; ch < hi; ch++ {
			i0, i1 := ch*size, min(n, (ch+1)*size)
			cols := (i1 - i0) * p
			b := newPatches(x, g, i0, i1, rows, rows32, buf)
			buf = b.pad
			if direct {
				ys := y[i0*out : i1*out]
				clear(ys)
				sgemm.Gemm(g.cout, cols, k, a, b, ys, p, off)
				continue
			}
			if tmp == nil {
				tmp = make([]float32, g.cout*size*p)
			}
			clear(tmp[:g.cout*cols])
			sgemm.Gemm(g.cout, cols, k, a, b, tmp[:g.cout*cols], cols, nil)
			planes(y, tmp, i0, i1, g.cout, p, false)
		}
	})
}

// transposedGeom is the geometry of the stride-1 convolution that maps the
// output gradient of g to its input gradient: Cout channels of Ho x Wo in,
// C out, the same kernel size, padding k-1-pad.
func (g convGeom) transposedGeom() (convGeom, bool) {
	if g.stride != 1 || g.pad > g.k-1 {
		return convGeom{}, false
	}
	return convGeom{c: g.cout, h: g.outH(), w: g.outW(), cout: g.c, k: g.k, stride: 1, pad: g.k - 1 - g.pad}, true
}

// flipTranspose returns w' (C, Cout, k, k) with w'[c][o][ky][kx] =
// w[o][c][k-1-ky][k-1-kx].
func flipTranspose(w []float32, g convGeom) []float32 {
	kk := g.k * g.k
	out := make([]float32, len(w))
	for o := 0; o < g.cout; o++ {
		for c := 0; c < g.c; c++ {
			src := w[(o*g.c+c)*kk : (o*g.c+c+1)*kk]
			dst := out[(c*g.cout+o)*kk : (c*g.cout+o+1)*kk]
			for t := range dst {
				dst[t] = src[kk-1-t]
			}
		}
	}
	return out
}

// convBackwardDataFast computes dx from w and dy for a stride-1
// convolution; ok is false for other geometries.
func convBackwardDataFast(w, dy, dx []float32, n int, g convGeom) (ok bool) {
	tg, ok := g.transposedGeom()
	if !ok {
		return false
	}
	convForwardFast(dy, flipTranspose(w, g), dx, n, tg)
	return true
}

// patchesT is the transpose of a chunk's patch matrix, as a right operand:
// depth = output positions of the chunk, columns = depth rows (c, ky, kx).
type patchesT struct {
	*patches
	runs []segment
}

// Indirect is false: the transposed patches are always packed (the
// embedded patches' in-place reading does not apply to them).
func (pt *patchesT) Indirect() bool { return false }

// BPanels packs positions [pc, pc+kcur) of depth rows [jc, jc+ncur): each
// depth row is read along runs of positions on one output row.
func (pt *patchesT) BPanels(dst []float32, pc, kcur, jc, ncur int) {
	const nr = 16
	g := pt.g
	wo, p, pin := g.outW(), g.colCols(), g.c*pt.ph*pt.pw
	pt.runs = pt.runs[:0]
	for u := 0; u < kcur; {
		j := pc + u
		pos := j % p
		oy, ox := pos/wo, pos%wo
		n := min(kcur-u, wo-ox)
		pt.runs = append(pt.runs, segment{t0: u, n: n, base: (j/p)*pin + oy*g.stride*pt.pw + ox*g.stride})
		u += n
	}
	for q := 0; q*nr < ncur; q++ {
		panel := dst[q*kcur*nr : (q+1)*kcur*nr]
		cols := min(nr, ncur-q*nr)
		if cols < nr {
			clear(panel)
		}
		if cols == nr && g.stride == 1 {
			var offs [nr]int32
			for t := range offs {
				offs[t] = int32(pt.rows[jc+q*nr+t])
			}
			for _, s := range pt.runs {
				sgemm.Gather16(panel[s.t0*nr:], pt.pad[s.base:], &offs, s.n)
			}
			continue
		}
		for t := 0; t < cols; t++ {
			off := pt.rows[jc+q*nr+t]
			for _, s := range pt.runs {
				out := panel[s.t0*nr+t:]
				if g.stride == 1 {
					for u, v := range pt.pad[s.base+off : s.base+off+s.n] {
						out[u*nr] = v
					}
					continue
				}
				for u := 0; u < s.n; u++ {
					out[u*nr] = pt.pad[s.base+off+u*g.stride]
				}
			}
		}
	}
}

// batchRows is a batch's (rows x positions) matrix read in place, as a left
// operand: row o, column j is d[i0 + j/p][o][j%p] (an output gradient
// (N, Cout, Ho, Wo) seen as Cout x chunk positions).
type batchRows struct {
	d           []float32
	rows, p, i0 int
}

// APanels packs rows [ic, ic+mcur) and positions [pc, pc+kcur) into buf.
func (b batchRows) APanels(buf []float32, mr, ic, mcur, pc, kcur int) []float32 {
	for q := 0; q*mr < mcur; q++ {
		panel := buf[q*kcur*mr : (q+1)*kcur*mr]
		rows := min(mr, mcur-q*mr)
		if rows == 16 && mr == 16 {
			var offs [16]int32
			for i := range offs {
				offs[i] = int32((ic + q*mr + i) * b.p)
			}
			for u := 0; u < kcur; {
				j := pc + u
				img, pos := b.i0+j/b.p, j%b.p
				n := min(kcur-u, b.p-pos)
				sgemm.Gather16(panel[u*mr:], b.d[img*b.rows*b.p+pos:], &offs, n)
				u += n
			}
			continue
		}
		if rows < mr {
			clear(panel)
		}
		for i := 0; i < rows; i++ {
			o := ic + q*mr + i
			for u := 0; u < kcur; {
				j := pc + u
				img, pos := b.i0+j/b.p, j%b.p
				n := min(kcur-u, b.p-pos)
				out := panel[u*mr+i:]
				for v, x := range b.d[(img*b.rows+o)*b.p+pos : (img*b.rows+o)*b.p+pos+n] {
					out[v*mr] = x
				}
				u += n
			}
		}
	}
	return buf
}

// convBackwardWeightFast computes dw = Σ_chunks dy_chunk · patches_chunkᵀ
// with both operands read in place. The first worker accumulates into dw,
// the others into buffers added in worker order, so the sum is the same on
// every run.
func convBackwardWeightFast(x, dy, dw []float32, n int, g convGeom) {
	k, p := g.colRows(), g.colCols()
	rows, rows32 := patchRows(g)
	size, count := chunks(n, p)
	parts := map[int][]float32{} // by first chunk
	var mu sync.Mutex
	clear(dw)
	ParallelFor(count, func(lo, hi int) {
		acc := dw
		if lo > 0 {
			acc = make([]float32, len(dw))
		}
		var buf []float32
		for ch := lo; ch < hi; ch++ {
			i0, i1 := ch*size, min(n, (ch+1)*size)
			pt := newPatches(x, g, i0, i1, rows, rows32, buf)
			buf = pt.pad
			sgemm.Gemm(g.cout, k, (i1-i0)*p, batchRows{d: dy, rows: g.cout, p: p, i0: i0}, &patchesT{patches: pt}, acc, k, nil)
		}
		if lo > 0 {
			mu.Lock()
			parts[lo] = acc
			mu.Unlock()
		}
	})
	for _, lo := range slices.Sorted(maps.Keys(parts)) {
		for i, v := range parts[lo] {
			dw[i] += v
		}
	}
}
