package parallel

import (
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestForCoversOnce(t *testing.T) {
	for _, n := range []int{0, 1, 2, 3, 17} {
		hits := make([]int32, n)
		For(n, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				atomic.AddInt32(&hits[i], 1)
			}
		})
		for i, h := range hits {
			assert.Equal(t, int32(1), h, "n=%d i=%d", n, i)
		}
	}
}

// TestForTakesChunksAsWorkersFree blocks the worker that takes the
// first chunk until every other chunk has run: with the loop split into one
// fixed share per worker, the chunks of the blocked worker's share could
// never run and the loop would not end.
func TestForTakesChunksAsWorkersFree(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	const n = 40
	var rest sync.WaitGroup
	rest.Add(n - 1)
	done := make(chan struct{})
	go func() {
		For(n, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				if i == 0 {
					rest.Wait()
					continue
				}
				rest.Done()
			}
		})
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the chunks after the blocked one never ran on the free worker")
	}
}

// TestForHelpers runs ParallelFor on 4 workers from several
// goroutines at once, nested inside itself, and after the helpers have
// parked: every index is covered once and the chunk boundaries are the same
// whether the chunks ran on helpers or one after the other on the caller.
func TestForHelpers(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	const n = 103
	chunks := func() [][2]int {
		var mu sync.Mutex
		var got [][2]int
		hits := make([]int32, n)
		For(n, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				atomic.AddInt32(&hits[i], 1)
			}
			mu.Lock()
			got = append(got, [2]int{lo, hi})
			mu.Unlock()
		})
		for i, h := range hits {
			assert.Equal(t, int32(1), h, "index %d", i)
		}
		slices.SortFunc(got, func(a, b [2]int) int { return a[0] - b[0] })
		return got
	}
	var want [][2]int
	for i := range 4 * piecesPerWorker {
		want = append(want, [2]int{i * n / (4 * piecesPerWorker), (i + 1) * n / (4 * piecesPerWorker)})
	}
	assert.Equal(t, want, chunks())

	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				assert.Equal(t, want, chunks())
			}
		}()
	}
	wg.Wait()

	var nested atomic.Int32
	For(4, func(lo, hi int) {
		assert.Equal(t, want, chunks())
		nested.Add(int32(hi - lo))
	})
	assert.Equal(t, int32(4), nested.Load())

	time.Sleep(3 * helperSpin) // helpers park
	assert.Equal(t, want, chunks())
}

// TestForBlocks checks the element ranges of a blocked loop: whole blocks
// of 4 cover [0, 10) once, the last one cut at 10.
func TestForBlocks(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	for _, c := range []struct {
		n, block int
		want     [][2]int
	}{
		{0, 4, nil},
		{3, 4, [][2]int{{0, 3}}},
		{10, 4, [][2]int{{0, 4}, {4, 8}, {8, 10}}},
		{8, 4, [][2]int{{0, 4}, {4, 8}}},
	} {
		t.Run(fmt.Sprintf("n%d_block%d", c.n, c.block), func(t *testing.T) {
			var got [][2]int
			ForBlocks(c.n, c.block, func(lo, hi int) { got = append(got, [2]int{lo, hi}) })
			assert.Equal(t, c.want, got)
		})
	}
}

// TestSumAddsSharesInOrder sums four shares whose float32 sum depends on
// the order of the additions: in share order ((1e8 + 1) - 1e8) + 1 = 1 (the
// 1 is lost next to 1e8, whose float32 spacing is 8); in the order the
// workers finish it can be 0 or 2. The result must be 1 on every run, and
// dst's old contents must not count.
func TestSumAddsSharesInOrder(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	shares := []float32{1e8, 1, -1e8, 1}
	for run := range 200 {
		dst := []float32{42, 7}
		Sum(dst, len(shares), func(lo, hi int, acc []float32) {
			for ch := lo; ch < hi; ch++ {
				acc[0] += shares[ch]
				acc[1]++
			}
		})
		assert.Equal(t, []float32{1, 4}, dst, "run %d", run)
	}
}
