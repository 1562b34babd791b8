package norms

import (
	"github.com/advbench/advbench/nn"
	"gorgonia.org/gorgonia"
)

// bnFamily is the machinery shared by bn, sabn, ccbn, auxbn and saauxbn:
// BatchNorm statistics (one set, or one per branch) followed by a chain of
// per-channel affines chosen per branch. Each layer's file says which.
type bnFamily struct {
	cfg      Config
	branches int             // what Branches reports
	stats    []*runningStats // one shared set, or one per branch
	params   []*nn.Var
	// chain returns, for a branch, the parameter inputs of the op and the
	// affine chain over them.
	chain func(b nn.Branch) ([]*nn.Var, []affineRef)
}

func (f *bnFamily) Branches() int { return f.branches }

func (f *bnFamily) State() (params, buffers []*nn.Var) {
	for _, s := range f.stats {
		buffers = append(buffers, s.mean, s.variance)
	}
	return append([]*nn.Var(nil), f.params...), buffers
}

func (f *bnFamily) Apply(g *nn.Graph, x *gorgonia.Node, b nn.Branch, m nn.Mode) (*gorgonia.Node, error) {
	return build(f, g, x, b, m, false)
}

func (f *bnFamily) spec(b nn.Branch, m nn.Mode) (spec, error) {
	if err := checkBranch(f.cfg.Prefix, b, f.branches); err != nil {
		return spec{}, err
	}
	st := f.stats[0]
	if len(f.stats) > 1 {
		st = f.stats[b]
	}
	params, chain := f.chain(b)
	return spec{
		label:  f.cfg.Prefix + "/" + b.String() + "/" + m.String(),
		params: params,
		core:   &batchCore{stats: st, training: m == nn.Train},
		chain:  chain,
	}, nil
}

// embedding returns a (rows, 2C) parameter named prefix.embed.weight whose
// row r is [γ_r | β_r], γ ~ N(1, 0.02) and β = 0, as the reference SaAuxBN
// initialises its nn.Embedding.
func embedding(cfg Config, rows int) *nn.Var {
	c := cfg.Channels
	v := nn.NewVar(cfg.name("embed.weight"), cfg.Dtype, rows, 2*c)
	d := make([]float64, rows*2*c)
	for r := 0; r < rows; r++ {
		for i := 0; i < c; i++ {
			d[r*2*c+i] = 1 + 0.02*cfg.Rand.NormFloat64()
		}
	}
	v.SetFloat64s(d)
	return v
}

// embedRow is the affine stored in row r of an embedding at input in.
func embedRow(in, r, c int) affineRef {
	return affineRef{gIn: in, gOff: r * 2 * c, bIn: in, bOff: r*2*c + c}
}
