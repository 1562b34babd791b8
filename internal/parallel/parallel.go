package parallel

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// For calls fn(lo, hi) on contiguous chunks covering [0, n), on up to
// GOMAXPROCS goroutines, and returns when all are done. Chunks never overlap,
// so fn may write to disjoint parts of shared slices without locking. The
// chunk boundaries depend only on n and GOMAXPROCS (piecesPerWorker chunks
// per worker, fewer when n is small); which goroutine runs a chunk does not
// matter: workers take the next chunk as they finish one, so a worker slowed
// down (a virtual CPU the host takes away for a while) does not hold the
// others up for half of the loop. The calling goroutine is one of the
// workers; the others are helper goroutines that outlive the call (see
// helper). A For started while another is running (from fn, or from
// another goroutine) runs its chunks one after the other on its caller, with
// the same chunk boundaries.
func For(n int, fn func(lo, hi int)) {
	forPieces(n, min(n, runtime.GOMAXPROCS(0)*piecesPerWorker), fn)
}

// ForBlocks is For over the n elements of an element-wise loop cut into
// blocks of block elements: fn(lo, hi) gets the element range of a chunk of
// whole blocks, the last block ending at n.
func ForBlocks(n, block int, fn func(lo, hi int)) {
	For((n+block-1)/block, func(lo, hi int) { fn(lo*block, min(hi*block, n)) })
}

// forPieces calls fn on the chunks [i·n/pieces, (i+1)·n/pieces) for i <
// pieces, on up to GOMAXPROCS workers, each taking the next chunk when done
// with one.
func forPieces(n, pieces int, fn func(lo, hi int)) {
	w := min(runtime.GOMAXPROCS(0), pieces)
	if w <= 1 || !pool.TryLock() {
		for i := 0; i < pieces; i++ {
			fn(i*n/pieces, (i+1)*n/pieces)
		}
		return
	}
	defer pool.Unlock()
	for len(helpers) < w-1 {
		h := &helper{wake: make(chan struct{}, 1)}
		helpers = append(helpers, h)
		go h.serve()
	}
	l := &loop{fn: fn, n: n, pieces: pieces}
	l.pending.Store(int32(w - 1))
	for _, h := range helpers[:w-1] {
		h.give(l)
	}
	l.run()
	for spins := 0; l.pending.Load() != 0; spins++ {
		if spins > 64 {
			runtime.Gosched()
		}
	}
}

// piecesPerWorker is how many chunks For cuts a loop into per
// worker: more balance the load better, fewer call fn (which may set up
// buffers per call) less often. Measured on a 2-core virtual machine (an
// advprop-iter step at width 0.25): the time the caller waited for the
// helper after its last chunk was 11.5% of the time in parallel loops with
// one chunk per worker, 6.3% with 4, 4.9% with 8, 3.5% with 16.
const piecesPerWorker = 16

// loop is one For: its chunks go to whichever worker asks next;
// pending counts the helpers still in it.
type loop struct {
	fn        func(lo, hi int)
	n, pieces int
	next      atomic.Int32
	pending   atomic.Int32
}

// run calls fn on chunks until none is left.
func (l *loop) run() {
	for {
		i := int(l.next.Add(1)) - 1
		if i >= l.pieces {
			return
		}
		l.fn(i*l.n/l.pieces, (i+1)*l.n/l.pieces)
	}
}

// pool serialises the use of helpers; helpers only grows.
var (
	pool    sync.Mutex
	helpers []*helper
)

// helper runs the chunks For hands it. Between calls it spins for
// helperSpin before parking: a training step runs a hundred-odd parallel
// loops separated by short serial stretches, and waking a parked thread
// costs tens of microseconds on a virtual machine, so a spinning helper
// takes the next loop at once.
type helper struct {
	next   atomic.Pointer[loop]
	parked atomic.Bool
	wake   chan struct{} // a token after next is set while parked
}

const helperSpin = 200 * time.Microsecond

func (h *helper) give(l *loop) {
	h.next.Store(l)
	if h.parked.Load() {
		select {
		case h.wake <- struct{}{}:
		default: // a token is already waiting
		}
	}
}

func (h *helper) serve() {
	for {
		l := h.wait()
		l.run()
		l.pending.Add(-1)
	}
}

// wait returns the next loop: spinning first, then parked until give wakes
// it. give stores the loop before reading parked and wait sets parked
// before its last look at next, so one of the two sees the other (a token
// left over from a loop found by that last look only costs one more look).
func (h *helper) wait() *loop {
	start := time.Now()
	for spins := 0; ; spins++ {
		if l := h.next.Swap(nil); l != nil {
			return l
		}
		if spins%16 != 15 {
			continue
		}
		runtime.Gosched() // the garbage collector's workers may need this thread
		if time.Since(start) > helperSpin {
			h.parked.Store(true)
			if l := h.next.Swap(nil); l != nil {
				h.parked.Store(false)
				return l
			}
			<-h.wake
			h.parked.Store(false)
			start = time.Now()
		}
	}
}
