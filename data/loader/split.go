package loader

import (
	"fmt"
	"math"

	"github.com/advbench/advbench/data/cifar"
	"github.com/advbench/advbench/internal/nprand"
)

// Reference split of the training set (RECIPE.md): 45k train / 5k validation, seed 10.
const (
	RefValN      = 5000
	RefSplitSeed = 10
)

// ValSize is the validation size the reference computes for a validation
// fraction: floor(fraction·n) (Adv/train.py: int(np.floor(valid_size *
// len(train_datasets)))).
func ValSize(fraction float64, n int) int { return int(math.Floor(fraction * float64(n))) }

// SplitTrainVal splits d into a training and a validation part exactly as
// the reference code does: np.random.seed(seed); shuffle the list
// range(d.Len()) with numpy's legacy shuffle; the first valN shuffled
// indices are the validation part, the rest, in shuffled order, the
// training part. With the CIFAR-10 training set, valN 5000 and seed 10 this
// is the reference's 45k/5k split to the index (internal/nprand checks the
// permutation against numpy).
func SplitTrainVal(d *cifar.Dataset, valN int, seed uint64) (train, val *cifar.Dataset, err error) {
	if valN < 0 || valN >= d.Len() {
		return nil, nil, fmt.Errorf("loader: validation size %d must be in 0..%d", valN, d.Len()-1)
	}
	perm, err := nprand.ShuffledRange(seed, d.Len())
	if err != nil {
		return nil, nil, fmt.Errorf("loader: split seed: %w", err)
	}
	return d.Subset(perm[valN:]), d.Subset(perm[:valN]), nil
}

// Take returns the first n records of d (all of d when n is 0). Datasets are
// already in random order after SplitTrainVal, so a prefix is a random subset.
func Take(d *cifar.Dataset, n int) (*cifar.Dataset, error) {
	switch {
	case n == 0 || n == d.Len():
		return d, nil
	case n < 0 || n > d.Len():
		return nil, fmt.Errorf("loader: subset of %d records asked of a dataset of %d", n, d.Len())
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	return d.Subset(idx), nil
}
