package train

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"

	"github.com/advbench/advbench/data/cifar"
	"github.com/advbench/advbench/data/loader"
	"github.com/advbench/advbench/data/source"
)

// Data is the data of a run: the training and validation parts of the
// training set (after the seeded split and the subsets) and the test subset.
type Data struct {
	Train, Val, Test *cifar.Dataset
	Info             DataInfo
}

// DataInfo identifies the data of a run, as recorded in config.json.
type DataInfo struct {
	// Source says where the data came from: a path, or the built-in
	// generator with its seed and sizes.
	Source string `json:"source"`
	// SHA256 is the hash of exactly the records used, in order: training
	// part, validation part, test subset (each label byte then its image).
	SHA256 string `json:"sha256"`
	Train  int    `json:"train_examples"`
	Val    int    `json:"val_examples"`
	Test   int    `json:"test_examples"`
}

// LoadData reads the configured data, splits the training set into training
// and validation parts (ValFraction, SplitSeed) and takes the subsets.
func LoadData(c Config) (*Data, error) {
	spec := source.Spec{Path: c.Data}
	full, err := source.Load(spec, cifar.Train)
	if err != nil {
		return nil, err
	}
	test, err := source.Load(spec, cifar.Test)
	if err != nil {
		return nil, err
	}
	valN := int(math.Round(c.ValFraction * float64(full.Len())))
	if valN < 1 || valN >= full.Len() {
		return nil, fmt.Errorf("train: %s: %d training images cannot be split with validation fraction %v", spec.Describe(), full.Len(), c.ValFraction)
	}
	tr, val, err := loader.SplitTrainVal(full, valN, c.SplitSeed)
	if err != nil {
		return nil, err
	}
	d := &Data{}
	take := func(what string, ds *cifar.Dataset, n int) (*cifar.Dataset, error) {
		out, err := loader.Take(ds, n)
		if err != nil {
			return nil, fmt.Errorf("train: %s: %s: %d images asked, %d available", spec.Describe(), what, n, ds.Len())
		}
		return out, nil
	}
	if d.Train, err = take("training part", tr, c.TrainN); err != nil {
		return nil, err
	}
	if d.Val, err = take("validation part", val, c.ValN); err != nil {
		return nil, err
	}
	if d.Test, err = take("test set", test, c.TestN); err != nil {
		return nil, err
	}
	if d.Train.Len() < c.Batch {
		return nil, fmt.Errorf("train: %d training images make no full batch of %d", d.Train.Len(), c.Batch)
	}
	h := sha256.New()
	for _, ds := range []*cifar.Dataset{d.Train, d.Val, d.Test} {
		h.Write(cifar.Encode(ds))
	}
	d.Info = DataInfo{Source: spec.Describe(), SHA256: hex.EncodeToString(h.Sum(nil)), Train: d.Train.Len(), Val: d.Val.Len(), Test: d.Test.Len()}
	return d, nil
}
