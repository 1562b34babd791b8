package parallel

import (
	"maps"
	"runtime"
	"slices"
	"sync"
)

// Sum sets dst to the sum of what fn accumulates over chunks [0, count)
// split into one share per worker: fn(lo, hi, acc) adds a share's chunks
// into acc (dst itself for the first share, a zeroed buffer for the
// others). The shares are added in order, so the result is the same on every
// run with the same number of workers, whichever worker computed a share.
func Sum[T ~float32 | ~float64](dst []T, count int, fn func(lo, hi int, acc []T)) {
	parts := map[int][]T{} // by first chunk
	var mu sync.Mutex
	clear(dst)
	forPieces(count, min(count, runtime.GOMAXPROCS(0)), func(lo, hi int) {
		if lo == 0 {
			fn(lo, hi, dst)
			return
		}
		acc := make([]T, len(dst))
		fn(lo, hi, acc)
		mu.Lock()
		parts[lo] = acc
		mu.Unlock()
	})
	for _, lo := range slices.Sorted(maps.Keys(parts)) {
		for i, v := range parts[lo] {
			dst[i] += v
		}
	}
}
