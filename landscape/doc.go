// Package landscape measures, at a training step, how the loss and its
// gradient behave along the step's own gradient, after Santurkar, Tsipras,
// Ilyas and Madry, "How Does Batch Normalization Help Optimization?"
// (NeurIPS 2018, arXiv:1805.11604, Sections 3.1 and 2.2).
//
// At weights w, with batch B and g = ∇L(w; B), over a recorded grid of step
// sizes η (multiples of the step's learning rate, DefaultMultiples):
//
//   - the loss range: [min, max] over η of L(w − η·g; B);
//   - gradient predictiveness: the range of ‖∇L(w − η·g; B) − g‖₂;
//   - effective β-smoothness: max over η of ‖∇L(w − η·g; B) − g‖₂ / ‖η·g‖₂;
//   - gradient shift (the paper's internal covariate shift, Section 2.2) of
//     chosen layers i: G = ∇_{W_i} L(w; B) and G' the same after the
//     parameters before layer i (only) took the step's update; ‖G − G'‖₂
//     and cos(G, G');
//   - the distance from initialisation ‖W − W_0‖₂ per stage.
//
// Probe takes one loss (a batch on a branch in a mode) through these on
// any Model, a small interface (parameters, buffers, a loss-and-gradient
// pass) that ResNet adapts a resnet.Model to and a test can implement with
// a quadratic. A probe leaves the model's parameters and buffers (running
// statistics) bit for bit as it found them. Measure probes every loss of a
// step (for AdvProp: the clean loss on the clean branch and the
// adversarial loss on the adversarial branch, x_adv from that step) into a
// Line, one line of a run's landscape.jsonl (schema Schema).
package landscape
