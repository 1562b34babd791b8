//go:build !amd64

package sgemm

func asmKernels() []Kernel { return nil }
