package landscape

import (
	"fmt"
	"math"
	"strings"

	"github.com/advbench/advbench/nn"
)

// Values returns a float64 copy of each variable's data, in order (exact:
// every float32 is a float64).
func Values(vars []*nn.Var) [][]float64 {
	out := make([][]float64, len(vars))
	for i, v := range vars {
		out[i] = v.Float64s()
	}
	return out
}

// setValues writes values into the variables, converted to their dtype.
func setValues(vars []*nn.Var, values [][]float64) {
	for i, v := range vars {
		v.SetFloat64s(values[i])
	}
}

// Saved is an exact copy of variables' data in their own dtype.
type Saved []any

// Save copies the variables' data (float32 or float64 tensors).
func Save(vars []*nn.Var) Saved {
	out := make(Saved, len(vars))
	for i, v := range vars {
		switch d := v.Value.Data().(type) {
		case []float32:
			out[i] = append([]float32(nil), d...)
		case []float64:
			out[i] = append([]float64(nil), d...)
		default:
			panic(fmt.Sprintf("landscape: %s has dtype %v", v.Name, v.Value.Dtype()))
		}
	}
	return out
}

// Restore writes the copies back into the variables Save copied, bit for
// bit.
func (s Saved) Restore(vars []*nn.Var) {
	for i, v := range vars {
		switch d := v.Value.Data().(type) {
		case []float32:
			copy(d, s[i].([]float32))
		case []float64:
			copy(d, s[i].([]float64))
		}
	}
}

// Stage names the part of the network a parameter belongs to: the first
// dot-separated element of its name ("conv1" for the stem, "layer1" to
// "layer4", "linear" for the classifier).
func Stage(name string) string {
	s, _, _ := strings.Cut(name, ".")
	return s
}

// AllStages is the Distance.Stage of the whole network.
const AllStages = "all"

// Distance is ‖W − W_0‖₂ over a stage's parameters.
type Distance struct {
	Stage    string  `json:"stage"`
	Distance float64 `json:"distance"`
}

// Distances returns ‖w − w0‖₂ for each stage (Stage of the parameters'
// names), in the order stages first appear in params, then over every
// parameter as AllStages. w and w0 hold the parameters' values in order.
func Distances(params []*nn.Var, w, w0 [][]float64) ([]Distance, error) {
	if len(w) != len(params) || len(w0) != len(params) {
		return nil, fmt.Errorf("landscape: distances: %d and %d tensors for %d parameters", len(w), len(w0), len(params))
	}
	var out []Distance
	at := map[string]int{}
	total := 0.0
	for i, p := range params {
		if len(w[i]) != len(w0[i]) {
			return nil, fmt.Errorf("landscape: distances: %s has %d values, its initial value %d", p.Name, len(w[i]), len(w0[i]))
		}
		s := Stage(p.Name)
		k, ok := at[s]
		if !ok {
			k = len(out)
			at[s] = k
			out = append(out, Distance{Stage: s})
		}
		sq := sqDist(w[i], w0[i])
		out[k].Distance += sq
		total += sq
	}
	for k := range out {
		out[k].Distance = math.Sqrt(out[k].Distance)
	}
	return append(out, Distance{Stage: AllStages, Distance: math.Sqrt(total)}), nil
}

// sqDist is ‖a − b‖₂², a nil slice counting as zeros.
func sqDist(a, b []float64) float64 {
	s := 0.0
	switch {
	case a == nil:
		for _, v := range b {
			s += v * v
		}
	case b == nil:
		for _, v := range a {
			s += v * v
		}
	default:
		for i, v := range a {
			d := v - b[i]
			s += d * d
		}
	}
	return s
}

// norm is ‖a‖₂ over every tensor of a (nil tensors count zero).
func norm(a [][]float64) float64 {
	s := 0.0
	for _, t := range a {
		s += sqDist(t, nil)
	}
	return math.Sqrt(s)
}

// dist is ‖a − b‖₂ over every tensor (nil tensors count zero).
func dist(a, b [][]float64) float64 {
	s := 0.0
	for i := range a {
		s += sqDist(a[i], b[i])
	}
	return math.Sqrt(s)
}

// cosine is cos(a, b); NaN when either is zero.
func cosine(a, b []float64) float64 {
	if a == nil || b == nil {
		return math.NaN()
	}
	var ab, aa, bb float64
	for i, v := range a {
		ab += v * b[i]
		aa += v * v
		bb += b[i] * b[i]
	}
	return ab / math.Sqrt(aa*bb)
}
