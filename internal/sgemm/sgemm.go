// Package sgemm is advbench's float32 matrix multiply: a BLIS-style blocked
// GEMM (B packed into KC x 16 panels, A into MR x KC panels, an MR x 16
// register tile) whose micro-kernel is chosen for the CPU at start: AVX-512
// assembly (16x16 tile, which can also read B in place through an offset
// table), AVX2/FMA assembly (6x16), or plain Go (6x16). It is
// single-threaded: callers parallelise over independent products (the
// convolution does, over chunks of images).
package sgemm

import "sync"

// Register tile columns and cache blocking; the tile's rows (mr) belong to
// the kernel in use, and a packed A block holds mcPanels tiles of rows.
const (
	nr       = 16  // columns of the register tile
	kc       = 256 // depth of a packed panel
	mcPanels = 16  // row panels per packed A block
	nc       = 2048
)

// Kernel is a micro-kernel: C[MR×16] (row stride ldc) += A panel (k×MR,
// packed) · B panel (k×16, packed), or = when set.
type Kernel struct {
	Name string
	MR   int
	fn   kernelFunc
	// ind, where present, reads B in place (indFunc).
	ind indFunc
	// part, where present, has kernels for the first rows (a key) of a
	// tile, reading the same MR-row A panels: the last panel of a row count
	// MR does not divide computes only its rows, straight into C.
	part map[int]kernelPart
	// pairs says fn reads bf16 pair rows (bf16.go): gemm converts each
	// packed B panel in place and each A block into a copy before the
	// kernel runs.
	pairs bool
}

// kernelFunc is a kernel on a packed B panel, run on panels consecutive
// A panels (k·MR floats apart) and the tiles of C they make (MR rows
// apart): it adds each tile into C, or writes it over C (not reading it)
// when set.
type kernelFunc func(k, panels int, a, b, c []float32, ldc int, set bool)

// indFunc is an in-place kernel: B's row p as seg.N runs of 16/seg.N
// floats, the first at b[offs[p]:], each seg.Dist after the one before; hi
// is the largest offset.
type indFunc func(k, panels int, a, b []float32, offs []int32, hi int, seg Segments, c []float32, ldc int, set bool)

// kernelPart is a kernel for the first rows of a tile: packed and in-place B.
type kernelPart struct {
	fn  kernelFunc
	ind indFunc
}

// forRows returns the kernels for the first rows rows of a tile (the
// kernel's own for all MR), or false where it has none.
func (k Kernel) forRows(rows int) (kernelPart, bool) {
	if rows == k.MR {
		return kernelPart{k.fn, k.ind}, true
	}
	p, ok := k.part[rows]
	return p, ok
}

// Active is the kernel Sgemm uses: the fastest in Available.
var Active = Available()[0]

// Fast reports whether an assembly kernel is active; the portable Go kernel
// is slower than gonum's unblocked GEMM, so callers without one should use
// gonum instead.
func Fast() bool { return Active.Name != "go" }

// Available lists the kernels this CPU can run, fastest first; the portable
// Go kernel is always last.
func Available() []Kernel {
	return append(asmKernels(), Kernel{Name: "go", MR: 6, fn: kernelGo})
}

// Sgemm computes C = alpha·op(A)·op(B) + beta·C for row-major matrices with
// leading dimensions lda, ldb, ldc: op(A) is m×k (A is k×m when tA), op(B)
// is k×n (B is n×k when tB), C is m×n. beta 0 overwrites C (NaNs included).
func Sgemm(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	ao, bo := Strided{A: a, LD: lda, T: tA, Alpha: alpha}, StridedB{B: b, LD: ldb, T: tB}
	if beta == 0 && alpha != 0 {
		GemmSet(m, n, k, ao, bo, c, ldc, nil)
		return
	}
	scaleC(m, n, beta, c, ldc)
	if k == 0 || alpha == 0 {
		return
	}
	Gemm(m, n, k, ao, bo, c, ldc, nil)
}

// AOperand supplies the left factor of a product as packed panels:
// APanels returns rows [ic, ic+mcur) and depth [pc, pc+kcur) as mr-row
// panels (panel q holds, for each depth p, the mr values of rows q·mr..,
// zero beyond mcur), written into buf (which has room for them) or taken
// from a packing done earlier.
type AOperand interface {
	APanels(buf []float32, mr, ic, mcur, pc, kcur int) []float32
}

// BOperand supplies the right factor as packed panels: BPanels writes depth
// [pc, pc+kcur) and columns [jc, jc+ncur) into dst as 16-column panels
// (panel q holds, for each depth p, the 16 values of columns jc+16q..,
// zero beyond ncur).
type BOperand interface {
	BPanels(dst []float32, pc, kcur, jc, ncur int)
}

// IndirectB is a right operand the kernel can read in place, without
// packing: row p of the 16-column tile at column j (a multiple of 16) is
// read from BTile(j) at offs[p] (offs = BOffsets(), non-negative) as the runs
// that Indirect describes. Gemm uses it when the active kernel can, and
// BPanels otherwise.
type IndirectB interface {
	BOperand
	Indirect() Segments // N == 0: BTile does not serve (BPanels is used)
	BTile(j int) []float32
	BOffsets() []int32
}

// PairedB is a right operand that packs its panels for a bf16 kernel
// itself: BPairPanels writes what BPanels and then PairRows on each panel
// write (panel q at dst[q·kcur·16:], its pair rows as words over the first
// ⌈kcur/2⌉·16 floats), in one pass where it can.
type PairedB interface {
	BOperand
	BPairPanels(dst []float32, pc, kcur, jc, ncur int)
}

// Segments is how a row of a B tile lies in memory: N runs of 16/N
// contiguous floats (N = 1, 2 or 4), run s starting s·Dist floats after the
// first. N == 0 means the operand cannot be read in place.
type Segments struct{ N, Dist int }

// Gemm accumulates C += A·B for an m×k operand A and a k×n operand B.
// Element (i, j) of C is c[off(j) + i·ldc], off(j) = j when off is nil;
// off must be affine inside every aligned 16-column tile (off(j+t) =
// off(j)+t for j a multiple of 16 and j+t < n), which lets a product write
// straight into a layout other than a row-major matrix (a batch of images,
// say).
func Gemm(m, n, k int, a AOperand, b BOperand, c []float32, ldc int, off func(j int) int) {
	gemm(Active, m, n, k, a, b, c, ldc, off, false)
}

// GemmSet is Gemm writing C = A·B over what C held (NaNs included), which
// it never reads: the first depth block's tiles are written, not added, so
// a caller needs no clearing pass over C.
func GemmSet(m, n, k int, a AOperand, b BOperand, c []float32, ldc int, off func(j int) int) {
	if k == 0 {
		for j := 0; j < n; j += nr {
			base := j
			if off != nil {
				base = off(j)
			}
			for i := 0; i < m; i++ {
				clear(c[base+i*ldc : base+i*ldc+min(nr, n-j)])
			}
		}
		return
	}
	gemm(Active, m, n, k, a, b, c, ldc, off, true)
}

// gemm is Gemm on kernel kern, or GemmSet when set.
func gemm(kern Kernel, m, n, k int, a AOperand, b BOperand, c []float32, ldc int, off func(j int) int, set bool) {
	if m == 0 || n == 0 || k == 0 {
		return
	}
	mr, mc := kern.MR, kern.MR*mcPanels
	bufs := pool.Get().(*buffers)
	defer pool.Put(bufs)
	bufs.fit(mc*kc, mr*nr)
	ind, _ := b.(IndirectB)
	var seg Segments
	if ind != nil && kern.ind != nil && !kern.pairs {
		seg = ind.Indirect()
	}
	if seg.N == 0 {
		ind = nil
	}
	for jc := 0; jc < n; jc += nc {
		ncur := min(nc, n-jc)
		for pc := 0; pc < k; pc += kc {
			kcur := min(kc, k-pc)
			first := set && pc == 0
			if ind != nil { // the kernel reads B's rows through the offset table
				offs := ind.BOffsets()[pc : pc+kcur]
				hi := 0
				for _, o := range offs {
					if o < 0 {
						panic("sgemm: negative offset")
					}
					hi = max(hi, int(o))
				}
				lastJ, tile := -1, []float32(nil) // BTile once per column of tiles
				macro(kern, a, bufs, m, jc, ncur, pc, kcur, c, ldc, off, first, func(panel []float32, jr, rows, panels int, dst []float32, ld int, set bool) bool {
					if jr != lastJ {
						lastJ, tile = jr, ind.BTile(jc+jr)
					}
					f, ok := kern.forRows(rows)
					if ok {
						f.ind(kcur, panels, panel, tile, offs, hi, seg, dst, ld, set)
					}
					return ok
				})
				continue
			}
			if pb, ok := b.(PairedB); ok && kern.pairs {
				pb.BPairPanels(bufs.b, pc, kcur, jc, ncur)
			} else {
				b.BPanels(bufs.b, pc, kcur, jc, ncur)
				if kern.pairs {
					for q := 0; q < (ncur+nr-1)/nr; q++ {
						PairRows(bufs.b[q*kcur*nr:(q+1)*kcur*nr], kcur)
					}
				}
			}
			macro(kern, a, bufs, m, jc, ncur, pc, kcur, c, ldc, off, first, func(panel []float32, jr, rows, panels int, dst []float32, ld int, set bool) bool {
				f, ok := kern.forRows(rows)
				if ok {
					f.fn(kcur, panels, panel, bufs.b[(jr/nr)*kcur*nr:], dst, ld, set)
				}
				return ok
			})
		}
	}
}

// macro runs one (jc, pc) block, a column of tiles at a time: micro adds
// (writes, when set) A panels · B tile (the B tile at block column jr) into
// dst with row stride ld, for panels consecutive full panels at once, or
// for the first rows rows of one last panel (micro returns false for a rows
// below mr it has no kernel for). Tiles it cannot write into C directly
// (columns past the end, rows without a kernel) go through a scratch tile
// whose valid part is then added to (copied into) C.
func macro(kern Kernel, a AOperand, bufs *buffers, m, jc, ncur, pc, kcur int, c []float32, ldc int, off func(int) int, set bool, micro func(panel []float32, jr, rows, panels int, dst []float32, ld int, set bool) bool) {
	mr := kern.MR
	mc := mr * mcPanels
	for ic := 0; ic < m; ic += mc {
		mcur := min(mc, m-ic)
		ap := a.APanels(bufs.a, mr, ic, mcur, pc, kcur)
		if kern.pairs { // into a copy: ap may be a packing kept for later products
			np := (mcur + mr - 1) / mr
			if len(bufs.pairs) < np*kcur*mr {
				bufs.pairs = make([]float32, mc*kc)
			}
			for q := 0; q < np; q++ {
				pairRows(words(bufs.pairs[q*kcur*mr:(q+1)*kcur*mr]), ap[q*kcur*mr:(q+1)*kcur*mr], mr, kcur)
			}
			ap = bufs.pairs
		}
		full := mcur / mr
		for jr := 0; jr < ncur; jr += nr {
			cols := min(nr, ncur-jr)
			j := jc + jr
			if off != nil {
				j = off(j)
			}
			ir := 0
			if cols == nr {
				if full > 0 {
					micro(ap, jr, mr, full, c[ic*ldc+j:], ldc, set)
				}
				ir = full * mr
				if rows := mcur - ir; rows > 0 && micro(ap[full*kcur*mr:], jr, rows, 1, c[(ic+ir)*ldc+j:], ldc, set) {
					ir = mcur
				}
			}
			for ; ir < mcur; ir += mr {
				panel := ap[(ir/mr)*kcur*mr:]
				rows := min(mr, mcur-ir)
				ci := (ic+ir)*ldc + j
				tile := bufs.tile
				micro(panel, jr, mr, 1, tile, nr, true)
				for i := 0; i < rows; i++ {
					row := c[ci+i*ldc : ci+i*ldc+cols]
					if set {
						copy(row, tile[i*nr:])
						continue
					}
					for j := range row {
						row[j] += tile[i*nr+j]
					}
				}
			}
		}
	}
}

// Strided is a row-major matrix operand (its transpose when T), scaled by
// Alpha as it is packed.
type Strided struct {
	A     []float32
	LD    int
	T     bool
	Alpha float32
}

// APanels packs the block into buf.
func (s Strided) APanels(buf []float32, mr, ic, mcur, pc, kcur int) []float32 {
	packA(buf, mr, s.T, s.A, s.LD, s.Alpha, ic, mcur, pc, kcur)
	return buf
}

// StridedB is a row-major matrix right operand (its transpose when T).
type StridedB struct {
	B  []float32
	LD int
	T  bool
}

// BPanels packs the block into dst.
func (s StridedB) BPanels(dst []float32, pc, kcur, jc, ncur int) {
	packB(dst, s.T, s.B, s.LD, pc, kcur, jc, ncur)
}

// Packed is a left operand packed once for the active kernel and reused by
// every product it enters (a convolution's weights across chunks of images).
type Packed struct {
	mr     int
	blocks [][]float32 // [ic block][pc block]
	nPC    int
	buf    []float32 // the blocks' storage
}

// Buffer returns the storage of p, for a later PackInto once p is no
// longer used.
func (p *Packed) Buffer() []float32 { return p.buf }

// Pack packs alpha·op(A) (m×k; A is k×m when tA) for the active kernel.
func Pack(tA bool, m, k int, a []float32, lda int, alpha float32) *Packed {
	return PackInto(nil, tA, m, k, a, lda, alpha)
}

// PackedSize is the floats Pack needs for an m×k operand.
func PackedSize(m, k int) int {
	mr := Active.MR
	return (m + mr - 1) / mr * mr * k
}

// PackInto is Pack writing into buf where it holds PackedSize(m, k) floats
// (a caller reusing one buffer across calls), into a new one otherwise.
func PackInto(buf []float32, tA bool, m, k int, a []float32, lda int, alpha float32) *Packed {
	mr := Active.MR
	mc := mr * mcPanels
	if need := PackedSize(m, k); len(buf) < need {
		buf = make([]float32, need)
	}
	p := &Packed{mr: mr, nPC: (k + kc - 1) / kc, buf: buf}
	for ic := 0; ic < m; ic += mc {
		mcur := min(mc, m-ic)
		rows := (mcur + mr - 1) / mr * mr
		for pc := 0; pc < k; pc += kc {
			kcur := min(kc, k-pc)
			blk := buf[: rows*kcur : rows*kcur]
			buf = buf[rows*kcur:]
			packA(blk, mr, tA, a, lda, alpha, ic, mcur, pc, kcur)
			p.blocks = append(p.blocks, blk)
		}
	}
	return p
}

// APanels returns the block packed by Pack.
func (p *Packed) APanels(_ []float32, mr, ic, mcur, pc, kcur int) []float32 {
	if mr != p.mr {
		panic("sgemm: operand packed for another kernel")
	}
	return p.blocks[(ic/(mr*mcPanels))*p.nPC+pc/kc]
}

type buffers struct {
	a    []float32
	b    []float32
	tile []float32
	// pairs holds an A block as bf16 pair rows for a kernel that reads them.
	pairs []float32
}

// fit grows the A block and the tile to the active kernel's sizes.
func (b *buffers) fit(aLen, tileLen int) {
	if len(b.a) < aLen {
		b.a = make([]float32, aLen)
	}
	if len(b.tile) < tileLen {
		b.tile = make([]float32, tileLen)
	}
	b.tile = b.tile[:tileLen]
}

var pool = sync.Pool{New: func() any {
	return &buffers{b: make([]float32, kc*((nc+nr-1)/nr)*nr)}
}}

func scaleC(m, n int, beta float32, c []float32, ldc int) {
	if beta == 1 {
		return
	}
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

// packA writes alpha·op(A)[ic:ic+mcur, pc:pc+kcur] as mr-row panels: panel
// q holds, for each p, the mr values of rows q*mr.. (zero beyond mcur).
// Either way A is stored, its stored rows are read contiguously.
func packA(dst []float32, mr int, tA bool, a []float32, lda int, alpha float32, ic, mcur, pc, kcur int) {
	for q := 0; q*mr < mcur; q++ {
		panel := dst[q*kcur*mr : (q+1)*kcur*mr]
		rows := min(mr, mcur-q*mr)
		r0 := ic + q*mr
		if rows < mr {
			clear(panel)
		}
		if tA { // stored row p is column p of op(A)
			for p := 0; p < kcur; p++ {
				out := panel[p*mr : p*mr+rows]
				for i, v := range a[(pc+p)*lda+r0 : (pc+p)*lda+r0+rows] {
					out[i] = alpha * v
				}
			}
			continue
		}
		for i := 0; i < rows; i++ {
			for p, v := range a[(r0+i)*lda+pc : (r0+i)*lda+pc+kcur] {
				panel[p*mr+i] = alpha * v
			}
		}
	}
}

// packB writes op(B)[pc:pc+kcur, jc:jc+ncur] as nr-column panels: panel q
// holds, for each p, the nr values of columns q*nr.. (zero beyond ncur).
func packB(dst []float32, tB bool, b []float32, ldb int, pc, kcur, jc, ncur int) {
	for q := 0; q*nr < ncur; q++ {
		panel := dst[q*kcur*nr : (q+1)*kcur*nr]
		cols := min(nr, ncur-q*nr)
		j0 := jc + q*nr
		if !tB && cols == nr {
			for p := 0; p < kcur; p++ {
				off := (pc+p)*ldb + j0
				*(*[nr]float32)(panel[p*nr:]) = *(*[nr]float32)(b[off:])
			}
			continue
		}
		if tB {
			// Read each stored row (a column of op(B)) contiguously.
			if cols < nr {
				clear(panel)
			}
			for j := 0; j < cols; j++ {
				for p, v := range b[(j0+j)*ldb+pc : (j0+j)*ldb+pc+kcur] {
					panel[p*nr+j] = v
				}
			}
			continue
		}
		for p := 0; p < kcur; p++ {
			out := panel[p*nr : (p+1)*nr]
			copy(out[:cols], b[(pc+p)*ldb+j0:(pc+p)*ldb+j0+cols])
			clear(out[cols:])
		}
	}
}

// kernelGo is the portable 6x16 micro-kernel.
func kernelGo(k, panels int, a, b, c []float32, ldc int, set bool) {
	const mr = 6
	for q := 0; q < panels; q++ {
		tileGo(k, a[q*k*mr:], b, c[q*mr*ldc:], ldc, set)
	}
}

// tileGo is kernelGo on one panel.
func tileGo(k int, a, b, c []float32, ldc int, set bool) {
	const mr = 6
	var acc [mr * nr]float32
	for p := 0; p < k; p++ {
		bp := b[p*nr : p*nr+nr]
		ap := a[p*mr : p*mr+mr]
		for i, av := range ap {
			row := acc[i*nr : i*nr+nr]
			for j, bv := range bp {
				row[j] += av * bv
			}
		}
	}
	storeTile(c, acc[:], mr, ldc, set)
}

// storeTile adds the rows x 16 tile acc into C (row stride ldc), or writes
// it over C when set: the portable kernels' last step.
func storeTile(c, acc []float32, rows, ldc int, set bool) {
	for i := 0; i < rows; i++ {
		row := c[i*ldc : i*ldc+nr]
		if set {
			copy(row, acc[i*nr:])
			continue
		}
		for j := range row {
			row[j] += acc[i*nr+j]
		}
	}
}

// UsePortable makes Active the portable Go kernel, so that Fast reports
// false and callers take their portable path, whatever the CPU. Call it
// before any work starts; it is not safe alongside running products.
// restore switches back to the kernel active before.
func UsePortable() (restore func()) {
	old := Active
	all := Available()
	Active = all[len(all)-1]
	return func() { Active = old }
}
