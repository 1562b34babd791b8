package synth

import (
	"math"
	"sort"
	"testing"

	"github.com/advbench/advbench/data/cifar"
	"github.com/advbench/advbench/data/loader"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDeterministicAndPrefixStable(t *testing.T) {
	a, err := Split(Config{Seed: 7, NTrain: 50}, cifar.Train)
	require.NoError(t, err)
	b, err := Split(Config{Seed: 7, NTrain: 80}, cifar.Train)
	require.NoError(t, err)
	assert.Equal(t, a.Images, b.Images[:len(a.Images)])
	assert.Equal(t, a.Labels, b.Labels[:a.Len()])

	c, err := Split(Config{Seed: 8, NTrain: 50}, cifar.Train)
	require.NoError(t, err)
	assert.NotEqual(t, a.Images, c.Images, "another seed gives other images")
	te, err := Split(Config{Seed: 7, NTest: 50}, cifar.Test)
	require.NoError(t, err)
	assert.NotEqual(t, a.Images, te.Images, "train and test are different streams")
}

func TestShapeBalanceAndEncoding(t *testing.T) {
	d, err := Split(Config{NTrain: 200}, cifar.Train)
	require.NoError(t, err)
	assert.Equal(t, 200, d.Len())
	assert.Equal(t, [cifar.NumClasses]int{20, 20, 20, 20, 20, 20, 20, 20, 20, 20}, d.ClassCounts())
	// It survives the CIFAR binary format unchanged.
	back, err := cifar.Parse("synth", cifar.Encode(d))
	require.NoError(t, err)
	assert.Equal(t, d.Images, back.Images)

	// Images use a good part of the dynamic range and are not constant.
	lo, hi := 255, 0
	for _, v := range d.Images {
		lo, hi = min(lo, int(v)), max(hi, int(v))
	}
	assert.Less(t, lo, 40)
	assert.Greater(t, hi, 215)
}

// features returns hand-made cues of record i, measured margin pixels or
// more away from the border: the mean of each channel (colour) and the
// doubled-angle structure tensor of the luminance gradient (orientation).
func features(d *cifar.Dataset, i, margin int) (colour [3]float64, orient [2]float64) {
	img := d.Image(i)
	for c := 0; c < 3; c++ {
		s, n := 0.0, 0
		for y := margin; y < 32-margin; y++ {
			for _, v := range img[c*1024+y*32+margin : c*1024+y*32+32-margin] {
				s += float64(v)
				n++
			}
		}
		colour[c] = s / float64(n)
	}
	return colour, orientation(d, i, max(margin, 1))
}

// orientation is the doubled-angle structure tensor of the luminance
// gradient of record i, measured margin pixels or more away from the border.
func orientation(d *cifar.Dataset, i, margin int) [2]float64 {
	img := d.Image(i)
	lum := func(x, y int) float64 {
		p := y*32 + x
		return float64(img[p]) + float64(img[1024+p]) + float64(img[2048+p])
	}
	var jxx, jyy, jxy float64
	for y := margin; y < 32-margin; y++ {
		for x := margin; x < 32-margin; x++ {
			gx := lum(x+1, y) - lum(x-1, y)
			gy := lum(x, y+1) - lum(x, y-1)
			jxx, jyy, jxy = jxx+gx*gx, jyy+gy*gy, jxy+gx*gy
		}
	}
	n := math.Hypot(jxx-jyy, 2*jxy) + 1e-9
	return [2]float64{(jxx - jyy) / n, 2 * jxy / n}
}

// centroidAccuracy trains a nearest-class-mean classifier on tr, with every
// feature standardised by its spread over tr, and scores it on te.
func centroidAccuracy(tr, te *cifar.Dataset, feat func(*cifar.Dataset, int) []float64) float64 {
	dim := len(feat(tr, 0))
	mean, sq := make([]float64, dim), make([]float64, dim)
	means := make([][]float64, cifar.NumClasses)
	counts := make([]float64, cifar.NumClasses)
	for k := range means {
		means[k] = make([]float64, dim)
	}
	for i := 0; i < tr.Len(); i++ {
		f := feat(tr, i)
		counts[tr.Labels[i]]++
		for c, v := range f {
			means[tr.Labels[i]][c] += v
			mean[c] += v / float64(tr.Len())
			sq[c] += v * v / float64(tr.Len())
		}
	}
	scale := make([]float64, dim)
	for c := range scale {
		scale[c] = 1 / math.Sqrt(sq[c]-mean[c]*mean[c]+1e-12)
	}
	correct := 0
	for i := 0; i < te.Len(); i++ {
		f := feat(te, i)
		best, bestD := 0, math.Inf(1)
		for k := range means {
			d := 0.0
			for c := range f {
				diff := (f[c] - means[k][c]/counts[k]) * scale[c]
				d += diff * diff
			}
			if d < bestD {
				best, bestD = k, d
			}
		}
		if best == int(te.Labels[i]) {
			correct++
		}
	}
	return float64(correct) / float64(te.Len())
}

// TestClassesDifferButOverlap checks that both class cues carry signal (a
// nearest-class-mean classifier on each beats chance) and that neither cue,
// nor the two side by side, solves the task for such a simple classifier.
func TestClassesDifferButOverlap(t *testing.T) {
	tr, err := Split(Config{NTrain: 2000}, cifar.Train)
	require.NoError(t, err)
	te, err := Split(Config{NTest: 1000}, cifar.Test)
	require.NoError(t, err)
	colourOnly := func(d *cifar.Dataset, i int) []float64 {
		c, _ := features(d, i, 0)
		return c[:]
	}
	orientOnly := func(d *cifar.Dataset, i int) []float64 {
		_, o := features(d, i, 0)
		return o[:]
	}
	both := func(d *cifar.Dataset, i int) []float64 { return append(colourOnly(d, i), orientOnly(d, i)...) }
	accC, accO, accB := centroidAccuracy(tr, te, colourOnly), centroidAccuracy(tr, te, orientOnly), centroidAccuracy(tr, te, both)
	t.Logf("nearest-centroid accuracy: colour %.3f, orientation %.3f, both %.3f (chance 0.100)", accC, accO, accB)
	for _, a := range []float64{accC, accO} {
		assert.Greater(t, a, 0.15, "each cue carries signal")
		assert.Less(t, a, 0.6, "no single cue solves the task")
	}
	assert.Less(t, accB, 0.6, "hand-made features together do not solve the task")
}

// knnAccuracy scores a k-nearest-neighbour classifier (k = 9, features
// standardised by their spread over tr) trained on tr, on te.
func knnAccuracy(tr, te *cifar.Dataset, feat func(*cifar.Dataset, int) []float64) float64 {
	const k = 9
	ftr := make([][]float64, tr.Len())
	for i := range ftr {
		ftr[i] = feat(tr, i)
	}
	dim := len(ftr[0])
	scale := make([]float64, dim)
	for c := range scale {
		var m, sq float64
		for _, f := range ftr {
			m, sq = m+f[c], sq+f[c]*f[c]
		}
		m, sq = m/float64(len(ftr)), sq/float64(len(ftr))
		scale[c] = 1 / math.Sqrt(sq-m*m+1e-12)
	}
	correct := 0
	dist := make([]float64, len(ftr))
	for i := 0; i < te.Len(); i++ {
		f := feat(te, i)
		for j, g := range ftr {
			d := 0.0
			for c := range f {
				diff := (f[c] - g[c]) * scale[c]
				d += diff * diff
			}
			dist[j] = d
		}
		idx := make([]int, len(ftr))
		for j := range idx {
			idx[j] = j
		}
		sort.Slice(idx, func(a, b int) bool { return dist[idx[a]] < dist[idx[b]] })
		var votes [cifar.NumClasses]int
		for _, j := range idx[:k] {
			votes[tr.Labels[j]]++
		}
		best := 0
		for c, v := range votes {
			if v > votes[best] {
				best = c
			}
		}
		if best == int(te.Labels[i]) {
			correct++
		}
	}
	return float64(correct) / float64(te.Len())
}

// TestClassesSurviveAugmentation checks that the training augmentation
// (horizontal flip, shift by up to loader.Pad pixels with zero fill) keeps
// every class cue: a nearest-neighbour classifier fitted to unaugmented
// images scores flipped and shifted test images as well as unaugmented ones,
// on the orientation cue alone and on both cues. (The cues are
// measured away from the zero-filled margin a shift leaves.) When a flip
// mapped class k onto class 10 − k's orientation, the orientation
// classifier fell to about chance on flipped images.
func TestClassesSurviveAugmentation(t *testing.T) {
	tr, err := Split(Config{NTrain: 2000}, cifar.Train)
	require.NoError(t, err)
	te, err := Split(Config{NTest: 1000}, cifar.Test)
	require.NoError(t, err)
	aug := &cifar.Dataset{Images: make([]uint8, len(te.Images)), Labels: te.Labels}
	buf := make([]float32, cifar.ImageBytes)
	for i := 0; i < te.Len(); i++ {
		// Every image flipped, shifted by a different (dx, dy) in ±Pad.
		dx, dy := i%(2*loader.Pad+1)-loader.Pad, (i/3)%(2*loader.Pad+1)-loader.Pad
		loader.Augment(te.Image(i), buf, dx, dy, true)
		for j, v := range buf {
			aug.Images[i*cifar.ImageBytes+j] = uint8(math.Round(float64(v) * 255))
		}
	}
	orientOnly := func(d *cifar.Dataset, i int) []float64 {
		_, o := features(d, i, loader.Pad+1)
		return o[:]
	}
	both := func(d *cifar.Dataset, i int) []float64 {
		c, o := features(d, i, loader.Pad+1)
		return append(c[:], o[:]...)
	}
	for _, tc := range []struct {
		name string
		feat func(*cifar.Dataset, int) []float64
	}{{"orientation", orientOnly}, {"both cues", both}} {
		plain, augmented := knnAccuracy(tr, te, tc.feat), knnAccuracy(tr, aug, tc.feat)
		t.Logf("%s: 9-nearest-neighbour accuracy %.3f unaugmented, %.3f flipped and shifted", tc.name, plain, augmented)
		assert.Greater(t, plain, 0.2, "%s: the cue carries signal", tc.name)
		assert.InDelta(t, plain, augmented, 0.05, "%s: the augmentation keeps the class cue", tc.name)
	}
}

func TestRejectsNegative(t *testing.T) {
	_, err := Split(Config{NTrain: -1}, cifar.Train)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "synth:")
}

func BenchmarkGenerate10k(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if _, err := Split(Config{NTrain: 10000}, cifar.Train); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(10000*b.N)/b.Elapsed().Seconds(), "images/s")
}
