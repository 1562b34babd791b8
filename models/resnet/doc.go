// Package resnet is the CIFAR-10 PreAct ResNet-18 of the SaBN reference code
// with swappable normalization slots: an input standardisation, a 3x3 stem
// convolution without norm, four stages of two pre-activation basic blocks
// (widths 64/128/256/512 times a width multiplier, strides 1/2/2/2, a 1x1
// shortcut convolution where the shape changes), a 4x4 average pool and a
// linear classifier. Every block has two norm slots, sixteen in all, each
// built by the norms registry and given the branch (clean or adversarial)
// and the mode (train or eval) explicitly.
//
// A Model owns its parameters and buffers (nn.Vars with the reference
// PyTorch state-dict names). Graphs for each purpose — logits, loss and
// input gradient for attacks, the AdvProp loss with every parameter
// gradient — are built once per (purpose, branch, mode, batch size) and
// reused; all of them read the same variables, so an update made through one
// is seen by the others.
package resnet
