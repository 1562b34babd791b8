package sgemm

import "golang.org/x/sys/cpu"

// kernel6x16 is the AVX2/FMA micro-kernel (kernel_amd64.s).
//
//go:noescape
func kernel6x16(k int, a, b, c *float32, ldc int)

// HasAsm reports whether the assembly micro-kernel is in use.
var HasAsm = cpu.X86.HasAVX2 && cpu.X86.HasFMA

func kernel(k int, a, b, c []float32, ldc int) {
	if !HasAsm {
		kernelGo(k, a, b, c, ldc)
		return
	}
	_ = a[k*mr-1]
	_ = b[k*nr-1]
	_ = c[(mr-1)*ldc+nr-1]
	kernel6x16(k, &a[0], &b[0], &c[0], ldc)
}
