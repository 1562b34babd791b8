package conv

import (
	"sync"

	"github.com/advbench/advbench/internal/parallel"
	"github.com/advbench/advbench/internal/sgemm"
	"github.com/advbench/advbench/internal/vec"
)

// The float32 convolution on an assembly GEMM kernel never materialises the
// patch matrix: the weights are packed once per call (sgemm.Pack), the
// patches are read from zero-padded images by the micro-kernel through an
// offset table where output rows are multiples of 16 wide (patches is an
// sgemm.IndirectB) and packed from them otherwise (patches.BPanels); the
// weight gradient reads the output gradient and the transposed patches in
// place (batchRows, patchesT). The product is written straight into the output
// batch where every 16-column tile lies inside one image. The input gradient
// of a stride-1 convolution is the convolution of the output gradient with
// the flipped, transposed kernel, so it takes the same path and needs no
// col2im; at stride 2 each parity phase of the input gradient is such a
// product over the taps of that parity; other input gradients add Wᵀ·dy
// back along the runs the forward pass reads (backwardDataScatter). Every
// geometry takes this path on such a CPU; the im2col path of im2col.go is
// the float64 one and the reference the tests hold it to.

// patches is the implicit patch matrix of a chunk of images, read from a
// zero-padded copy of them (so no read needs a bounds test): depth row r =
// (c, ky, kx), column j = output position j%P of the chunk's image j/P.
// Each padded channel is split into stride² phase planes (plane (fy, fx)
// holds the padded pixels (py, px) with py%stride = fy, px%stride = fx, at
// (py/stride, px/stride)), so that every tap reads consecutive output
// positions of an output row from consecutive floats at any stride; at
// stride 1 the one plane is the padded image. One value serves every chunk
// a worker takes (load).
type patches struct {
	g      Geom
	pad    []float32 // the chunk's images: per channel, stride² phase planes
	ph, pw int       // phase plane height and width
	rows   []int32   // per depth row: offset of its tap in a padded image
	key    any       // where done keeps pad (bufPools)
	// wo, p and img are g.OutW(), g.colCols() and the floats of one padded
	// image, kept for origin, which runs once per tile.
	wo, p, img int
}

// phasePlane returns the height and width of one phase plane of g.
func (g Geom) phasePlane() (ph, pw int) {
	return (g.H + 2*g.Pad + g.Stride - 1) / g.Stride, (g.W + 2*g.Pad + g.Stride - 1) / g.Stride
}

// newPatches returns the operand for geometry g with tap offsets rows
// (patchRows); load fills it. Its buffer comes from the ones earlier calls
// of the same geometry gave back (done), whose padding is still zero.
func newPatches(g Geom, rows []int32) *patches { return patchesFrom(g, rows, g) }

// newScratchPatches is newPatches for a caller that writes the padding
// (and clears it itself): its buffers are kept apart from the zero-padded
// ones.
func newScratchPatches(g Geom, rows []int32) *patches {
	return patchesFrom(g, rows, scratchKey{"written-pad", g})
}

func patchesFrom(g Geom, rows []int32, key any) *patches {
	ph, pw := g.phasePlane()
	pt := &patches{g: g, ph: ph, pw: pw, rows: rows, pad: takeBuf(key), key: key, wo: g.OutW(), p: g.colCols()}
	pt.img = g.C * pt.channelSize()
	return pt
}

// done gives the buffer back for the next call of the same geometry; pt is
// not used after.
func (pt *patches) done() { giveBuf(pt.key, pt.pad) }

// Buffers outlive the calls that use them, so that a training step does
// not allocate (and fault in) a padded chunk per convolution and worker:
// bufPools holds a sync.Pool per key, a geometry for padded chunks (their
// padding is never written, so stays zero) or a scratchKey.
var bufPools sync.Map // key -> *sync.Pool of *[]float32

// scratchKey keys buffers whose contents do not matter (the caller clears
// what it uses), by purpose and geometry.
type scratchKey struct {
	what string
	g    Geom
}

// takeBuf returns a buffer given back under key, or nil.
func takeBuf(key any) []float32 {
	if p, ok := bufPools.Load(key); ok {
		if b, ok := p.(*sync.Pool).Get().(*[]float32); ok {
			return *b
		}
	}
	return nil
}

// scratch returns a buffer of n floats (any contents) from those given back
// under key, or a new one.
func scratch(key scratchKey, n int) []float32 {
	if b := takeBuf(key); len(b) >= n {
		return b[:n]
	}
	return make([]float32, n)
}

// giveBuf keeps b for a later takeBuf(key).
func giveBuf(key any, b []float32) {
	if b == nil {
		return
	}
	p, _ := bufPools.LoadOrStore(key, &sync.Pool{})
	p.(*sync.Pool).Put(&b)
}

// channelSize is the floats one padded channel takes (its phase planes).
func (pt *patches) channelSize() int { return pt.g.Stride * pt.g.Stride * pt.ph * pt.pw }

// load pads images [i0, i1) of x into the operand. The buffer is only ever
// written where pixels go, so once allocated (zero) its padding stays zero
// for every later chunk of the same geometry.
func (pt *patches) load(x []float32, i0, i1 int) {
	pt.reserve(i1 - i0)
	pt.move(x, i0, i1, true)
}

// reserve sizes the buffer for a chunk of the given number of images; a
// buffer it allocates is zero.
func (pt *patches) reserve(images int) {
	need := images * pt.g.C * pt.channelSize()
	if cap(pt.pad) < need {
		pt.pad = make([]float32, need)
	}
	pt.pad = pt.pad[:need]
}

// unload writes the pixels of images [i0, i1) from the operand into x,
// dropping the padding (load's inverse).
func (pt *patches) unload(x []float32, i0, i1 int) { pt.move(x, i0, i1, false) }

// rowPiece is where a stretch of an image row goes in a padded channel:
// pixels x0, x0+stride, ... (n of them) of row y at off, off+1, ...
type rowPiece struct{ y, x0, n, off int }

// pieces returns the row pieces of one channel: one per row at stride 1,
// one per (row, phase column) otherwise.
func (pt *patches) pieces() []rowPiece {
	return cached(&pieceTables, pt.g, func() (pieces []rowPiece) {
		g := pt.g
		s, pp := g.Stride, pt.ph*pt.pw
		for y := 0; y < g.H; y++ {
			py := y + g.Pad
			for fx := 0; fx < s; fx++ {
				// Pixels x with (x+pad)%s == fx sit in plane (py%s, fx).
				x0 := ((fx-g.Pad)%s + s) % s
				if x0 >= g.W {
					continue
				}
				off := ((py%s)*s+fx)*pp + (py/s)*pt.pw + (x0+g.Pad)/s
				pieces = append(pieces, rowPiece{y: y, x0: x0, n: (g.W - x0 + s - 1) / s, off: off})
			}
		}
		return pieces
	})
}

// move copies the pixels of images [i0, i1) between x and the operand.
func (pt *patches) move(x []float32, i0, i1 int, toPad bool) {
	g := pt.g
	s, cs := g.Stride, pt.channelSize()
	hw := g.H * g.W
	pieces := pt.pieces()
	for i := i0; i < i1; i++ {
		for c := 0; c < g.C; c++ {
			img := x[(i*g.C+c)*hw : (i*g.C+c+1)*hw]
			ch := pt.pad[((i-i0)*g.C+c)*cs : ((i-i0)*g.C+c+1)*cs]
			if s == 1 { // the rows lie pw apart from the first one's place
				at := ch[pieces[0].off:]
				if toPad {
					vec.CopyRows(at, pt.pw, img, g.W, g.H, g.W)
				} else {
					vec.CopyRows(img, g.W, at, pt.pw, g.H, g.W)
				}
				continue
			}
			if s == 2 && g.W%2 == 0 {
				// Image rows of one parity lie pw apart in the same two
				// phase planes (pieces 2y and 2y+1 of row y): their even and
				// odd pixels are split (joined) in one pass.
				for y0 := 0; y0 < min(2, g.H); y0++ {
					even, odd := pieces[2*y0], pieces[2*y0+1]
					if even.x0 != 0 {
						even, odd = odd, even
					}
					rows, row := (g.H-y0+1)/2, img[y0*g.W:]
					if toPad {
						vec.Deinterleave(ch[even.off:], pt.pw, ch[odd.off:], pt.pw, row, 2*g.W, rows, g.W/2)
					} else {
						vec.Interleave(row, 2*g.W, ch[even.off:], pt.pw, ch[odd.off:], pt.pw, rows, g.W/2)
					}
				}
				continue
			}
			for _, r := range pieces {
				row := img[r.y*g.W : (r.y+1)*g.W]
				padded := ch[r.off : r.off+r.n]
				if toPad {
					for t := range padded {
						padded[t] = row[r.x0+t*s]
					}
				} else {
					for t, v := range padded {
						row[r.x0+t*s] = v
					}
				}
			}
		}
	}
}

// patchRows returns each depth row's tap offset in a padded image (made
// once per geometry; callers only read it).
func patchRows(g Geom) []int32 {
	return cached(&rowTables, g, func() []int32 { return buildPatchRows(g) })
}

func buildPatchRows(g Geom) []int32 {
	ph, pw := g.phasePlane()
	s, pp := g.Stride, ph*pw
	rows := make([]int32, 0, g.colRows())
	for c := 0; c < g.C; c++ {
		for ky := 0; ky < g.K; ky++ {
			for kx := 0; kx < g.K; kx++ {
				phase := (ky%s)*s + kx%s
				rows = append(rows, int32((c*s*s+phase)*pp+(ky/s)*pw+kx/s))
			}
		}
	}
	return rows
}

// Indirect reports how the kernel can read an aligned 16-column tile in
// place: a tile is one run of an output row when rows are multiples of 16
// wide, or 2 (4) runs on consecutive output rows one phase-plane row apart
// when rows are 8 (4) wide and no tile crosses an image.
func (pt *patches) Indirect() sgemm.Segments {
	g := pt.g
	wo := g.OutW()
	switch {
	case g.colCols()%16 != 0:
		return sgemm.Segments{}
	case wo%16 == 0:
		return sgemm.Segments{N: 1}
	case wo == 8 || wo == 4:
		return sgemm.Segments{N: 16 / wo, Dist: pt.pw}
	}
	return sgemm.Segments{}
}

// The patch operand must stay readable in place.
var _ sgemm.IndirectB = (*patches)(nil)

// BTile returns the padded data from the patch origin of column j.
func (pt *patches) BTile(j int) []float32 { return pt.pad[pt.origin(j):] }

// BOffsets returns each depth row's tap offset.
func (pt *patches) BOffsets() []int32 { return pt.rows }

// origin is the padded offset of column j's patch origin (tap (0, 0) of
// channel 0, in phase plane (0, 0)).
func (pt *patches) origin(j int) int {
	pos := j % pt.p
	return (j/pt.p)*pt.img + (pos/pt.wo)*pt.pw + pos%pt.wo
}

// run is a stretch of n consecutive columns (or positions) starting t0
// into the stretch asked for, lying on one output row of one image, so
// that it is read contiguously from base.
type run struct{ t0, n, base int }

// runs appends to dst the runs covering columns [j0, j0+count).
func (pt *patches) runs(dst []run, j0, count int) []run {
	wo, p := pt.wo, pt.p
	for t := 0; t < count; {
		j := j0 + t
		ox := j % p % wo
		n := min(count-t, wo-ox)
		dst = append(dst, run{t0: t, n: n, base: pt.origin(j)})
		t += n
	}
	return dst
}

// BPanels packs depth rows [pc, pc+kcur) of columns [jc, jc+ncur).
func (pt *patches) BPanels(dst []float32, pc, kcur, jc, ncur int) {
	const nr = 16
	g := pt.g
	wo := g.OutW()
	rows := pt.rows[pc : pc+kcur]
	var buf [nr]run
	for q := 0; q*nr < ncur; q++ {
		panel := dst[q*kcur*nr : (q+1)*kcur*nr]
		cols := min(nr, ncur-q*nr)
		segs := pt.runs(buf[:0], jc+q*nr, cols)
		ns := len(segs)
		if cols < nr {
			clear(panel)
		}
		src := pt.pad
		switch {
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
				for i, s := range segs {
					v := *(*[4]float32)(src[s.base+int(off):])
					*(*[4]float32)(panel[pr*nr+4*i:]) = v
				}
			}
		default:
			for pr, off := range rows {
				out := panel[pr*nr : (pr+1)*nr]
				for _, s := range segs {
					copy(out[s.t0:s.t0+s.n], src[s.base+int(off):])
				}
			}
		}
	}
}

// BPairPanels is BPanels with each panel's depth rows paired as the bf16
// kernel reads them (sgemm.PairedB): where the float32 kernel could read a
// tile in place (Indirect), its panel is gathered from there and paired in
// one pass (sgemm.PairGather); any other is packed and then paired.
func (pt *patches) BPairPanels(dst []float32, pc, kcur, jc, ncur int) {
	const nr = 16
	seg := pt.Indirect()
	rows := sgemm.NewOffsets(pt.rows[pc : pc+kcur])
	for q := 0; q*nr < ncur; q++ {
		panel := dst[q*kcur*nr : (q+1)*kcur*nr]
		cols := min(nr, ncur-q*nr)
		if seg.N != 0 && cols == nr {
			sgemm.PairGather(panel, pt.pad, pt.origin(jc+q*nr), rows, seg)
			continue
		}
		pt.BPanels(panel, pc, kcur, jc+q*nr, cols)
		sgemm.PairRows(panel, kcur)
	}
}

var _ sgemm.PairedB = (*patches)(nil)

// forwardFast computes y = conv(x, w) for n images.
func forwardFast(x, w, y []float32, n int, g Geom, prec Precision) {
	key := scratchKey{"packed-w", g}
	buf := takeBuf(key)
	a := sgemm.PackInto(buf, false, g.Cout, g.colRows(), w, g.colRows(), 1)
	forwardPacked(x, a, y, n, g, prec)
	giveBuf(key, a.Buffer())
}

// forwardPacked computes y = conv(x, weights packed as a) for n images.
func forwardPacked(x []float32, a *sgemm.Packed, y []float32, n int, g Geom, prec Precision) {
	k, p := g.colRows(), g.colCols()
	out := g.Cout * p
	rows := patchRows(g)
	size, count := chunks(n, p)
	direct := p%16 == 0
	off := func(j int) int { return (j/p)*out + j%p }
	parallel.For(count, func(lo, hi int) {
		var tmp []float32
		b := newPatches(g, rows)
		defer b.done()
		for ch := lo; ch < hi; ch++ {
			i0, i1 := ch*size, min(n, (ch+1)*size)
			cols := (i1 - i0) * p
			b.load(x, i0, i1)
			if direct {
				prec.gemmSet(g.Cout, cols, k, a, b, y[i0*out:i1*out], p, off)
				continue
			}
			if tmp == nil {
				tmp = scratch(scratchKey{"conv-out", g}, g.Cout*size*p)
				defer giveBuf(scratchKey{"conv-out", g}, tmp)
			}
			prec.gemmSet(g.Cout, cols, k, a, b, tmp[:g.Cout*cols], cols, nil)
			planes(y, tmp, i0, i1, g.Cout, p, false)
		}
	})
}

// transposedGeom is the geometry of the stride-1 convolution that maps the
// output gradient of g to its input gradient: Cout channels of Ho x Wo in,
// C out, the same kernel size, padding k-1-pad.
func (g Geom) transposedGeom() (Geom, bool) {
	if g.Stride != 1 || g.Pad > g.K-1 {
		return Geom{}, false
	}
	return Geom{C: g.Cout, H: g.OutH(), W: g.OutW(), Cout: g.C, K: g.K, Stride: 1, Pad: g.K - 1 - g.Pad}, true
}

// flipTranspose writes w' (C, Cout, k, k) with w'[c][o][ky][kx] =
// w[o][c][k-1-ky][k-1-kx] into out (of w's length).
func flipTranspose(out, w []float32, g Geom) {
	kk := g.K * g.K
	for o := 0; o < g.Cout; o++ {
		for c := 0; c < g.C; c++ {
			src := w[(o*g.C+c)*kk : (o*g.C+c+1)*kk]
			dst := out[(c*g.Cout+o)*kk : (c*g.Cout+o+1)*kk]
			for t := range dst {
				dst[t] = src[kk-1-t]
			}
		}
	}
}

// backwardDataFast computes dx from w and dy. At stride 1 it is the
// convolution of dy with the flipped, transposed kernel; at stride 2 with
// even input sizes, each of the four phases of dx (pixels of one row and
// column parity) is such a convolution with the taps of that parity
// (backwardDataPhases); otherwise the patch-space product Wᵀ·dy is added
// back at the patch positions of phase-plane padded images
// (backwardDataScatter).
func backwardDataFast(w, dy, dx []float32, n int, g Geom, prec Precision) {
	if tg, ok := g.transposedGeom(); ok {
		key := scratchKey{"flipped-w", g}
		wt := scratch(key, len(w))
		flipTranspose(wt, w, g)
		forwardFast(dy, wt, dx, n, tg, prec)
		giveBuf(key, wt)
		return
	}
	if pp := phasePlan(g); pp != nil {
		backwardDataPhases(w, dy, dx, n, g, pp, prec)
		return
	}
	backwardDataScatter(w, dy, dx, n, g, prec)
}

// phases is how a stride-2 convolution's input gradient splits into four
// stride-1 products: dx[c][2u+gy][2v+gx] = Σ over output channels o and the
// taps (ky, kx) of parity (gy+pad, gx+pad) of w[o][c][ky][kx] ·
// dy[o][u+dv][v+dh], with dv = (gy+pad-ky)/2 and dh = (gx+pad-kx)/2. dy is
// read in place from a copy padded by pad on every side (geometry dg, a
// stride-1 convolution of kernel 2·pad+1 whose output is dy's size).
type phases struct {
	dg   Geom
	taps [4][]phaseTap // by phase 2·gy+gx; none where no tap has its parity
	// rows are each phase's depth rows: row o·len(taps)+t reads channel o of
	// the padded dy at tap t's offset (pad+dv)·pw + pad+dh from a position's
	// patch origin.
	rows [4][]int32
}

// phaseTap is one kernel tap of a phase and where it reads dy.
type phaseTap struct{ ky, kx, dv, dh int }

// phasePlan returns the phase split of g (made once per geometry), or nil
// where it does not apply: it needs stride 2, even input sizes (so every
// phase has dy's size) and dy rows the in-place GEMM reads (16k or 8 or 4
// wide).
func phasePlan(g Geom) *phases {
	ho, wo := g.OutH(), g.OutW()
	if g.Stride != 2 || g.H != 2*ho || g.W != 2*wo || (ho*wo)%16 != 0 || wo%16 != 0 && wo != 8 && wo != 4 {
		return nil
	}
	return cached(&phasePlans, g, func() *phases {
		pp := &phases{}
		pad := 0
		for gy := 0; gy < 2; gy++ {
			for gx := 0; gx < 2; gx++ {
				for ky := (gy + g.Pad) % 2; ky < g.K; ky += 2 {
					for kx := (gx + g.Pad) % 2; kx < g.K; kx += 2 {
						t := phaseTap{ky: ky, kx: kx, dv: (gy + g.Pad - ky) / 2, dh: (gx + g.Pad - kx) / 2}
						pad = max(pad, t.dv, -t.dv, t.dh, -t.dh)
						pp.taps[2*gy+gx] = append(pp.taps[2*gy+gx], t)
					}
				}
			}
		}
		pp.dg = Geom{C: g.Cout, H: ho, W: wo, Cout: g.C, K: 2*pad + 1, Stride: 1, Pad: pad}
		ph, pw := pp.dg.phasePlane()
		for i, taps := range pp.taps {
			for o := 0; o < g.Cout; o++ {
				for _, t := range taps {
					pp.rows[i] = append(pp.rows[i], int32(o*ph*pw+(pad+t.dv)*pw+pad+t.dh))
				}
			}
		}
		return pp
	})
}

// backwardDataPhases computes dx as four products per chunk of images,
// one per phase: rows = input channels, depth = (output channel, tap of the
// phase), columns = dy positions, B read in place from the padded dy; each
// phase is written into its own plane buffer and the four are interleaved
// into dx.
func backwardDataPhases(w, dy, dx []float32, n int, g Geom, pp *phases, prec Precision) {
	dg := pp.dg
	p := dg.colCols()
	kk := g.K * g.K
	var packed [4]*sgemm.Packed
	for ph, taps := range pp.taps {
		if len(taps) == 0 {
			continue
		}
		depth := g.Cout * len(taps)
		matKey, key := scratchKey{"phase-w", g}, scratchKey{phasePacked[ph], g}
		mat := scratch(matKey, g.C*depth)
		for c := 0; c < g.C; c++ {
			for o := 0; o < g.Cout; o++ {
				for t, tp := range taps {
					mat[c*depth+o*len(taps)+t] = w[(o*g.C+c)*kk+tp.ky*g.K+tp.kx]
				}
			}
		}
		packed[ph] = sgemm.PackInto(takeBuf(key), false, g.C, depth, mat, depth, 1)
		giveBuf(matKey, mat)
		defer giveBuf(key, packed[ph].Buffer())
	}
	size, count := chunks(n, p)
	planeKey := scratchKey{"phase-planes", g}
	parallel.For(count, func(lo, hi int) {
		pt := newPatches(dg, nil)
		defer pt.done()
		planes := scratch(planeKey, 4*g.C*size*p)
		defer giveBuf(planeKey, planes)
		for ch := lo; ch < hi; ch++ {
			i0, i1 := ch*size, min(n, (ch+1)*size)
			cols := (i1 - i0) * p
			pt.load(dy, i0, i1)
			out := func(ph int) []float32 { return planes[ph*g.C*size*p : ph*g.C*size*p+g.C*cols] }
			for ph := range pp.taps {
				if packed[ph] == nil {
					clear(out(ph))
					continue
				}
				pt.rows = pp.rows[ph]
				prec.gemmSet(g.C, cols, len(pt.rows), packed[ph], pt, out(ph), cols, nil)
			}
			// Phase ph holds channel c of image i at row c from column
			// (i-i0)·p; dx row 2u+gy takes its even pixels from row u of
			// phase 2·gy and its odd ones from phase 2·gy+1.
			wo := dg.W
			for i := i0; i < i1; i++ {
				for c := 0; c < g.C; c++ {
					img := dx[(i*g.C+c)*g.H*g.W:]
					at := c*cols + (i-i0)*p
					for gy := 0; gy < 2; gy++ {
						even, odd := out(2 * gy)[at:], out(2*gy + 1)[at:]
						vec.Interleave(img[gy*g.W:], 2*g.W, even, wo, odd, wo, dg.H, wo)
					}
				}
			}
		}
	})
}

// phasePacked names the scratch buffers of the four phases' packed weights.
var phasePacked = [4]string{"phase-packed-0", "phase-packed-1", "phase-packed-2", "phase-packed-3"}

// backwardDataScatter computes dx chunk by chunk: cols = Wᵀ · dy_chunk
// (depth rows x chunk positions, dy read in place), each row added into the
// zeroed padded operand along the runs the forward pass reads (contiguous in
// phase planes at any stride), then the pixels copied out.
func backwardDataScatter(w, dy, dx []float32, n int, g Geom, prec Precision) {
	k, p := g.colRows(), g.colCols()
	packKey := scratchKey{"packed-wt", g}
	a := sgemm.PackInto(takeBuf(packKey), true, k, g.Cout, w, k, 1)
	defer giveBuf(packKey, a.Buffer())
	rows := patchRows(g)
	size, count := chunks(n, p)
	parallel.For(count, func(lo, hi int) {
		pt := newScratchPatches(g, rows)
		defer pt.done()
		b := &batchRows{d: dy, rows: g.Cout, p: p}
		cols := scratch(scratchKey{"dx-cols", g}, k*size*p)
		defer giveBuf(scratchKey{"dx-cols", g}, cols)
		for ch := lo; ch < hi; ch++ {
			i0, i1 := ch*size, min(n, (ch+1)*size)
			nc := (i1 - i0) * p
			b.i0 = i0
			c := cols[:k*nc]
			prec.gemmSet(k, nc, g.Cout, a, b, c, nc, nil)
			pt.reserve(i1 - i0)
			clear(pt.pad)
			dOffs, sOffs := scatterBlocks(pt, nc)
			vec.AddBlocks(pt.pad, c, g.OutW(), dOffs, sOffs)
			pt.unload(dx, i0, i1)
		}
	})
}

// scatterBlocks returns where backwardDataScatter adds each block of its
// cols matrix (chunk width nc) into pt: every run is one whole output row
// (chunks hold whole images), so the lists depend only on the geometry and
// nc, and are made once per process.
func scatterBlocks(pt *patches, nc int) (dOffs, sOffs []int32) {
	type key struct {
		g  Geom
		nc int
	}
	type lists struct{ d, s []int32 }
	l := cached(&blockLists, key{pt.g, nc}, func() (l lists) {
		runs := pt.runs(nil, 0, nc)
		for r, off := range pt.rows {
			for _, rn := range runs {
				l.d = append(l.d, int32(rn.base)+off)
				l.s = append(l.s, int32(r*nc+rn.t0))
			}
		}
		return l
	})
	return l.d, l.s
}

// Tables that depend only on a geometry (and chunk width), made once per
// process: patchRows, pieces, scatterBlocks, phasePlan.
var rowTables, pieceTables, blockLists, phasePlans sync.Map

// cached returns the value m holds for key, made by build on first use.
func cached[T any](m *sync.Map, key any, build func() T) T {
	if v, ok := m.Load(key); ok {
		return v.(T)
	}
	v, _ := m.LoadOrStore(key, build())
	return v.(T)
}

// patchesT is the transpose of a chunk's patch matrix, as a right operand:
// depth = output positions of the chunk, columns = depth rows (c, ky, kx).
// It is always packed (a plain BOperand).
type patchesT struct {
	pt   *patches
	runs []run
}

// BPanels packs positions [pc, pc+kcur) of depth rows [jc, jc+ncur): each
// depth row is read along runs of positions on one output row.
func (b *patchesT) BPanels(dst []float32, pc, kcur, jc, ncur int) {
	const nr = 16
	pt := b.pt
	b.runs = pt.runs(b.runs[:0], pc, kcur)
	for q := 0; q*nr < ncur; q++ {
		panel := dst[q*kcur*nr : (q+1)*kcur*nr]
		cols := min(nr, ncur-q*nr)
		if cols == nr {
			offs := (*[nr]int32)(pt.rows[jc+q*nr:])
			for _, r := range b.runs {
				sgemm.Gather16(panel[r.t0*nr:], pt.pad[r.base:], offs, r.n)
			}
			continue
		}
		if cols < nr {
			clear(panel)
		}
		for t := 0; t < cols; t++ {
			off := int(pt.rows[jc+q*nr+t])
			for _, r := range b.runs {
				out := panel[r.t0*nr+t:]
				for u := 0; u < r.n; u++ {
					out[u*nr] = pt.pad[r.base+off+u]
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
	runs        []run   // positions inside one image, base at row 0
	offs        []int32 // BOffsets
}

// APanels packs rows [ic, ic+mcur) and positions [pc, pc+kcur) into buf.
func (b *batchRows) APanels(buf []float32, mr, ic, mcur, pc, kcur int) []float32 {
	b.runs = b.runs[:0]
	for u := 0; u < kcur; {
		j := pc + u
		img, pos := b.i0+j/b.p, j%b.p
		n := min(kcur-u, b.p-pos)
		b.runs = append(b.runs, run{t0: u, n: n, base: img*b.rows*b.p + pos})
		u += n
	}
	for q := 0; q*mr < mcur; q++ {
		panel := buf[q*kcur*mr : (q+1)*kcur*mr]
		rows := min(mr, mcur-q*mr)
		if rows == 16 && mr == 16 {
			var offs [16]int32
			for i := range offs {
				offs[i] = int32((ic + q*mr + i) * b.p)
			}
			for _, r := range b.runs {
				sgemm.Gather16(panel[r.t0*mr:], b.d[r.base:], &offs, r.n)
			}
			continue
		}
		if rows < mr {
			clear(panel)
		}
		for i := 0; i < rows; i++ {
			row := (ic + q*mr + i) * b.p
			for _, r := range b.runs {
				out := panel[r.t0*mr+i:]
				for v, x := range b.d[r.base+row : r.base+row+r.n] {
					out[v*mr] = x
				}
			}
		}
	}
	return buf
}

// As a right operand, batchRows is the same matrix with its rows as depth
// (dy as Cout x positions, the input gradient's right factor): read in place
// when images have a multiple of 16 positions, so no tile crosses an image.

// Indirect reports whether tiles can be read in place.
func (b *batchRows) Indirect() sgemm.Segments {
	if b.p%16 != 0 {
		return sgemm.Segments{}
	}
	return sgemm.Segments{N: 1}
}

// BTile returns the data from column j's image and position, row 0.
func (b *batchRows) BTile(j int) []float32 { return b.d[(b.i0+j/b.p)*b.rows*b.p+j%b.p:] }

// BOffsets returns each row's offset from row 0.
func (b *batchRows) BOffsets() []int32 {
	if len(b.offs) != b.rows {
		b.offs = make([]int32, b.rows)
		for o := range b.offs {
			b.offs[o] = int32(o * b.p)
		}
	}
	return b.offs
}

// BPanels packs rows [pc, pc+kcur) of columns [jc, jc+ncur).
func (b *batchRows) BPanels(dst []float32, pc, kcur, jc, ncur int) {
	const nr = 16
	for q := 0; q*nr < ncur; q++ {
		panel := dst[q*kcur*nr : (q+1)*kcur*nr]
		cols := min(nr, ncur-q*nr)
		if cols < nr {
			clear(panel)
		}
		for t := 0; t < cols; t++ {
			col := b.BTile(jc + q*nr + t)
			for r := 0; r < kcur; r++ {
				panel[r*nr+t] = col[(pc+r)*b.p]
			}
		}
	}
}

var _ sgemm.IndirectB = (*batchRows)(nil)

// backwardWeightFast computes dw = Σ_chunks dy_chunk · patches_chunkᵀ.
// Where output rows are multiples of 16 wide, the weights few and the CPU
// has the kernel, both factors are read in place along the positions
// (backwardWeightDot); otherwise dy is the left operand of the packed
// GEMM, the patches its transposed right operand.
func backwardWeightFast(x, dy, dw []float32, n int, g Geom) {
	if dotWeightGrad && g.OutW()%16 == 0 && g.Cout >= 4 && g.colRows() >= 6 && g.Cout*g.colRows() <= dotMaxWeights {
		backwardWeightDot(x, dy, dw, n, g)
		return
	}
	k, p := g.colRows(), g.colCols()
	rows := patchRows(g)
	size, count := chunks(n, p)
	parallel.Sum(dw, count, func(lo, hi int, acc []float32) {
		pt := newPatches(g, rows)
		defer pt.done()
		a := &batchRows{d: dy, rows: g.Cout, p: p}
		b := &patchesT{pt: pt}
		for ch := lo; ch < hi; ch++ {
			i0, i1 := ch*size, min(n, (ch+1)*size)
			pt.load(x, i0, i1)
			a.i0 = i0
			sgemm.Gemm(g.Cout, k, (i1-i0)*p, a, b, acc, k, nil)
		}
	})
}

// dotWeightGrad says whether backwardWeightFast may take
// backwardWeightDot (a variable so that benchmarks can compare).
var dotWeightGrad = sgemm.HasDotTile

// dotMaxWeights is the most weights backwardWeightDot is used for: every
// 4x6 tile of them ends in 24 horizontal sums, which pays off against the
// packing it saves only while tiles are few. Measured (BenchmarkConv, dw
// against dw-gemm): the stem (16x27 weights) 0.59 vs 1.23 ms, width 0.25
// stage 1 (16x144) 2.55 vs 2.86 ms, stage 2 (32x288) even, width 1 stage 1
// (64x576) 32.8 vs 28.2 ms.
const dotMaxWeights = 16 * 144

// dotChunkBytes bounds the output gradient and padded input a chunk of the
// weight gradient holds, so that both stay in a core's L2 cache while every
// 4x6 tile of dw streams them.
var dotChunkBytes = 512 << 10

// backwardWeightDot computes dw tile by tile with sgemm.DotTile: for
// each 16-position block of an output row (a table entry), 4 rows of dy
// (output channels) and 6 patch rows (taps) are read in place, dy from the
// batch and the patches from the padded chunk, so nothing is packed. Needs
// OutW%16 == 0, Cout >= 4 and C·k·k >= 6.
func backwardWeightDot(x, dy, dw []float32, n int, g Geom) {
	k, p := g.colRows(), g.colCols()
	rows := patchRows(g)
	ph, pw := g.phasePlane()
	perImage := 4 * (g.Cout*p + g.C*g.Stride*g.Stride*ph*pw)
	size := min(n, max(1, dotChunkBytes/perImage))
	count := (n + size - 1) / size
	parallel.Sum(dw, count, func(lo, hi int, acc []float32) {
		pt := newPatches(g, rows)
		defer pt.done()
		var aoff, boff []int32
		var tile [24]float32
		for ch := lo; ch < hi; ch++ {
			i0, i1 := ch*size, min(n, (ch+1)*size)
			pt.load(x, i0, i1)
			aoff, boff = aoff[:0], boff[:0]
			hiA, hiB := 0, 0
			for i := i0; i < i1; i++ {
				for pos := 0; pos < p; pos += 16 {
					ao, bo := i*g.Cout*p+pos, pt.origin((i-i0)*p+pos)
					aoff, boff = append(aoff, int32(ao)), append(boff, int32(bo))
					hiA, hiB = max(hiA, ao), max(hiB, bo)
				}
			}
			for co := 0; co < g.Cout; co += 4 {
				co0 := min(co, g.Cout-4) // a last partial block overlaps the one before
				for r := 0; r < k; r += 6 {
					var taps [6]int32
					for j := range taps {
						taps[j] = rows[min(r+j, k-1)]
					}
					sgemm.DotTile(&tile, dy[co0*p:], p, aoff, hiA, pt.pad, &taps, boff, hiB)
					for i := co - co0; i < 4; i++ {
						out := acc[(co0+i)*k:]
						for j := 0; j < 6 && r+j < k; j++ {
							out[r+j] += tile[i*6+j]
						}
					}
				}
			}
		}
	})
}
