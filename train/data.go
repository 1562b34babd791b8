package train

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/advbench/advbench/data/cifar"
	"github.com/advbench/advbench/data/loader"
	"github.com/advbench/advbench/data/source"
)

// Data is the data of a run: the training and validation parts of the
// training set (after the seeded split and the subsets) and the test subset.
// Test is nil when the run's data is a single file, which is one split
// only: the run trains and validates on it and has no test set.
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
	// NoTest says why the run has no test set ("" when it has one).
	NoTest string `json:"no_test,omitempty"`
}

// singleFileNoTest is DataInfo.NoTest for a run on a single file.
const singleFileNoTest = "the data is a single file, which is one split: the run trained and validated on it, and tests on other data"

// LoadData reads the configured data, splits the training set into training
// and validation parts (ValFraction, SplitSeed) and takes the subsets.
func LoadData(c Config) (*Data, error) {
	spec := source.Spec{Path: c.Data}
	full, err := source.Load(spec, cifar.Train)
	if err != nil {
		return nil, err
	}
	var test *cifar.Dataset
	if !spec.IsFile() {
		if test, err = source.Load(spec, cifar.Test); err != nil {
			return nil, err
		}
	}
	valN := loader.ValSize(c.ValFraction, full.Len())
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
	if test != nil {
		if d.Test, err = take("test set", test, c.TestN); err != nil {
			return nil, err
		}
	}
	if d.Train.Len() < c.Batch {
		return nil, fmt.Errorf("train: %d training images make no full batch of %d", d.Train.Len(), c.Batch)
	}
	h := sha256.New()
	for _, ds := range []*cifar.Dataset{d.Train, d.Val, d.Test} {
		if ds != nil {
			h.Write(cifar.Encode(ds))
		}
	}
	d.Info = DataInfo{Source: spec.Describe(), SHA256: hex.EncodeToString(h.Sum(nil)), Train: d.Train.Len(), Val: d.Val.Len()}
	if d.Test != nil {
		d.Info.Test = d.Test.Len()
	} else {
		d.Info.NoTest = singleFileNoTest
	}
	return d, nil
}

// Seen returns the sorted fingerprints (cifar.Dataset.Fingerprints) of the
// images the run trains and validates on.
func (d *Data) Seen() []uint64 {
	all := &cifar.Dataset{}
	all.Append(d.Train)
	all.Append(d.Val)
	return all.Fingerprints()
}
