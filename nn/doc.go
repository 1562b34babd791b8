// Package nn is advbench's graph layer over gorgonia: the vocabulary every
// layer builds graphs with, the ops those graphs are made of, and the
// executor that runs them.
//
// Vocabulary. A Var is a named tensor (a learnable parameter, or a buffer
// such as running statistics) that its layer owns and that outlives any
// graph. A Graph binds each Var it uses to one node holding the Var's
// tensor, so an update made through one graph (an optimizer step, a
// running-statistics update) is seen by every other graph built from the
// same layer. Branch (Clean or Adv) and Mode (Train or Eval) are the typed
// values every graph is built for, never a state flipped on a model. Float
// is the element type: float32 for speed, float64 for gradient checks
// (ToFloat64 and FromFloat64 convert a tensor's data).
//
// Ops. Conv2d, ReLU, GlobalAvgPool, Linear, Standardize and the losses
// (ApplyLoss with CE or CWMargin, CrossEntropy) are gorgonia ops with
// analytic backward graphs, in both element types. An op checks shapes,
// infers its output's, builds its backward ops and computes its values with
// a plain loop or with the internal packages below nn, which know nothing of
// graphs: the convolution's three passes in internal/conv, matrix products
// in internal/gemm, parallel loops in internal/parallel, element-wise loops
// in internal/vec. PureOp, Hashcode, NewLike and Preallocated are the base that
// nn's ops and those of other packages (norms) share.
//
// Executor. A Program runs the part of a graph that some outputs depend on,
// instead of gorgonia's tape machine: it drops each value after its last use
// and recycles buffers through an Arena for ops that can write into a given
// one (gorgonia.UsePreallocDoer), so a run holds what is live at once rather
// than every value of the graph, and element-wise adds run in parallel.
package nn
