package nn

import (
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"gorgonia.org/tensor"
)

func TestGraphBindsOneNodePerVar(t *testing.T) {
	v := NewVar("w", tensor.Float32, 3)
	g := NewGraph()
	a, b := g.Node(v), g.Node(v)
	assert.Same(t, a, b)
	assert.Equal(t, []*Var{v}, g.Bound())
	// Another graph gets another node bound to the same tensor.
	g2 := NewGraph()
	c := g2.Node(v)
	assert.NotSame(t, a, c)
	v.SetFloat64s([]float64{1, 2, 3})
	assert.Equal(t, []float32{1, 2, 3}, c.Value().Data())
	assert.Equal(t, []float32{1, 2, 3}, a.Value().Data())
}

func TestConversions(t *testing.T) {
	v := NewVar("x", tensor.Float64, 2, 2)
	v.SetFloat64s([]float64{1, 2, 3, 4.5})
	assert.Equal(t, []float64{1, 2, 3, 4.5}, v.Float64s())
	assert.Equal(t, "clean", Clean.String())
	assert.Equal(t, "adv", Adv.String())
	assert.Equal(t, "eval", Eval.String())
}

func TestParallelForCoversOnce(t *testing.T) {
	for _, n := range []int{0, 1, 2, 3, 17} {
		hits := make([]int32, n)
		ParallelFor(n, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				atomic.AddInt32(&hits[i], 1)
			}
		})
		for i, h := range hits {
			assert.Equal(t, int32(1), h, "n=%d i=%d", n, i)
		}
	}
}

// TestParallelForTakesChunksAsWorkersFree blocks the worker that takes the
// first chunk until every other chunk has run: with the loop split into one
// fixed share per worker, the chunks of the blocked worker's share could
// never run and the loop would not end.
func TestParallelForTakesChunksAsWorkersFree(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	const n = 40
	var rest sync.WaitGroup
	rest.Add(n - 1)
	done := make(chan struct{})
	go func() {
		ParallelFor(n, func(lo, hi int) {
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

// TestParallelForHelpers runs ParallelFor on 4 workers from several
// goroutines at once, nested inside itself, and after the helpers have
// parked: every index is covered once and the chunk boundaries are the same
// whether the chunks ran on helpers or one after the other on the caller.
func TestParallelForHelpers(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	const n = 103
	chunks := func() [][2]int {
		var mu sync.Mutex
		var got [][2]int
		hits := make([]int32, n)
		ParallelFor(n, func(lo, hi int) {
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
	ParallelFor(4, func(lo, hi int) {
		assert.Equal(t, want, chunks())
		nested.Add(int32(hi - lo))
	})
	assert.Equal(t, int32(4), nested.Load())

	time.Sleep(3 * helperSpin) // helpers park
	assert.Equal(t, want, chunks())
}
