package norms_test

import (
	"fmt"

	"github.com/advbench/advbench/nn"
	"github.com/advbench/advbench/norms"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Build a BatchNorm from the registry, normalise a small batch in training
// mode and read the running statistics it updated. Each channel holds the
// values 1, 2, 3, 4 (times 10 in channel 1): mean 2.5 (25), biased variance
// 1.25 (125), so the output is (x - 2.5)/sqrt(1.25 + 1e-5) in both channels,
// and the running statistics move from (0, 1) by momentum 0.1 toward the
// mean and the unbiased variance 5/3 (500/3).
func Example() {
	bn, err := norms.New("bn", norms.Config{Prefix: "bn1", Channels: 2, Dtype: tensor.Float64})
	if err != nil {
		fmt.Println(err)
		return
	}
	// x is (N=2, C=2, H=1, W=2): sample n holds 1+2n, 2+2n in channel 0.
	x := tensor.New(tensor.WithShape(2, 2, 1, 2), tensor.WithBacking([]float64{
		1, 2, 10, 20, // sample 0: channel 0, channel 1
		3, 4, 30, 40, // sample 1
	}))
	g := nn.NewGraph()
	xn := gorgonia.NodeFromAny(g.G, x, gorgonia.WithName("x"))
	y, err := bn.Apply(g, xn, nn.Clean, nn.Train)
	if err != nil {
		fmt.Println(err)
		return
	}
	prog, err := nn.NewProgram(y)
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := prog.Run(); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("y %v: %.4f\n", prog.Value(y).Shape(), prog.Value(y).Data())
	params, buffers := bn.State()
	for _, v := range append(params, buffers...) {
		fmt.Printf("%-16s %v %.4f\n", v.Name, v.Value.Shape(), v.Float64s())
	}
	// Output:
	// y (2, 2, 1, 2): [-1.3416 -0.4472 -1.3416 -0.4472 0.4472 1.3416 0.4472 1.3416]
	// bn1.weight       (2) [1.0000 1.0000]
	// bn1.bias         (2) [0.0000 0.0000]
	// bn1.running_mean (2) [0.2500 2.5000]
	// bn1.running_var  (2) [1.0667 17.5667]
}

// The layers of the paper and their state as stored in checkpoints: the
// parameter and buffer names follow the reference PyTorch state dicts, so
// weights can be exchanged with the reference code.
func ExampleNames() {
	for _, name := range norms.Names() {
		n, err := norms.New(name, norms.Config{Prefix: "bn1", Channels: 4})
		if err != nil {
			fmt.Println(err)
			return
		}
		params, buffers := n.State()
		fmt.Printf("%s (%d branches):", name, n.Branches())
		for _, v := range params {
			fmt.Printf(" %s%v", v.Name, v.Value.Shape())
		}
		fmt.Printf(" | %d buffers\n", len(buffers))
	}
	// Output:
	// auxbn (2 branches): bn1.bn_list.0.weight(4) bn1.bn_list.0.bias(4) bn1.bn_list.1.weight(4) bn1.bn_list.1.bias(4) | 4 buffers
	// bn (1 branches): bn1.weight(4) bn1.bias(4) | 2 buffers
	// ccbn (2 branches): bn1.embed.weight(2, 8) | 2 buffers
	// gn (1 branches): bn1.weight(4) bn1.bias(4) | 0 buffers
	// in (1 branches): bn1.weight(4) bn1.bias(4) | 0 buffers
	// ln (1 branches): bn1.weight(4) bn1.bias(4) | 0 buffers
	// modenorm (1 branches): bn1.gate.weight(2, 4) bn1.gate.bias(2) bn1.alpha(4) bn1.beta(4) | 2 buffers
	// none (1 branches): | 0 buffers
	// saauxbn (2 branches): bn1.embed.weight(3, 8) | 4 buffers
	// sabn (2 branches): bn1.embed.weight(3, 8) | 2 buffers
	// switchnorm (1 branches): bn1.weight(4) bn1.bias(4) bn1.mean_weight(3) bn1.var_weight(3) | 2 buffers
}
