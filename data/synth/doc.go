// Package synth generates advbench's built-in dataset: CIFAR-10-shaped
// (10 classes, 32x32x3 uint8) images that are deterministic from a seed,
// generated in memory in a fraction of a second, and hard enough that a small
// ResNet needs a few epochs and that adversarial training measurably changes
// robust accuracy.
//
// Each image is a soft-edged patch of an oriented sinusoidal grating placed at
// a random position and size over a background of a weaker grating with random
// orientation and colour, plus Gaussian pixel noise. The class decides the
// patch's orientation (10 orientations 18 degrees apart, jittered) and its hue
// (10 hues 36 degrees apart, jittered so that neighbouring classes overlap);
// phase, spatial frequency, contrast, placement, the background and the noise
// are random per image. Neither cue alone separates all classes reliably.
//
// It is the default data of the CLI when no --data is given, and the data of
// the unit tests.
package synth
