package train

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/advbench/advbench/checkpoint"
	"github.com/advbench/advbench/models/resnet"
	"github.com/advbench/advbench/nn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestStatelessNormsTrainAndRoundTrip: the smoke preset's network with each
// norm that keeps no running statistics (none, gn, ln, in) takes one
// training iteration of the preset's objective (AdvProp, PGD on the
// adversarial branch) on a few images, with a finite loss and a finite,
// non-zero gradient for every parameter, which SGD then moves; its
// training checkpoint holds no empty tensor (none has no norm tensor at
// all), and loads back with the same parameters, momentum buffers and
// bit-identical logits.
func TestStatelessNormsTrainAndRoundTrip(t *testing.T) {
	for _, norm := range []string{"none", "gn", "ln", "in"} {
		t.Run(norm, func(t *testing.T) {
			c, err := Preset("smoke")
			require.NoError(t, err)
			c.Norm = norm
			require.NoError(t, c.Validate())
			m, err := resnet.New(resnet.Config{Norm: c.Norm, Width: c.Width, Seed: c.Seed})
			require.NoError(t, err)
			opt := NewSGD(m.Params(), c.Momentum, c.WeightDecay)
			rng := rand.New(rand.NewPCG(1, 2))
			const n = 4
			x := make([]float32, n*3*32*32)
			for i := range x {
				x[i] = rng.Float32()
			}
			y := []int{3, 1, 4, 1}
			before := map[string][]float64{}
			for _, p := range m.Params() {
				before[p.Name] = p.Float64s()
			}

			res, err := NewIteration(m, opt, c).step(x, y, c.LR, rand.New(rand.NewPCG(3, 4)))
			require.NoError(t, err)
			assert.False(t, math.IsNaN(res.loss) || math.IsInf(res.loss, 0), "loss %v", res.loss)
			assert.Greater(t, res.loss, 0.0)
			require.Len(t, res.grads, len(m.Params()), "a gradient for every parameter")
			for _, g := range res.grads {
				norm2 := 0.0
				for _, v := range g.Float64s() {
					require.False(t, math.IsNaN(v) || math.IsInf(v, 0), "%s: gradient %v", g.Param.Name, v)
					norm2 += v * v
				}
				assert.Greater(t, norm2, 0.0, "%s: zero gradient", g.Param.Name)
				assert.NotEqual(t, before[g.Param.Name], g.Param.Float64s(), "%s moved", g.Param.Name)
			}
			if norm == "none" {
				for _, p := range m.Params() {
					assert.NotContains(t, p.Name, ".bn", "none has no norm parameters")
				}
			}

			path := filepath.Join(t.TempDir(), "ck.safetensors")
			data := DataInfo{SHA256: strings.Repeat("ab", 32)}
			require.NoError(t, saveCheckpoint(path, m, opt, c, State{Epoch: 0, Step: 1}, data))
			f, err := checkpoint.Read(path)
			require.NoError(t, err)
			for _, e := range f.Entries {
				size := 1
				for _, d := range e.Shape {
					size *= d
				}
				assert.Positive(t, size, "%s is empty: %v", e.Name, e.Shape)
			}
			back, opt2, st, err := loadCheckpoint(path, c, data)
			require.NoError(t, err)
			assert.Equal(t, 1, st.Step)
			ps, ps2 := m.Params(), back.Params()
			require.Len(t, ps2, len(ps))
			for i := range ps {
				assert.Equal(t, ps[i].Name, ps2[i].Name)
				assert.Equal(t, ps[i].Float64s(), ps2[i].Float64s(), ps[i].Name)
			}
			bs, bs2 := opt.Buffers(), opt2.Buffers()
			require.Len(t, bs2, len(bs))
			for i := range bs {
				assert.Equal(t, bs[i].Float64s(), bs2[i].Float64s(), bs[i].Name)
			}
			for _, b := range []nn.Branch{nn.Clean, nn.Adv} {
				want, err := m.Logits(x, b, nn.Eval)
				require.NoError(t, err)
				got, err := back.Logits(x, b, nn.Eval)
				require.NoError(t, err)
				assert.Equal(t, want, got, "bit-identical logits on branch %s", b)
			}
		})
	}
}
