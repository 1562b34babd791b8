//go:build !amd64

package sgemm

// HasAsm reports whether the assembly micro-kernel is in use.
const HasAsm = false

func kernel(k int, a, b, c []float32, ldc int) { kernelGo(k, a, b, c, ldc) }
