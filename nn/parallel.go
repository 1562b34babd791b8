package nn

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// ParallelFor calls fn(lo, hi) on contiguous chunks covering [0, n), on up to
// GOMAXPROCS goroutines, and returns when all are done. Chunks never overlap,
// so fn may write to disjoint parts of shared slices without locking. The
// calling goroutine runs the first chunk; the others go to helper goroutines
// that outlive the call (see helper). A ParallelFor started while another is
// running (from fn, or from another goroutine) runs its chunks one after the
// other on its caller, with the same chunk boundaries.
func ParallelFor(n int, fn func(lo, hi int)) {
	w := min(runtime.GOMAXPROCS(0), n)
	if w <= 1 || !pool.TryLock() {
		for i := 0; i < w; i++ {
			fn(i*n/w, (i+1)*n/w)
		}
		return
	}
	defer pool.Unlock()
	for len(helpers) < w-1 {
		h := &helper{wake: make(chan struct{}, 1)}
		helpers = append(helpers, h)
		go h.loop()
	}
	var pending atomic.Int32
	pending.Store(int32(w - 1))
	jobs := make([]job, w-1)
	for i := range jobs {
		jobs[i] = job{fn: fn, lo: (i + 1) * n / w, hi: (i + 2) * n / w, pending: &pending}
		helpers[i].give(&jobs[i])
	}
	fn(0, n/w)
	for spins := 0; pending.Load() != 0; spins++ {
		if spins > 64 {
			runtime.Gosched()
		}
	}
}

// pool serialises the use of helpers; helpers only grows.
var (
	pool    sync.Mutex
	helpers []*helper
)

// job is one chunk of a ParallelFor.
type job struct {
	fn      func(lo, hi int)
	lo, hi  int
	pending *atomic.Int32
}

// helper runs the chunks ParallelFor hands it. Between calls it spins for
// helperSpin before parking: a training step runs a hundred-odd parallel
// loops separated by short serial stretches, and waking a parked thread
// costs tens of microseconds on a virtual machine, so a spinning helper
// takes the next loop at once.
type helper struct {
	next   atomic.Pointer[job]
	parked atomic.Bool
	wake   chan struct{} // a token after next is set while parked
}

const helperSpin = 200 * time.Microsecond

func (h *helper) give(j *job) {
	h.next.Store(j)
	if h.parked.Load() {
		select {
		case h.wake <- struct{}{}:
		default: // a token is already waiting
		}
	}
}

func (h *helper) loop() {
	for {
		j := h.wait()
		j.fn(j.lo, j.hi)
		j.pending.Add(-1)
	}
}

// wait returns the next job: spinning first, then parked until give wakes
// it. give stores the job before reading parked and wait sets parked before
// its last look at next, so one of the two sees the other (a token left
// over from a job found by that last look only costs one more look).
func (h *helper) wait() *job {
	start := time.Now()
	for spins := 0; ; spins++ {
		if j := h.next.Swap(nil); j != nil {
			return j
		}
		if spins%16 != 15 {
			continue
		}
		runtime.Gosched() // the garbage collector's workers may need this thread
		if time.Since(start) > helperSpin {
			h.parked.Store(true)
			if j := h.next.Swap(nil); j != nil {
				h.parked.Store(false)
				return j
			}
			<-h.wake
			h.parked.Store(false)
			start = time.Now()
		}
	}
}
