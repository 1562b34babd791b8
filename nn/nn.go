package nn

import (
	"fmt"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Branch selects which branch of a multi-branch layer a graph is built for.
type Branch int

const (
	// Clean is branch 0: the clean-input branch of AdvProp.
	Clean Branch = 0
	// Adv is branch 1: the adversarial-input branch of AdvProp.
	Adv Branch = 1
)

// String returns "clean", "adv" or "branch N".
func (b Branch) String() string {
	switch b {
	case Clean:
		return "clean"
	case Adv:
		return "adv"
	}
	return fmt.Sprintf("branch %d", int(b))
}

// Mode says whether a graph normalises with batch statistics and updates
// running statistics (Train) or uses the running statistics (Eval).
type Mode int

const (
	// Train uses batch statistics and updates running statistics.
	Train Mode = iota
	// Eval uses running statistics and changes nothing.
	Eval
)

// String returns "train" or "eval".
func (m Mode) String() string {
	if m == Eval {
		return "eval"
	}
	return "train"
}

// Var is a named tensor that outlives graphs: a learnable parameter or a
// buffer. Names follow the reference PyTorch state dict where one exists.
type Var struct {
	Name  string
	Value *tensor.Dense
}

// NewVar returns a zero-filled variable of the given dtype and shape.
func NewVar(name string, dt tensor.Dtype, shape ...int) *Var {
	return &Var{Name: name, Value: tensor.New(tensor.WithShape(shape...), tensor.Of(dt))}
}

// Float64s returns a float64 copy of v's data.
func (v *Var) Float64s() []float64 { return ToFloat64(v.Value) }

// SetFloat64s sets v's data from float64 values (converted to v's dtype).
func (v *Var) SetFloat64s(src []float64) { FromFloat64(v.Value, src) }

// Graph is an expression graph with a binding of Vars to its nodes: the first
// use of a Var creates a node bound to the Var's tensor, later uses in the
// same graph return that node, so a parameter used twice (e.g. a shared
// affine in both AdvProp branches) receives the sum of both gradients.
//
// Beware: gorgonia merges input nodes of equal name and shape into one node
// whatever values they are bound to, so every other input of a graph (the
// clean and the adversarial batch, say) needs a name of its own.
type Graph struct {
	G        *gorgonia.ExprGraph
	nodes    map[*Var]*gorgonia.Node
	order    []*Var
	convPrec Precision // of the convolutions Graph.Conv2d builds
}

// NewGraph returns an empty graph.
func NewGraph() *Graph {
	return &Graph{G: gorgonia.NewGraph(), nodes: map[*Var]*gorgonia.Node{}}
}

// Node returns the node bound to v in this graph, creating it on first use.
func (g *Graph) Node(v *Var) *gorgonia.Node {
	if n, ok := g.nodes[v]; ok {
		return n
	}
	n := gorgonia.NodeFromAny(g.G, v.Value, gorgonia.WithName(v.Name))
	g.nodes[v] = n
	g.order = append(g.order, v)
	return n
}

// Bound returns the Vars bound in this graph, in order of first use.
func (g *Graph) Bound() []*Var { return append([]*Var(nil), g.order...) }

// ToFloat64 returns a float64 copy of a Float32 or Float64 tensor's data.
func ToFloat64(t tensor.Tensor) []float64 {
	switch d := t.Data().(type) {
	case []float64:
		return append([]float64(nil), d...)
	case []float32:
		out := make([]float64, len(d))
		for i, v := range d {
			out[i] = float64(v)
		}
		return out
	}
	panic(fmt.Sprintf("nn: unsupported dtype %v", t.Dtype()))
}

// FromFloat64 writes src into a Float32 or Float64 tensor's data.
func FromFloat64(t tensor.Tensor, src []float64) {
	switch d := t.Data().(type) {
	case []float64:
		copy(d, src)
	case []float32:
		for i, v := range src {
			d[i] = float32(v)
		}
	default:
		panic(fmt.Sprintf("nn: unsupported dtype %v", t.Dtype()))
	}
}

// Float is the set of element types advbench computes in: float32 for speed,
// float64 for gradient checks.
type Float interface{ ~float32 | ~float64 }
