package loader

import (
	"fmt"
	"math/rand/v2"

	"github.com/advbench/advbench/data/cifar"
)

// LastBatch is the policy for a final batch smaller than the batch size.
type LastBatch int

const (
	// KeepLast yields the final partial batch (the default; evaluation wants it).
	KeepLast LastBatch = iota
	// DropLast drops it (training with batch statistics may want it).
	DropLast
)

// String returns the flag spelling of the policy.
func (p LastBatch) String() string {
	if p == DropLast {
		return "drop"
	}
	return "keep"
}

// ParseLastBatch parses "keep" or "drop".
func ParseLastBatch(s string) (LastBatch, error) {
	switch s {
	case "keep", "":
		return KeepLast, nil
	case "drop":
		return DropLast, nil
	}
	return 0, fmt.Errorf("loader: last-batch policy %q: want keep or drop", s)
}

// Config configures a Loader. The zero value is a deterministic, unshuffled,
// unaugmented loader of batch 128 that keeps the last partial batch.
type Config struct {
	BatchSize int       // records per batch; 0 means 128
	Shuffle   bool      // a new seeded order every epoch
	Augment   bool      // random crop (pad 4) and horizontal flip per record
	Last      LastBatch // policy for the final partial batch
	Seed      uint64    // seeds order and augmentation
}

// Loader yields batches of a dataset.
type Loader struct {
	data *cifar.Dataset
	cfg  Config
}

// New returns a loader over d.
func New(d *cifar.Dataset, cfg Config) (*Loader, error) {
	if cfg.BatchSize == 0 {
		cfg.BatchSize = 128
	}
	if cfg.BatchSize < 0 {
		return nil, fmt.Errorf("loader: batch size %d must be positive", cfg.BatchSize)
	}
	if d.Len() == 0 {
		return nil, fmt.Errorf("loader: empty dataset")
	}
	if cfg.Last == DropLast && d.Len() < cfg.BatchSize {
		return nil, fmt.Errorf("loader: %d records make no full batch of %d and the last-batch policy is drop", d.Len(), cfg.BatchSize)
	}
	return &Loader{data: d, cfg: cfg}, nil
}

// Len returns the number of records.
func (l *Loader) Len() int { return l.data.Len() }

// NumBatches returns the number of batches in one epoch.
func (l *Loader) NumBatches() int {
	n, b := l.data.Len(), l.cfg.BatchSize
	if l.cfg.Last == DropLast {
		return n / b
	}
	return (n + b - 1) / b
}

// Order returns the record order of an epoch.
func (l *Loader) Order(epoch int) []int {
	n := l.data.Len()
	if !l.cfg.Shuffle {
		idx := make([]int, n)
		for i := range idx {
			idx[i] = i
		}
		return idx
	}
	rng := rand.New(rand.NewPCG(l.cfg.Seed, uint64(epoch)<<1))
	return rng.Perm(n)
}

// Batch is one batch: X holds N images as float32 in [0,1], NCHW (N x 3 x 32
// x 32); Y their labels; Index their record indices in the dataset.
type Batch struct {
	X     []float32
	Y     []int
	Index []int
}

// Len returns the number of records in the batch.
func (b *Batch) Len() int { return len(b.Y) }

// Fill writes batch k of the given epoch into b, reusing b's buffers.
// order must be l.Order(epoch) (pass it to avoid recomputing it per batch).
func (l *Loader) Fill(epoch, k int, order []int, b *Batch) error {
	nb := l.NumBatches()
	if k < 0 || k >= nb {
		return fmt.Errorf("loader: batch %d out of range 0..%d", k, nb-1)
	}
	lo := k * l.cfg.BatchSize
	hi := min(lo+l.cfg.BatchSize, len(order))
	n := hi - lo
	if cap(b.X) < n*cifar.ImageBytes {
		b.X = make([]float32, n*cifar.ImageBytes)
	}
	b.X = b.X[:n*cifar.ImageBytes]
	b.Y = b.Y[:0]
	b.Index = b.Index[:0]
	for j, rec := range order[lo:hi] {
		b.Y = append(b.Y, int(l.data.Labels[rec]))
		b.Index = append(b.Index, rec)
		dst := b.X[j*cifar.ImageBytes : (j+1)*cifar.ImageBytes]
		if l.cfg.Augment {
			rng := rand.New(rand.NewPCG(l.cfg.Seed, uint64(epoch)<<32|uint64(rec)<<1|1))
			Augment(l.data.Image(rec), dst, rng.IntN(2*Pad+1)-Pad, rng.IntN(2*Pad+1)-Pad, rng.IntN(2) == 1)
		} else {
			l.data.Float32(rec, dst)
		}
	}
	return nil
}

// Epoch calls fn for every batch of an epoch from batch start on, in order,
// reusing one Batch. It stops at the first error fn returns.
func (l *Loader) Epoch(epoch, start int, fn func(k int, b *Batch) error) error {
	order := l.Order(epoch)
	var b Batch
	for k := start; k < l.NumBatches(); k++ {
		if err := l.Fill(epoch, k, order, &b); err != nil {
			return err
		}
		if err := fn(k, &b); err != nil {
			return err
		}
	}
	return nil
}

// Pad is the zero padding of the reference random crop.
const Pad = 4

// Augment writes src (CHW bytes) shifted by (dx, dy) with zero fill, as a
// random 32x32 crop of the image padded by Pad on each side would, mirrored
// horizontally when flip is set, as float32 in [0,1].
func Augment(src []uint8, dst []float32, dx, dy int, flip bool) {
	const s = cifar.Width
	for c := 0; c < cifar.Channels; c++ {
		plane := src[c*s*s : (c+1)*s*s]
		out := dst[c*s*s : (c+1)*s*s]
		for y := 0; y < s; y++ {
			sy := y + dy
			for x := 0; x < s; x++ {
				sx := x + dx
				if flip {
					sx = s - 1 - x + dx
				}
				v := float32(0)
				if sy >= 0 && sy < s && sx >= 0 && sx < s {
					v = float32(plane[sy*s+sx]) / 255
				}
				out[y*s+x] = v
			}
		}
	}
}
