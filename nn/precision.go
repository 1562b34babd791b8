package nn

import (
	"fmt"

	"gorgonia.org/gorgonia"
)

// Precision is the arithmetic of a graph's convolutions: FP32, or BF16,
// where the forward pass and the input gradient multiply operands rounded
// to bfloat16 and sum the products in float32 (VDPBF16PS's arithmetic, on
// AVX512_BF16 where the CPU has it and bit for bit the same on a portable
// kernel elsewhere); weight gradients, norms and everything else stay
// float32. Models use BF16 only for attack steps (the input gradients an
// attack follows), never for training passes or reported classifications.
type Precision uint8

const (
	FP32 Precision = iota
	BF16
)

// Precisions are the names ParsePrecision accepts.
var Precisions = []string{"fp32", "bf16"}

func (p Precision) String() string {
	if p == BF16 {
		return "bf16"
	}
	return "fp32"
}

// ParsePrecision parses "fp32" or "bf16".
func ParsePrecision(s string) (Precision, error) {
	switch s {
	case "fp32":
		return FP32, nil
	case "bf16":
		return BF16, nil
	}
	return FP32, fmt.Errorf("unknown precision %q (want fp32 or bf16)", s)
}

// SetConvPrecision sets the precision of the convolutions g.Conv2d builds
// from now on (FP32 until set).
func (g *Graph) SetConvPrecision(p Precision) { g.convPrec = p }

// Conv2d is Conv2d in the graph's convolution precision.
func (g *Graph) Conv2d(x, w *gorgonia.Node, stride, pad int) (*gorgonia.Node, error) {
	return conv2d(x, w, stride, pad, g.convPrec == BF16)
}
