package train_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/advbench/advbench/rundir"
	"github.com/advbench/advbench/train"
)

// Start from a preset, override a few fields, and train: one epoch of the
// smoke preset's AdvProp (SaAuxBN, PGD-3) on 64 built-in synthetic images,
// into a fresh run directory. The epoch is one step of batch 64, taken at
// the warm-up's first learning rate (0.01). A later train.Resume on the
// same directory continues an interrupted run; on a finished one it
// reports the result.
func Example() {
	c, err := train.Preset("smoke")
	if err != nil {
		fmt.Println(err)
		return
	}
	c.Epochs, c.TrainN, c.ValN, c.TestN = 1, 64, 16, 16 // c.Data "": the built-in data
	tmp, err := os.MkdirTemp("", "advbench-example-")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(tmp)
	dir := filepath.Join(tmp, "run")

	sum, err := train.Start(context.Background(), c, dir, train.Options{}) // Options.Progress: a bar on stderr
	if err != nil {
		fmt.Println(err)
		return
	}
	rec, err := train.ReadRecord(dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("config.json: preset %s, norm %s, objective %s, %d epoch(s), data %d/%d/%d images\n",
		rec.Config.Preset, rec.Config.Norm, rec.Config.Objective, rec.Config.Epochs, rec.Data.Train, rec.Data.Val, rec.Data.Test)
	final := sum.Final
	fmt.Printf("log.jsonl: %d line(s); epoch %d: %d step(s) over %d images, lr %g\n",
		len(sum.Log), final.Epoch, final.GlobalSteps, final.Train.Examples, final.LR)
	v := final.Val
	inRange := func(f float64) bool { return f >= 0 && f <= 1 }
	fmt.Printf("validation SA and RA of both branches are fractions: %v; test losses recorded: %v\n",
		inRange(v.Clean.SA) && inRange(v.Clean.RA) && inRange(v.Adv.SA) && inRange(v.Adv.RA), final.Test != nil)
	_, err = os.Stat(rundir.Dir(dir).Checkpoint(rundir.LastFile))
	fmt.Printf("checkpoint %s written: %v\n", rundir.LastFile, err == nil)
	// Output:
	// config.json: preset smoke, norm saauxbn, objective advprop, 1 epoch(s), data 64/16/16 images
	// log.jsonl: 1 line(s); epoch 0: 1 step(s) over 64 images, lr 0.01
	// validation SA and RA of both branches are fractions: true; test losses recorded: true
	// checkpoint last.safetensors written: true
}
