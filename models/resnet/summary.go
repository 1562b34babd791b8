package resnet

import "github.com/advbench/advbench/norms"

// Layer describes one layer of the network for one 32x32 input image.
type Layer struct {
	Name   string `json:"name"`
	Kind   string `json:"kind"`
	Shape  []int  `json:"output_shape"` // (C, H, W) or (classes)
	Params int    `json:"params"`
	MACs   int64  `json:"macs"` // multiply-accumulates per image (convolutions and the classifier)
}

// Summary lists the layers in order with their output shapes, parameter
// counts and MACs per 32x32 image. Normalisation, ReLU, pooling and the
// residual additions count no MACs.
func (m *Model) Summary() []Layer {
	var out []Layer
	h := 32
	conv := func(name string, cin, cout, k, stride, pad int, in int) (Layer, int) {
		o := (in+2*pad-k)/stride + 1
		return Layer{Name: name, Kind: "conv", Shape: []int{cout, o, o}, Params: cout * cin * k * k,
			MACs: int64(cout) * int64(o*o) * int64(cin*k*k)}, o
	}
	normLayer := func(name string, n norms.Norm, c, hw int) Layer {
		ps, _ := n.State()
		cnt := 0
		for _, p := range ps {
			cnt += p.Value.Shape().TotalSize()
		}
		return Layer{Name: name, Kind: m.cfg.Norm, Shape: []int{c, hw, hw}, Params: cnt}
	}
	c0 := m.stem.Value.Shape()[0]
	l, h := conv("conv1", 3, c0, 3, 1, 1, h)
	out = append(out, l)
	for _, b := range m.blocks {
		out = append(out, normLayer(b.name+".bn1", b.n1, b.in, h))
		l1, h1 := conv(b.name+".conv1", b.in, b.out, 3, b.stride, 1, h)
		out = append(out, l1, normLayer(b.name+".bn2", b.n2, b.out, h1))
		l2, _ := conv(b.name+".conv2", b.out, b.out, 3, 1, 1, h1)
		out = append(out, l2)
		if b.shortcut != nil {
			ls, _ := conv(b.name+".shortcut.0", b.in, b.out, 1, b.stride, 0, h)
			out = append(out, ls)
		}
		h = h1
	}
	last := m.blocks[len(m.blocks)-1].out
	out = append(out, Layer{Name: "avgpool", Kind: "avgpool", Shape: []int{last}})
	out = append(out, Layer{Name: "linear", Kind: "linear", Shape: []int{m.cfg.Classes},
		Params: m.cfg.Classes*last + m.cfg.Classes, MACs: int64(m.cfg.Classes * last)})
	return out
}

// MACs returns the multiply-accumulates of one forward pass per image.
func (m *Model) MACs() int64 {
	var t int64
	for _, l := range m.Summary() {
		t += l.MACs
	}
	return t
}
