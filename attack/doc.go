// Package attack generates L-inf adversarial examples (PGD with restarts and
// a per-example worst case, FGSM) against any classifier that can report a
// loss and its gradient with respect to the input, and evaluates standard
// and robust accuracy with per-example results and built-in sanity checks.
//
// It depends only on the small Model interface defined here (the ResNet
// satisfies it; tests also use an analytic linear classifier whose optimal
// attack is known in closed form). Pixel values live in [0,1]; every attack
// keeps x_adv inside both the eps-ball around x and [0,1].
//
// Lessons built in, from users of RobustBench, AutoAttack and torchattacks:
// a model attacked in training mode silently corrupts robust accuracy (a
// warning); the worst case is taken per example, not per batch (an example
// is robust only if it survives every restart and every attack); short PGD
// overstates robustness (pgd-20 next to pgd-10, and an accuracy-vs-eps sweep
// that must fall toward zero); accuracies are fractions in [0,1] with the
// example count beside them.
package attack
