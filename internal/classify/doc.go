// Package classify reads a row of a classifier's logits: the predicted
// class (the arg-max, ties to the first class) and the cross-entropy loss
// of a label (in float64, the log-sum-exp shifted by the row's maximum).
// attack and train share it, so that the class an attack checks and the
// loss training reports are computed one way.
package classify
