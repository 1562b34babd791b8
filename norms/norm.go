package norms

import (
	"fmt"
	"math/rand/v2"

	"github.com/advbench/advbench/internal/registry"
	"github.com/advbench/advbench/nn"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Norm is a normalization slot of a network.
type Norm interface {
	// Apply returns x (N,C,H,W) normalised for branch b in mode m, as a node
	// of g. Training mode uses batch statistics and updates the layer's
	// running statistics each time the graph runs; evaluation mode uses them.
	Apply(g *nn.Graph, x *gorgonia.Node, b nn.Branch, m nn.Mode) (*gorgonia.Node, error)
	// State lists the learnable parameters and the buffers (running
	// statistics) with stable names.
	State() (params, buffers []*nn.Var)
	// Branches is the number of branches the layer tells apart: 1 when both
	// branches share one network (bn, modenorm, switchnorm).
	Branches() int
}

// Config configures a new layer. Zero values mean the documented defaults.
type Config struct {
	Prefix   string       // prefix of every Var name, e.g. "layer1.0.bn1"
	Channels int          // C; required
	Dtype    tensor.Dtype // tensor.Float32 (default) or tensor.Float64
	Branches int          // branches of multi-branch layers; 0 means 2
	Modes    int          // ModeNorm's K; 0 means 2
	Groups   int          // GroupNorm's G, dividing Channels; 0 means DefaultGroups(Channels)
	Eps      float64      // 0 means 1e-5
	Momentum float64      // 0 means 0.1
	Rand     *rand.Rand   // initialisation randomness; nil means a generator seeded with 0
}

func (c Config) withDefaults() (Config, error) {
	if c.Channels < 1 {
		return c, fmt.Errorf("norms: %s: channels %d must be at least 1", c.Prefix, c.Channels)
	}
	if c.Dtype == (tensor.Dtype{}) {
		c.Dtype = tensor.Float32
	}
	if c.Dtype != tensor.Float32 && c.Dtype != tensor.Float64 {
		return c, fmt.Errorf("norms: %s: dtype %v: want float32 or float64", c.Prefix, c.Dtype)
	}
	if c.Branches == 0 {
		c.Branches = 2
	}
	if c.Branches < 1 {
		return c, fmt.Errorf("norms: %s: branches %d must be at least 1", c.Prefix, c.Branches)
	}
	if c.Modes == 0 {
		c.Modes = 2
	}
	if c.Modes < 1 {
		return c, fmt.Errorf("norms: %s: modes %d must be at least 1", c.Prefix, c.Modes)
	}
	if c.Groups < 0 || (c.Groups > 0 && c.Channels%c.Groups != 0) {
		return c, fmt.Errorf("norms: %s: groups %d must divide channels %d", c.Prefix, c.Groups, c.Channels)
	}
	if c.Eps == 0 {
		c.Eps = 1e-5
	}
	if c.Momentum == 0 {
		c.Momentum = 0.1
	}
	if c.Rand == nil {
		c.Rand = rand.New(rand.NewPCG(0, 0))
	}
	return c, nil
}

// name joins the prefix and a suffix with a dot.
func (c Config) name(suffix string) string {
	if c.Prefix == "" {
		return suffix
	}
	return c.Prefix + "." + suffix
}

// Factory builds a layer from a configuration with defaults applied.
type Factory func(Config) Norm

var known = registry.New[Factory]("norm")

// register adds a layer kind; each layer's file calls it from init.
func register(name, summary string, f Factory) { known.Register(name, summary, f) }

// Register adds a layer kind from outside the package (an experimental norm,
// or a test's deliberately broken one). Names must be new; the factory gets
// a Config with defaults applied. It is not safe to call concurrently with
// New.
func Register(name, summary string, f Factory) { register(name, summary, f) }

// Names returns the registered layer kinds, sorted.
func Names() []string { return known.Names() }

// Summary returns a one-line description of a registered kind.
func Summary(name string) string { return known.Summary(name) }

// New builds a layer of the named kind.
func New(name string, cfg Config) (Norm, error) {
	f, err := known.Get(name)
	if err != nil {
		return nil, fmt.Errorf("norms: %w", err)
	}
	cfg, err = cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return f(cfg), nil
}

// checkBranch validates a branch for a layer with the given branch count;
// single-branch layers accept any non-negative branch.
func checkBranch(prefix string, b nn.Branch, branches int) error {
	if b < 0 || (branches > 1 && int(b) >= branches) {
		return fmt.Errorf("norms: %s: branch %d out of range 0..%d", prefix, int(b), branches-1)
	}
	return nil
}

// fill sets every element of v to val.
func fill(v *nn.Var, val float64) {
	d := make([]float64, v.Value.Shape().TotalSize())
	for i := range d {
		d[i] = val
	}
	v.SetFloat64s(d)
}
