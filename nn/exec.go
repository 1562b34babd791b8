package nn

import (
	"fmt"

	"github.com/advbench/advbench/internal/parallel"
	"github.com/advbench/advbench/internal/vec"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Program runs the part of a gorgonia graph that a set of outputs depends
// on, with a schedule and a memory plan of its own.
//
// gorgonia's tape machine binds every value it computes to its node until
// the next run, so one training step holds every activation and every
// gradient at once. A Program instead drops each value after its last use
// and recycles the buffers of ops that can write into a given one
// (gorgonia.UsePreallocDoer) for later steps and later runs: a steady-state
// run allocates almost nothing, and its peak memory is what is live at once,
// not the whole graph. Ops run in a topological order that runs a node as
// soon as its inputs are ready, latest-ready first, so a gradient's consumers
// (weight gradients, parameter-gradient reads) run right after it and free it.
//
// Input nodes (no op) are read from their bound values at every run; the
// caller changes what is bound to them (or writes into the bound tensors)
// between runs. Outputs' values stay valid until the next Run.
type Program struct {
	steps   []step
	vals    []gorgonia.Value
	index   map[*gorgonia.Node]int
	outputs []int
	arena   *Arena
	refs    map[uintptr]int // live slots per arena buffer
}

// step is one node of the schedule.
type step struct {
	node *gorgonia.Node
	op   gorgonia.Op // nil for an input node
	in   []int       // slots of the inputs, in the op's order
	free []int       // slots whose last use is this step
	keep bool        // an output: not freed during the run
	add  bool        // gorgonia's element-wise add (see parallelAdd)
	args []gorgonia.Value
}

// NewProgram schedules the nodes the outputs depend on, with an arena of
// its own. The outputs must belong to one graph.
func NewProgram(outputs ...*gorgonia.Node) (*Program, error) {
	return NewProgramIn(NewArena(), outputs...)
}

// NewProgramIn is NewProgram recycling buffers through a, which programs
// that never run at the same time (one model's graphs) can share, so that
// the memory they hold is the largest program's, not the sum.
func NewProgramIn(a *Arena, outputs ...*gorgonia.Node) (*Program, error) {
	if len(outputs) == 0 {
		return nil, fmt.Errorf("nn: program without outputs")
	}
	g := outputs[0].Graph()
	// Collect the reachable nodes, their ordered inputs, and a deterministic
	// discovery order (depth-first from the outputs).
	inputs := map[*gorgonia.Node][]*gorgonia.Node{}
	var order []*gorgonia.Node
	var visit func(n *gorgonia.Node) error
	visit = func(n *gorgonia.Node) error {
		if _, ok := inputs[n]; ok {
			return nil
		}
		if n.Graph() != g {
			return fmt.Errorf("nn: program: node %v belongs to another graph", n)
		}
		var in []*gorgonia.Node
		if n.Op() != nil {
			it := g.From(n.ID())
			for it.Next() {
				in = append(in, it.Node().(*gorgonia.Node))
			}
		}
		inputs[n] = in
		order = append(order, n)
		for _, c := range in {
			if err := visit(c); err != nil {
				return err
			}
		}
		return nil
	}
	for _, o := range outputs {
		if err := visit(o); err != nil {
			return nil, err
		}
	}
	// Kahn's algorithm with a stack: latest-ready first; consumers are
	// recorded in discovery order, so the schedule is deterministic.
	pending := map[*gorgonia.Node]int{}
	users := map[*gorgonia.Node][]*gorgonia.Node{}
	var ready []*gorgonia.Node
	for _, n := range order {
		pending[n] = len(inputs[n])
		for _, c := range inputs[n] {
			users[c] = append(users[c], n)
		}
	}
	for i := len(order) - 1; i >= 0; i-- {
		if pending[order[i]] == 0 {
			ready = append(ready, order[i])
		}
	}
	p := &Program{index: map[*gorgonia.Node]int{}, refs: map[uintptr]int{}, arena: a}
	for len(ready) > 0 {
		n := ready[len(ready)-1]
		ready = ready[:len(ready)-1]
		p.index[n] = len(p.steps)
		st := step{node: n, op: n.Op()}
		st.add = st.op != nil && isAdd(st.op)
		for _, c := range inputs[n] {
			st.in = append(st.in, p.index[c])
		}
		st.args = make([]gorgonia.Value, len(st.in))
		p.steps = append(p.steps, st)
		us := users[n]
		for i := len(us) - 1; i >= 0; i-- {
			u := us[i]
			if pending[u]--; pending[u] == 0 {
				ready = append(ready, u)
			}
		}
	}
	if len(p.steps) != len(order) {
		return nil, fmt.Errorf("nn: program: the graph has a cycle")
	}
	// Last uses: a slot is freed after the last step that reads it, unless
	// it is an output or an input node's bound value.
	last := make([]int, len(p.steps))
	for i := range last {
		last[i] = -1
	}
	for i, st := range p.steps {
		for _, s := range st.in {
			last[s] = i
		}
	}
	for _, o := range outputs {
		i := p.index[o]
		p.steps[i].keep = true
		p.outputs = append(p.outputs, i)
	}
	for s, st := range p.steps {
		if st.op == nil || st.keep {
			continue
		}
		at := last[s]
		if at < 0 { // computed for a side effect only: free right away
			at = s
		}
		p.steps[at].free = append(p.steps[at].free, s)
	}
	p.vals = make([]gorgonia.Value, len(p.steps))
	return p, nil
}

// Run executes every step once.
func (p *Program) Run() error {
	for _, o := range p.outputs { // last run's outputs go back to the arena
		p.release(o)
	}
	for i := range p.steps {
		st := &p.steps[i]
		if st.op == nil {
			v := st.node.Value()
			if v == nil {
				return fmt.Errorf("nn: program: input %v has no value", st.node)
			}
			p.vals[i] = v
			continue
		}
		for j, s := range st.in {
			st.args[j] = p.vals[s]
		}
		v, err := p.exec(st)
		clear(st.args)
		if err != nil {
			return fmt.Errorf("nn: program: %v: %w", st.op, err)
		}
		p.vals[i] = v
		if d, ok := v.(*tensor.Dense); ok && p.arena.owned[d.Uintptr()] {
			p.refs[d.Uintptr()]++
		}
		for _, s := range st.free {
			p.release(s)
		}
	}
	return nil
}

// exec runs one op, into a recycled buffer where the op can take one.
func (p *Program) exec(st *step) (gorgonia.Value, error) {
	if st.add {
		if v, ok, err := p.parallelAdd(st); ok {
			return v, err
		}
	}
	pd, ok := st.op.(gorgonia.UsePreallocDoer)
	shape := st.node.Shape()
	if !ok || shape.IsScalar() {
		return st.op.Do(st.args...)
	}
	buf, err := p.arena.get(st.node.Dtype(), shape)
	if err != nil {
		return nil, err
	}
	v, err := pd.UsePreallocDo(buf, st.args...)
	if err != nil || v != gorgonia.Value(buf) {
		p.arena.put(buf) // unused (error, or the op returned a value of its own)
	}
	return v, err
}

// isAdd reports whether op is gorgonia's element-wise add (of two tensors:
// the residual adds and the sums of gradients that autodiff makes for nodes
// with several consumers; or of a tensor and a scalar, which parallelAdd
// leaves to gorgonia).
func isAdd(op gorgonia.Op) bool {
	b, ok := op.(interface{ IsBinary() bool })
	return ok && b.IsBinary() && op.String() == "+ false"
}

// parallelAdd runs an add step on internal/parallel's workers with package
// vec's loop (gorgonia's is single-threaded): a + b into an arena buffer, rounded as
// gorgonia rounds it. ok is false, and nothing is done, unless both inputs
// are dense tensors of the output's shape and a float type.
func (p *Program) parallelAdd(st *step) (v gorgonia.Value, ok bool, err error) {
	a, aok := st.args[0].(*tensor.Dense)
	b, bok := st.args[1].(*tensor.Dense)
	shape := st.node.Shape()
	if !aok || !bok || shape.IsScalar() || !a.Shape().Eq(shape) || !b.Shape().Eq(shape) || a.Dtype() != b.Dtype() {
		return nil, false, nil
	}
	switch a.Dtype() {
	case tensor.Float32, tensor.Float64:
	default:
		return nil, false, nil
	}
	buf, err := p.arena.get(a.Dtype(), shape)
	if err != nil {
		return nil, true, err
	}
	switch ad := a.Data().(type) {
	case []float32:
		addParallel(buf.Data().([]float32), ad, b.Data().([]float32))
	case []float64:
		addParallel(buf.Data().([]float64), ad, b.Data().([]float64))
	}
	return buf, true, nil
}

// addParallel writes dst = a + b split over the workers.
func addParallel[T Float](dst, a, b []T) {
	const block = 1 << 14
	parallel.ForBlocks(len(a), block, func(lo, hi int) {
		vec.Add(dst[lo:hi], a[lo:hi], b[lo:hi])
	})
}

// release drops slot s's value, giving its buffer back to the arena when no
// other live slot holds it.
func (p *Program) release(s int) {
	v := p.vals[s]
	p.vals[s] = nil
	d, ok := v.(*tensor.Dense)
	if !ok || !p.arena.owned[d.Uintptr()] {
		return
	}
	k := d.Uintptr()
	if p.refs[k]--; p.refs[k] == 0 {
		delete(p.refs, k)
		p.arena.put(d)
	}
}

// Value returns an output's value from the last run (nil for a node that is
// not an output, or before the first run).
func (p *Program) Value(n *gorgonia.Node) gorgonia.Value {
	i, ok := p.index[n]
	if !ok || !p.steps[i].keep {
		return nil
	}
	return p.vals[i]
}

// Steps returns the number of scheduled nodes, inputs included.
func (p *Program) Steps() int { return len(p.steps) }

// ArenaBytes returns the size of every buffer the program's arena owns.
func (p *Program) ArenaBytes() int64 { return p.arena.Bytes() }

type arenaKey struct {
	dt tensor.Dtype
	n  int
}

// Arena hands out dense buffers to programs and takes them back for reuse;
// it only takes back buffers it handed out. Programs sharing an arena must
// not run concurrently; a program's outputs stay out of the arena until that
// program runs again.
type Arena struct {
	free  map[arenaKey][]*tensor.Dense
	owned map[uintptr]bool
	bytes int64
}

// NewArena returns an empty arena.
func NewArena() *Arena {
	return &Arena{free: map[arenaKey][]*tensor.Dense{}, owned: map[uintptr]bool{}}
}

// Bytes returns the size of every buffer the arena owns.
func (a *Arena) Bytes() int64 { return a.bytes }

// get returns a buffer of the shape with undefined contents.
func (a *Arena) get(dt tensor.Dtype, shape tensor.Shape) (*tensor.Dense, error) {
	k := arenaKey{dt, shape.TotalSize()}
	if l := a.free[k]; len(l) > 0 {
		d := l[len(l)-1]
		a.free[k] = l[:len(l)-1]
		if err := d.Reshape(shape...); err != nil {
			return nil, err
		}
		return d, nil
	}
	d := tensor.New(tensor.WithShape(shape...), tensor.Of(dt))
	a.owned[d.Uintptr()] = true
	a.bytes += int64(k.n) * int64(dt.Size())
	return d, nil
}

func (a *Arena) put(d *tensor.Dense) {
	k := arenaKey{d.Dtype(), d.Shape().TotalSize()}
	a.free[k] = append(a.free[k], d)
}
