// Package train trains the PreAct ResNet-18 of models/resnet adversarially:
// the AdvProp dual loss of the Sandwich Batch Normalization paper (a clean
// pass on the clean branch plus a PGD pass on the adversarial branch),
// Madry-style adversarial training, or plain training, with PyTorch's SGD,
// the reference learning-rate schedule and warm-up, per-epoch validation
// (SA and PGD RA of each branch in evaluation mode, and the test-set clean
// and adversarial losses of the paper's Fig. 6), and a run directory that
// survives interruption: config.json, log.jsonl and atomically written
// checkpoints holding weights, running statistics, optimiser state and the
// position in the run, from which a resumed run ends bit-identical to an
// uninterrupted one.
//
// Every random choice (shuffling, augmentation, PGD random starts) is drawn
// from a generator seeded by the run's seed and its position (epoch, step),
// so the position is the whole random state a checkpoint has to keep.
//
// Configurations are complete values: start from a preset (smoke, ci,
// quick, paper) and override fields; config.json records the result.
//
// # Usage
//
//	c, err := train.Preset("quick")
//	if err != nil { ... }
//	c.Norm, c.Data, c.Seed = "auxbn", "/data/cifar-10-batches-bin", 2 // overrides
//	if err := c.Validate(); err != nil { ... } // a *ConfigError names the field
//	sum, err := train.Start(ctx, c, "runs/auxbn-s2", train.Options{Progress: os.Stderr})
//	if errors.Is(err, train.ErrInterrupted) {
//		sum, err = train.Resume(ctx, "runs/auxbn-s2", train.Options{Progress: os.Stderr})
//	}
//	if err != nil { ... }
//	fmt.Println(sum.BestEpoch, sum.BestRA, sum.Final.Val.Adv.RA)
package train
