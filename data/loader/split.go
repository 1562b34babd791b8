package loader

import (
	"fmt"
	"math/rand/v2"

	"github.com/advbench/advbench/data/cifar"
)

// Reference split of the training set (RECIPE.md): 45k train / 5k validation, seed 10.
const (
	RefValN      = 5000
	RefSplitSeed = 10
)

// SplitTrainVal splits d into a training and a validation part: a seeded
// permutation of the records, the first len-valN for training, the rest for
// validation. The same (d.Len(), valN, seed) always gives the same split.
func SplitTrainVal(d *cifar.Dataset, valN int, seed uint64) (train, val *cifar.Dataset, err error) {
	if valN < 0 || valN >= d.Len() {
		return nil, nil, fmt.Errorf("loader: validation size %d must be in 0..%d", valN, d.Len()-1)
	}
	perm := rand.New(rand.NewPCG(seed, 0x5eed)).Perm(d.Len())
	cut := d.Len() - valN
	return d.Subset(perm[:cut]), d.Subset(perm[cut:]), nil
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
