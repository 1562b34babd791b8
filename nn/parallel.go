package nn

import (
	"runtime"
	"sync"
)

// ParallelFor calls fn(lo, hi) on contiguous chunks covering [0, n), on up to
// GOMAXPROCS goroutines, and returns when all are done. Chunks never overlap,
// so fn may write to disjoint parts of shared slices without locking.
func ParallelFor(n int, fn func(lo, hi int)) {
	w := min(runtime.GOMAXPROCS(0), n)
	if w <= 1 {
		if n > 0 {
			fn(0, n)
		}
		return
	}
	var wg sync.WaitGroup
	for i := 0; i < w; i++ {
		lo, hi := i*n/w, (i+1)*n/w
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(lo, hi)
		}()
	}
	wg.Wait()
}
