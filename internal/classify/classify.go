package classify

import "math"

// Float is the element type of a row of logits.
type Float interface{ ~float32 | ~float64 }

// Argmax returns the index of the largest value of row, the first of equal
// ones (0 for an empty row).
func Argmax[T Float](row []T) int {
	best := 0
	for j := 1; j < len(row); j++ {
		if row[j] > row[best] {
			best = j
		}
	}
	return best
}

// CrossEntropy returns −log softmax(row)[label] = log Σ_j exp z_j − z_label
// in float64, shifting the exponents by the row's maximum so that large
// logits do not overflow.
func CrossEntropy(row []float32, label int) float64 {
	top := math.Inf(-1)
	for _, z := range row {
		top = math.Max(top, float64(z))
	}
	s := 0.0
	for _, z := range row {
		s += math.Exp(float64(z) - top)
	}
	return top + math.Log(s) - float64(row[label])
}
