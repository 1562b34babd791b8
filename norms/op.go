package norms

import (
	"fmt"
	"hash"
	"sync/atomic"

	"github.com/advbench/advbench/nn"
	"github.com/chewxy/hm"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// core is the per-(sample, channel) statistics stage of a layer: from the
// moments of the input it makes a scale a0 and shift b0 per (n, c) such that
// x̂ = a0*x + b0 is the normalised input, and it knows its own backward pass.
// All slices are row-major (N, C); p holds the op's parameter inputs as
// float64, dp their gradients (to be accumulated into).
type core interface {
	forward(s *shape, mu, v []float64, p [][]float64) (a0, b0 []float64, saved any, err error)
	backward(s *shape, mu, v []float64, p [][]float64, saved any, da0, db0 []float64, dp [][]float64) (dmu, dv []float64)
}

// shape is the geometry of one batch.
type shape struct{ n, c, hw int }

// affineRef locates one per-channel affine h = γ*h + β of a chain: γ is
// p[gIn][gOff : gOff+C] and β is p[bIn][bOff : bOff+C].
type affineRef struct{ gIn, gOff, bIn, bOff int }

// spec is what a layer contributes to one fused op: the parameter inputs, the
// statistics core and the affine chain applied after it, first to last, and
// whether a ReLU follows (fused into the same op).
type spec struct {
	label  string
	params []*nn.Var
	core   core
	chain  []affineRef
	relu   bool
}

// specer is implemented by every layer of this package: the op it builds
// for a branch and mode.
type specer interface {
	spec(b nn.Branch, m nn.Mode) (spec, error)
}

// build adds a layer's op for x to g, with the ReLU fused when asked.
func build(l specer, g *nn.Graph, x *gorgonia.Node, b nn.Branch, m nn.Mode, relu bool) (*gorgonia.Node, error) {
	sp, err := l.spec(b, m)
	if err != nil {
		return nil, err
	}
	sp.relu = relu
	if relu {
		sp.label += "+relu"
	}
	return sp.build(g, x)
}

// ApplyReLU returns relu(n.Apply(g, x, b, m)). Layers of this package fuse
// the ReLU into their op (one pass and one stored tensor less); others get
// nn.ReLU after Apply.
func ApplyReLU(n Norm, g *nn.Graph, x *gorgonia.Node, b nn.Branch, m nn.Mode) (*gorgonia.Node, error) {
	if l, ok := n.(specer); ok {
		return build(l, g, x, b, m, true)
	}
	y, err := n.Apply(g, x, b, m)
	if err != nil {
		return nil, err
	}
	return nn.ReLU(y)
}

var opIDs atomic.Uint64

// build adds the fused op for x to g.
func (sp spec) build(g *nn.Graph, x *gorgonia.Node) (*gorgonia.Node, error) {
	if x.Dims() != 4 {
		return nil, errNotNCHW(sp.label, x)
	}
	op := &normOp{spec: sp, id: opIDs.Add(1), cache: &opCache{}}
	inputs := []*gorgonia.Node{x}
	for _, p := range sp.params {
		inputs = append(inputs, g.Node(p))
	}
	out, err := gorgonia.ApplyOp(op, inputs...)
	if err != nil {
		return nil, fmt.Errorf("norms: %s: %w", sp.label, err)
	}
	return out, nil
}

// opCache carries what the forward pass computed to the backward pass of the
// same op node.
type opCache struct {
	s      shape
	mu, v  []float64
	p      [][]float64
	saved  any
	chainA [][]float64 // a before each chain layer (chainA[0] = a0) and after the last
	chainB [][]float64
	dp     [][]float64 // parameter gradients of the last backward pass
}

// normOp is the fused forward op: inputs x then the spec's parameters.
type normOp struct {
	nn.PureOp
	spec
	id    uint64
	cache *opCache
}

func (op *normOp) Arity() int { return 1 + len(op.params) }

func (op *normOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	ts := []hm.Type{gorgonia.TensorType{Dims: 4, Of: a}}
	for _, p := range op.params {
		ts = append(ts, gorgonia.TensorType{Dims: p.Value.Dims(), Of: a})
	}
	ts = append(ts, gorgonia.TensorType{Dims: 4, Of: a})
	return hm.NewFnType(ts...)
}

func (op *normOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	s, ok := in[0].(tensor.Shape)
	if !ok {
		return nil, fmt.Errorf("norms: %s: cannot infer shape from %T", op.label, in[0])
	}
	return s.Clone(), nil
}

func (op *normOp) String() string        { return op.label }
func (op *normOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "norm-%s-%d", op.label, op.id) }
func (op *normOp) Hashcode() uint32      { return nn.Hashcode(op) }

func (op *normOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	x := vals[0].(*tensor.Dense)
	return op.UsePreallocDo(nn.NewLike(x, x.Shape().Clone()...), vals...)
}

// UsePreallocDo writes the output into prealloc when it has the right shape
// and dtype (the tape machine then reuses buffers across runs).
func (op *normOp) UsePreallocDo(prealloc gorgonia.Value, vals ...gorgonia.Value) (gorgonia.Value, error) {
	x := vals[0].(*tensor.Dense)
	out, err := nn.Preallocated("norms: "+op.label, prealloc, x.Dtype(), x.Shape())
	if err != nil {
		return nil, err
	}
	sh := x.Shape()
	s := shape{n: sh[0], c: sh[1], hw: sh[2] * sh[3]}
	c := op.cache
	c.s = s
	c.p = c.p[:0]
	for _, v := range vals[1:] {
		c.p = append(c.p, nn.ToFloat64(v.(tensor.Tensor)))
	}
	c.mu, c.v = grow(c.mu, s.n*s.c), grow(c.v, s.n*s.c)
	switch xd := x.Data().(type) {
	case []float32:
		moments(xd, s, c.mu, c.v)
	case []float64:
		moments(xd, s, c.mu, c.v)
	default:
		return nil, fmt.Errorf("norms: %s: unsupported dtype %v", op.label, x.Dtype())
	}
	a0, b0, saved, err := op.core.forward(&s, c.mu, c.v, c.p)
	if err != nil {
		return nil, fmt.Errorf("norms: %s: %w", op.label, err)
	}
	c.saved = saved
	a, b := op.chainForward(a0, b0)
	switch xd := x.Data().(type) {
	case []float32:
		scaleShift(xd, out.Data().([]float32), s, a, b, op.relu)
	case []float64:
		scaleShift(xd, out.Data().([]float64), s, a, b, op.relu)
	}
	return out, nil
}

// chainForward applies the affine chain to (a0, b0) and keeps every
// intermediate for the backward pass.
func (op *normOp) chainForward(a0, b0 []float64) (a, b []float64) {
	c := op.cache
	s := c.s
	c.chainA, c.chainB = append(c.chainA[:0], a0), append(c.chainB[:0], b0)
	a, b = a0, b0
	for _, r := range op.chain {
		g, be := c.p[r.gIn][r.gOff:r.gOff+s.c], c.p[r.bIn][r.bOff:r.bOff+s.c]
		na, nb := make([]float64, len(a)), make([]float64, len(b))
		for n := 0; n < s.n; n++ {
			for ch := 0; ch < s.c; ch++ {
				i := n*s.c + ch
				na[i] = g[ch] * a[i]
				nb[i] = g[ch]*b[i] + be[ch]
			}
		}
		a, b = na, nb
		c.chainA, c.chainB = append(c.chainA, a), append(c.chainB, b)
	}
	return a, b
}

// backward computes the input gradient from x and the output gradient gy
// (and, with a fused ReLU, the output y, whose zeros mask gy) and leaves the
// parameter gradients in the cache.
func (op *normOp) backward(x, gy, y tensor.Tensor, dx *tensor.Dense) (tensor.Tensor, error) {
	c := op.cache
	s := c.s
	if c.mu == nil {
		return nil, fmt.Errorf("norms: %s: backward before forward", op.label)
	}
	A, B := make([]float64, s.n*s.c), make([]float64, s.n*s.c)
	switch xd := x.Data().(type) {
	case []float32:
		reduceGrad(xd, gy.Data().([]float32), dataOf[float32](y), s, c.mu, A, B)
	case []float64:
		reduceGrad(xd, gy.Data().([]float64), dataOf[float64](y), s, c.mu, A, B)
	default:
		return nil, fmt.Errorf("norms: %s: unsupported dtype %v", op.label, x.Dtype())
	}
	// y = a*x + b: dL/da = Σ g*x = B + μ*A, dL/db = A.
	da, db := make([]float64, len(A)), A
	for i := range da {
		da[i] = B[i] + c.mu[i]*A[i]
	}
	c.dp = c.dp[:0]
	for _, p := range c.p {
		c.dp = append(c.dp, make([]float64, len(p)))
	}
	for l := len(op.chain) - 1; l >= 0; l-- {
		r := op.chain[l]
		aPrev, bPrev := c.chainA[l], c.chainB[l]
		g := c.p[r.gIn][r.gOff : r.gOff+s.c]
		dg, dbe := c.dp[r.gIn][r.gOff:r.gOff+s.c], c.dp[r.bIn][r.bOff:r.bOff+s.c]
		nda, ndb := make([]float64, len(da)), make([]float64, len(db))
		for n := 0; n < s.n; n++ {
			for ch := 0; ch < s.c; ch++ {
				i := n*s.c + ch
				dg[ch] += da[i]*aPrev[i] + db[i]*bPrev[i]
				dbe[ch] += db[i]
				nda[i] = g[ch] * da[i]
				ndb[i] = g[ch] * db[i]
			}
		}
		da, db = nda, ndb
	}
	dmu, dv := op.core.backward(&s, c.mu, c.v, c.p, c.saved, da, db, c.dp)
	a := c.chainA[len(c.chainA)-1]
	switch xd := x.Data().(type) {
	case []float32:
		inputGrad(xd, gy.Data().([]float32), dataOf[float32](y), dx.Data().([]float32), s, a, c.mu, dmu, dv)
	case []float64:
		inputGrad(xd, gy.Data().([]float64), dataOf[float64](y), dx.Data().([]float64), s, a, c.mu, dmu, dv)
	}
	return dx, nil
}

func (op *normOp) DiffWRT(n int) []bool {
	out := make([]bool, n)
	for i := range out {
		out[i] = true
	}
	return out
}

// SymDiff returns the input gradient node and one node per parameter; the
// parameter-gradient nodes read what the input-gradient node computed, and
// take it as their input so they run after it.
func (op *normOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	args := []*gorgonia.Node{inputs[0], grad}
	if op.relu {
		args = append(args, output)
	}
	dx, err := gorgonia.ApplyOp(&normGradOp{fwd: op}, args...)
	if err != nil {
		return nil, err
	}
	out := gorgonia.Nodes{dx}
	for i := range op.params {
		dp, err := gorgonia.ApplyOp(&paramGradOp{fwd: op, i: i}, dx)
		if err != nil {
			return nil, err
		}
		out = append(out, dp)
	}
	return out, nil
}

// normGradOp computes the input gradient (x, dy) -> dx, or (x, dy, y) -> dx
// with a fused ReLU.
type normGradOp struct {
	nn.PureOp
	fwd *normOp
}

func (op *normGradOp) Arity() int {
	if op.fwd.relu {
		return 3
	}
	return 2
}
func (op *normGradOp) Type() hm.Type {
	t := gorgonia.TensorType{Dims: 4, Of: hm.TypeVariable('a')}
	if op.fwd.relu {
		return hm.NewFnType(t, t, t, t)
	}
	return hm.NewFnType(t, t, t)
}
func (op *normGradOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	return in[0].(tensor.Shape).Clone(), nil
}
func (op *normGradOp) String() string        { return op.fwd.label + "-grad" }
func (op *normGradOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "normgrad-%d", op.fwd.id) }
func (op *normGradOp) Hashcode() uint32      { return nn.Hashcode(op) }
func (op *normGradOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	x := vals[0].(tensor.Tensor)
	return op.UsePreallocDo(nn.NewLike(x, x.Shape().Clone()...), vals...)
}

// UsePreallocDo writes dx into prealloc (every element is overwritten).
func (op *normGradOp) UsePreallocDo(prealloc gorgonia.Value, vals ...gorgonia.Value) (gorgonia.Value, error) {
	x := vals[0].(tensor.Tensor)
	dx, err := nn.Preallocated("norms: "+op.String(), prealloc, x.Dtype(), x.Shape())
	if err != nil {
		return nil, err
	}
	var y tensor.Tensor
	if op.fwd.relu {
		y = vals[2].(tensor.Tensor)
	}
	return op.fwd.backward(x, vals[1].(tensor.Tensor), y, dx)
}

// paramGradOp returns the gradient of parameter i computed by the last
// normGradOp run of the same forward op. Its input is that op's output.
type paramGradOp struct {
	nn.PureOp
	fwd *normOp
	i   int
}

func (op *paramGradOp) Arity() int { return 1 }
func (op *paramGradOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	return hm.NewFnType(gorgonia.TensorType{Dims: 4, Of: a}, gorgonia.TensorType{Dims: op.fwd.params[op.i].Value.Dims(), Of: a})
}
func (op *paramGradOp) InferShape(...gorgonia.DimSizer) (tensor.Shape, error) {
	return op.fwd.params[op.i].Value.Shape().Clone(), nil
}
func (op *paramGradOp) String() string {
	return fmt.Sprintf("%s-grad-%s", op.fwd.label, op.fwd.params[op.i].Name)
}
func (op *paramGradOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "normparamgrad-%d-%d", op.fwd.id, op.i) }
func (op *paramGradOp) Hashcode() uint32      { return nn.Hashcode(op) }
func (op *paramGradOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	c := op.fwd.cache
	if op.i >= len(c.dp) {
		return nil, fmt.Errorf("norms: %s: parameter gradient read before the backward pass", op.String())
	}
	p := op.fwd.params[op.i].Value
	out := nn.NewLike(p, p.Shape().Clone()...)
	nn.FromFloat64(out, c.dp[op.i])
	return out, nil
}

// errNotNCHW is the error of an input that is not (N,C,H,W).
func errNotNCHW(label string, x *gorgonia.Node) error {
	return fmt.Errorf("norms: %s: input must be (N,C,H,W), got shape %v", label, x.Shape())
}

func grow(s []float64, n int) []float64 {
	if cap(s) < n {
		return make([]float64, n)
	}
	return s[:n]
}

// dataOf returns t's elements, or nil for a nil t (no fused ReLU).
func dataOf[T nn.Float](t tensor.Tensor) []T {
	if t == nil {
		return nil
	}
	return t.Data().([]T)
}
