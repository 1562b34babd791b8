// Package loader turns a cifar.Dataset into batches for training and
// evaluation: the reference seeded train/validation split, subsets, seeded
// shuffling, the reference augmentation (random 32x32 crop of the image
// zero-padded by 4 pixels, random horizontal flip) and batching with an
// explicit policy for the last partial batch.
//
// Every batch is a pure function of (seed, epoch, batch index): the order of
// an epoch and the augmentation of each record are drawn from generators
// seeded by those numbers alone, so a run resumed in the middle of an epoch
// sees exactly the batches an uninterrupted run would have seen.
package loader
