package loader

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/advbench/advbench/data/cifar"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ramp returns n records whose pixel (c,y,x) of record i is (i + c + y*32+x) % 256.
func ramp(n int) *cifar.Dataset {
	d := &cifar.Dataset{Images: make([]uint8, n*cifar.ImageBytes), Labels: make([]uint8, n)}
	for i := 0; i < n; i++ {
		d.Labels[i] = uint8(i % 10)
		for c := 0; c < 3; c++ {
			for p := 0; p < 1024; p++ {
				d.Images[i*cifar.ImageBytes+c*1024+p] = uint8((i + c + p) % 256)
			}
		}
	}
	return d
}

func TestBatchingPolicies(t *testing.T) {
	d := ramp(10)
	keep, err := New(d, Config{BatchSize: 4})
	require.NoError(t, err)
	drop, err := New(d, Config{BatchSize: 4, Last: DropLast})
	require.NoError(t, err)
	assert.Equal(t, 3, keep.NumBatches())
	assert.Equal(t, 2, drop.NumBatches())

	var sizes []int
	var seen []int
	require.NoError(t, keep.Epoch(0, 0, func(k int, b *Batch) error {
		sizes = append(sizes, b.Len())
		seen = append(seen, b.Index...)
		assert.Len(t, b.X, b.Len()*cifar.ImageBytes)
		return nil
	}))
	assert.Equal(t, []int{4, 4, 2}, sizes)
	assert.Equal(t, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, seen)

	_, err = New(ramp(3), Config{BatchSize: 4, Last: DropLast})
	assert.ErrorContains(t, err, "no full batch")
	_, err = ParseLastBatch("sometimes")
	assert.ErrorContains(t, err, `"sometimes"`)
}

func TestShuffleSeededPerEpoch(t *testing.T) {
	d := ramp(50)
	l, err := New(d, Config{BatchSize: 8, Shuffle: true, Seed: 3})
	require.NoError(t, err)
	o0, o1 := l.Order(0), l.Order(1)
	assert.NotEqual(t, o0, o1, "each epoch has its own order")
	assert.ElementsMatch(t, o0, o1)
	l2, _ := New(d, Config{BatchSize: 8, Shuffle: true, Seed: 3})
	assert.Equal(t, o1, l2.Order(1), "same seed, same order")
	l3, _ := New(d, Config{BatchSize: 8, Shuffle: true, Seed: 4})
	assert.NotEqual(t, o1, l3.Order(1))
}

func TestResumeMidEpochIsExact(t *testing.T) {
	d := ramp(40)
	cfg := Config{BatchSize: 8, Shuffle: true, Augment: true, Seed: 9}
	l, _ := New(d, cfg)
	var full [][]float32
	require.NoError(t, l.Epoch(2, 0, func(k int, b *Batch) error {
		full = append(full, append([]float32{}, b.X...))
		return nil
	}))
	l2, _ := New(d, cfg)
	require.NoError(t, l2.Epoch(2, 3, func(k int, b *Batch) error {
		assert.Equal(t, full[k], b.X, "batch %d", k)
		return nil
	}))
}

func TestAugmentExact(t *testing.T) {
	d := ramp(1)
	src := d.Image(0)
	dst := make([]float32, cifar.ImageBytes)
	// Shift right/down by 2 (crop window starting at -2): the first two rows and
	// columns are zero padding, then the image.
	Augment(src, dst, -2, -2, false)
	assert.Equal(t, float32(0), dst[0])
	assert.Equal(t, float32(0), dst[1*32+5])
	assert.Equal(t, float32(src[0])/255, dst[2*32+2])
	assert.Equal(t, float32(src[1024+3*32+4])/255, dst[1024+5*32+6])
	// Flip without shift mirrors each row.
	Augment(src, dst, 0, 0, true)
	assert.Equal(t, float32(src[7*32+31])/255, dst[7*32+0])
	assert.Equal(t, float32(src[2048+7*32+0])/255, dst[2048+7*32+31])
	// No shift, no flip: the plain conversion.
	plain := make([]float32, cifar.ImageBytes)
	d.Float32(0, plain)
	Augment(src, dst, 0, 0, false)
	assert.Equal(t, plain, dst)
}

func TestAugmentVaries(t *testing.T) {
	d := ramp(64)
	plain, _ := New(d, Config{BatchSize: 64})
	aug, _ := New(d, Config{BatchSize: 64, Augment: true, Seed: 1})
	var a, p Batch
	require.NoError(t, plain.Fill(0, 0, plain.Order(0), &p))
	require.NoError(t, aug.Fill(0, 0, aug.Order(0), &a))
	changed := 0
	for i := 0; i < 64; i++ {
		lo, hi := i*cifar.ImageBytes, (i+1)*cifar.ImageBytes
		if !equal(a.X[lo:hi], p.X[lo:hi]) {
			changed++
		}
	}
	// 81 shifts x 2 flips: only 1 in 162 records keeps the identity transform.
	assert.Greater(t, changed, 56)
	var a2 Batch
	require.NoError(t, aug.Fill(1, 0, aug.Order(1), &a2))
	assert.NotEqual(t, a.X, a2.X, "augmentation is redrawn each epoch")
}

func equal(a, b []float32) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestSplitAndTake(t *testing.T) {
	d := ramp(100)
	tr, va, err := SplitTrainVal(d, 20, RefSplitSeed)
	require.NoError(t, err)
	assert.Equal(t, 80, tr.Len())
	assert.Equal(t, 20, va.Len())
	tr2, va2, _ := SplitTrainVal(d, 20, RefSplitSeed)
	assert.Equal(t, tr.Images, tr2.Images)
	assert.Equal(t, va.Labels, va2.Labels)
	// Disjoint and complete: the first pixel of record i is i%256 (i < 100).
	seen := map[uint8]int{}
	for _, part := range []*cifar.Dataset{tr, va} {
		for i := 0; i < part.Len(); i++ {
			seen[part.Image(i)[0]]++
		}
	}
	assert.Len(t, seen, 100)

	s, err := Take(tr, 10)
	require.NoError(t, err)
	assert.Equal(t, tr.Images[:10*cifar.ImageBytes], s.Images)
	_, err = Take(tr, 81)
	assert.ErrorContains(t, err, "81")
	_, _, err = SplitTrainVal(d, 100, 1)
	assert.ErrorContains(t, err, "validation size 100")
}

// TestSplitIsNumpys checks the split against numpy's own shuffle
// (internal/nprand/testdata/numpy_split.json, made by
// scripts/make_split_fixture.py): with seed 10, the validation part is the
// first valN indices of np.random.shuffle(list(range(n))) and the training
// part the rest, in that order.
func TestSplitIsNumpys(t *testing.T) {
	b, err := os.ReadFile("../../internal/nprand/testdata/numpy_split.json")
	require.NoError(t, err)
	var f struct {
		Shuffles []struct {
			Seed        uint64
			N           int
			First, Last []int
		}
	}
	require.NoError(t, json.Unmarshal(b, &f))
	const n, valN = 10000, 1000
	var first, last []int
	for _, c := range f.Shuffles {
		if c.Seed == RefSplitSeed && c.N == n {
			first, last = c.First, c.Last
		}
	}
	require.NotEmpty(t, first, "the fixture has the seed-10 shuffle of 10000")
	// Record i carries its index in its first two bytes.
	d := &cifar.Dataset{Images: make([]uint8, n*cifar.ImageBytes), Labels: make([]uint8, n)}
	for i := 0; i < n; i++ {
		d.Images[i*cifar.ImageBytes] = uint8(i >> 8)
		d.Images[i*cifar.ImageBytes+1] = uint8(i)
	}
	index := func(ds *cifar.Dataset, i int) int { return int(ds.Image(i)[0])<<8 | int(ds.Image(i)[1]) }
	tr, va, err := SplitTrainVal(d, valN, RefSplitSeed)
	require.NoError(t, err)
	require.Equal(t, valN, va.Len())
	require.Equal(t, n-valN, tr.Len())
	for i, want := range first {
		assert.Equal(t, want, index(va, i), "validation record %d", i)
	}
	for i, want := range last {
		assert.Equal(t, want, index(tr, tr.Len()-len(last)+i), "training record %d from the end", len(last)-i)
	}
	assert.Equal(t, 5000, ValSize(0.1, 50000))
	assert.Equal(t, 33, ValSize(0.1, 339), "floor, as the reference")
}
