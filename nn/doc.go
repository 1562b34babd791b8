// Package nn holds what every layer of advbench shares: named variables
// (learnable parameters and buffers such as running statistics) that live
// outside any graph, a per-graph binding of those variables to gorgonia
// nodes, the typed branch (clean or adversarial) and mode (training or
// evaluation) that every layer is built for, and small numeric helpers.
//
// A Var is owned by its layer. Every graph built from the layer binds a node
// to the same tensor, so an update made through one graph (an optimizer step,
// a running-statistics update) is seen by every other graph.
package nn
