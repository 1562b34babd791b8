// Package vec holds the element-wise and reduction loops of the
// normalisation layers over one contiguous plane (sums in float64, a scale
// and shift with an optional ReLU, the two passes of the backward step with
// an optional ReLU mask read from the layer's output) and the element-wise
// add of residual connections and gradient sums. Float32 runs on AVX-512
// where the CPU has it (whole blocks of 16 elements in assembly, the rest in
// Go); everything else runs the generic Go loops. Sums are accumulated in
// float64 in every path.
package vec
