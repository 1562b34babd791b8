package resnet

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/advbench/advbench/nn"
	"github.com/advbench/advbench/norms"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Reference input normalisation (ImageNet statistics), applied inside the model.
var (
	ImageNetMean = []float64{0.485, 0.456, 0.406}
	ImageNetStd  = []float64{0.229, 0.224, 0.225}
)

// Config describes a model. The zero value is the reference network: bn,
// width 1, 10 classes, ImageNet input normalisation, float32, seed 0.
type Config struct {
	Norm    string       // norms registry name; "" means "bn"
	Width   float64      // width multiplier; 0 means 1 (64/128/256/512 channels)
	Classes int          // 0 means 10
	Modes   int          // ModeNorm's K; 0 means 2
	Dtype   tensor.Dtype // zero means float32
	// InputNorm is "imagenet" (the default, also for ""), "none", or
	// numbers "MEAN,STD" or "M1,M2,M3,S1,S2,S3" (ParseInputNorm).
	InputNorm string
	Seed      uint64 // initialisation seed
}

// WithDefaults returns c with every zero value replaced by its default.
func (c Config) WithDefaults() Config {
	if c.Norm == "" {
		c.Norm = "bn"
	}
	if c.Width == 0 {
		c.Width = 1
	}
	if c.Classes == 0 {
		c.Classes = 10
	}
	if c.Modes == 0 {
		c.Modes = 2
	}
	if c.Dtype == (tensor.Dtype{}) {
		c.Dtype = tensor.Float32
	}
	if c.InputNorm == "" {
		c.InputNorm = "imagenet"
	}
	return c
}

// Bounds of a buildable network: widths beyond MaxWidth, or more classes
// than ImageNet's, would only end in an out-of-memory crash (a checkpoint's
// metadata is read before any tensor, so these are checked first).
const (
	MaxWidth   = 4.0
	MaxClasses = 1000
)

// Validate reports a configuration that cannot be built.
func (c Config) Validate() error {
	c = c.WithDefaults()
	if c.Width <= 0 || math.IsNaN(c.Width) || math.IsInf(c.Width, 0) {
		return fmt.Errorf("resnet: width %v must be a positive number", c.Width)
	}
	if c.Width > MaxWidth {
		return fmt.Errorf("resnet: width %v: at most %v (the paper's network is width 1; width 4 has 16 times its parameters and activations, and more only exhausts memory)", c.Width, MaxWidth)
	}
	if c.Classes < 2 || c.Classes > MaxClasses {
		return fmt.Errorf("resnet: classes %d: want 2..%d", c.Classes, MaxClasses)
	}
	if _, _, err := ParseInputNorm(c.InputNorm); err != nil {
		return err
	}
	if c.Dtype != tensor.Float32 && c.Dtype != tensor.Float64 {
		return fmt.Errorf("resnet: dtype %v: want float32 or float64", c.Dtype)
	}
	return nil
}

// ParseInputNorm reads an input normalisation: "imagenet" (ImageNetMean,
// ImageNetStd), "none" (mean 0, std 1: inputs enter the stem as pixels in
// [0,1]), or numbers "MEAN,STD" (one mean and one std for every channel) or
// "M1,M2,M3,S1,S2,S3" (per channel). Every std must be positive.
func ParseInputNorm(s string) (mean, std []float64, err error) {
	switch s {
	case "imagenet", "":
		return ImageNetMean, ImageNetStd, nil
	case "none":
		return []float64{0, 0, 0}, []float64{1, 1, 1}, nil
	}
	parts := strings.Split(s, ",")
	if len(parts) != 2 && len(parts) != 6 {
		return nil, nil, fmt.Errorf("resnet: input normalisation %q: want imagenet, none, MEAN,STD or M1,M2,M3,S1,S2,S3", s)
	}
	v := make([]float64, len(parts))
	for i, p := range parts {
		if v[i], err = strconv.ParseFloat(strings.TrimSpace(p), 64); err != nil || math.IsNaN(v[i]) || math.IsInf(v[i], 0) {
			return nil, nil, fmt.Errorf("resnet: input normalisation %q: %q is not a finite number", s, p)
		}
	}
	if len(v) == 2 {
		v = []float64{v[0], v[0], v[0], v[1], v[1], v[1]}
	}
	for _, sd := range v[3:] {
		if !(sd > 0) {
			return nil, nil, fmt.Errorf("resnet: input normalisation %q: std %v must be positive", s, sd)
		}
	}
	return v[:3], v[3:], nil
}

// InputNormOf spells a per-channel mean and std as ParseInputNorm reads
// them: "imagenet" or "none" where they are those values (to 1e-6), the six
// numbers otherwise, each as the shortest float32 spelling.
func InputNormOf(mean, std []float64) string {
	close := func(a, b []float64) bool {
		for i := range a {
			if math.Abs(a[i]-b[i]) > 1e-6 {
				return false
			}
		}
		return true
	}
	switch {
	case close(mean, ImageNetMean) && close(std, ImageNetStd):
		return "imagenet"
	case close(mean, []float64{0, 0, 0}) && close(std, []float64{1, 1, 1}):
		return "none"
	}
	var parts []string
	for _, x := range append(append([]float64(nil), mean...), std...) {
		parts = append(parts, strconv.FormatFloat(x, 'g', -1, 32)) // buffers are float32
	}
	return strings.Join(parts, ",")
}

// channels returns a stage width scaled by w, rounded, at least 1.
func channels(base int, w float64) int {
	return max(1, int(math.Round(float64(base)*w)))
}

// Stage widths and strides of the reference network.
var (
	stageWidths  = [4]int{64, 128, 256, 512}
	stageStrides = [4]int{1, 2, 2, 2}
)

const blocksPerStage = 2

// Model is a PreAct ResNet-18 with swappable norm slots.
type Model struct {
	cfg    Config
	stem   *nn.Var
	blocks []*block
	fcW    *nn.Var
	fcB    *nn.Var
	slots  []norms.Norm
	progs  map[progKey]*program
	// arena recycles the buffers of every program of the model (they never
	// run at the same time), so the model holds its largest program's
	// memory, not the sum.
	arena *nn.Arena
	// advGrads holds AdvProp's mean gradients, in parameter order.
	advGrads []*tensor.Dense
	// attackPrec is the precision of the input-gradient programs.
	attackPrec nn.Precision
}

// block is one pre-activation basic block.
type block struct {
	name         string // e.g. "layer2.0"
	in, out      int
	stride       int
	n1, n2       norms.Norm
	conv1, conv2 *nn.Var
	shortcut     *nn.Var // nil when the shape does not change
}

// New builds a model with PyTorch's default initialisation (every conv and
// the linear layer U(±1/sqrt(fan_in))) and the norms' own, drawn in a fixed
// order from a generator seeded with cfg.Seed.
func New(cfg Config) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.WithDefaults()
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x7265736e6574))
	m := &Model{cfg: cfg, progs: map[progKey]*program{}, arena: nn.NewArena()}
	convVar := func(name string, cout, cin, k int) *nn.Var {
		v := nn.NewVar(name, cfg.Dtype, cout, cin, k, k)
		uniformInit(v, rng, 1/math.Sqrt(float64(cin*k*k)))
		return v
	}
	normSlot := func(name string, c int) (norms.Norm, error) {
		n, err := norms.New(cfg.Norm, norms.Config{Prefix: name, Channels: c, Dtype: cfg.Dtype, Modes: cfg.Modes, Rand: rng})
		if err != nil {
			return nil, fmt.Errorf("resnet: %w", err)
		}
		m.slots = append(m.slots, n)
		return n, nil
	}
	in := channels(stageWidths[0], cfg.Width)
	m.stem = convVar("conv1.weight", in, 3, 3)
	for s := 0; s < 4; s++ {
		out := channels(stageWidths[s], cfg.Width)
		for b := 0; b < blocksPerStage; b++ {
			stride := 1
			if b == 0 {
				stride = stageStrides[s]
			}
			blk := &block{name: fmt.Sprintf("layer%d.%d", s+1, b), in: in, out: out, stride: stride}
			var err error
			if blk.n1, err = normSlot(blk.name+".bn1", in); err != nil {
				return nil, err
			}
			blk.conv1 = convVar(blk.name+".conv1.weight", out, in, 3)
			if blk.n2, err = normSlot(blk.name+".bn2", out); err != nil {
				return nil, err
			}
			blk.conv2 = convVar(blk.name+".conv2.weight", out, out, 3)
			if stride != 1 || in != out {
				blk.shortcut = convVar(blk.name+".shortcut.0.weight", out, in, 1)
			}
			m.blocks = append(m.blocks, blk)
			in = out
		}
	}
	m.fcW = nn.NewVar("linear.weight", cfg.Dtype, cfg.Classes, in)
	m.fcB = nn.NewVar("linear.bias", cfg.Dtype, cfg.Classes)
	bound := 1 / math.Sqrt(float64(in))
	uniformInit(m.fcW, rng, bound)
	uniformInit(m.fcB, rng, bound)
	return m, nil
}

func uniformInit(v *nn.Var, rng *rand.Rand, bound float64) {
	d := make([]float64, v.Value.Shape().TotalSize())
	for i := range d {
		d[i] = bound * (2*rng.Float64() - 1)
	}
	v.SetFloat64s(d)
}

// Config returns the model's configuration with defaults filled in.
func (m *Model) Config() Config { return m.cfg }

// Branches is the number of branches the norm slots tell apart (1 or 2).
func (m *Model) Branches() int { return m.slots[0].Branches() }

// Params returns every learnable parameter in the reference state-dict order.
func (m *Model) Params() []*nn.Var {
	ps, _ := m.State()
	return ps
}

// State returns parameters and buffers in the reference state-dict order.
func (m *Model) State() (params, buffers []*nn.Var) {
	params = append(params, m.stem)
	for _, b := range m.blocks {
		p1, b1 := b.n1.State()
		p2, b2 := b.n2.State()
		params = append(params, p1...)
		params = append(params, b.conv1)
		params = append(params, p2...)
		params = append(params, b.conv2)
		if b.shortcut != nil {
			params = append(params, b.shortcut)
		}
		buffers = append(append(buffers, b1...), b2...)
	}
	params = append(params, m.fcW, m.fcB)
	return params, buffers
}

// NumParams returns the number of learnable scalars.
func (m *Model) NumParams() int {
	n := 0
	for _, p := range m.Params() {
		n += p.Value.Shape().TotalSize()
	}
	return n
}

// Forward adds the network applied to x (N, 3, 32, 32, pixel values in
// [0,1]) for a branch and mode to g and returns the logits (N, classes).
func (m *Model) Forward(g *nn.Graph, x *gorgonia.Node, b nn.Branch, mode nn.Mode) (*gorgonia.Node, error) {
	if b < 0 || int(b) >= max(2, m.Branches()) {
		return nil, fmt.Errorf("resnet: branch %d out of range 0..1", int(b))
	}
	h := x
	var err error
	if m.cfg.InputNorm != "none" {
		mean, std, err := ParseInputNorm(m.cfg.InputNorm)
		if err != nil {
			return nil, err
		}
		if h, err = nn.Standardize(h, mean, std); err != nil {
			return nil, err
		}
	}
	if h, err = g.Conv2d(h, g.Node(m.stem), 1, 1); err != nil {
		return nil, err
	}
	for _, blk := range m.blocks {
		if h, err = blk.forward(g, h, b, mode); err != nil {
			return nil, fmt.Errorf("resnet: %s: %w", blk.name, err)
		}
	}
	if h, err = nn.GlobalAvgPool(h); err != nil {
		return nil, err
	}
	return nn.Linear(h, g.Node(m.fcW), g.Node(m.fcB))
}

// forward is out = conv2(relu(n2(conv1(a)))) + shortcut, a = relu(n1(x)),
// shortcut = conv1x1(a) when the shape changes and x otherwise; each norm
// and its ReLU are one fused op.
func (blk *block) forward(g *nn.Graph, x *gorgonia.Node, b nn.Branch, mode nn.Mode) (*gorgonia.Node, error) {
	a, err := norms.ApplyReLU(blk.n1, g, x, b, mode)
	if err != nil {
		return nil, err
	}
	sc := x
	if blk.shortcut != nil {
		if sc, err = g.Conv2d(a, g.Node(blk.shortcut), blk.stride, 0); err != nil {
			return nil, err
		}
	}
	h, err := g.Conv2d(a, g.Node(blk.conv1), blk.stride, 1)
	if err != nil {
		return nil, err
	}
	if h, err = norms.ApplyReLU(blk.n2, g, h, b, mode); err != nil {
		return nil, err
	}
	if h, err = g.Conv2d(h, g.Node(blk.conv2), 1, 1); err != nil {
		return nil, err
	}
	return gorgonia.Add(h, sc)
}
