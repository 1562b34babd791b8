// Package kernels chooses, for the whole process, between the fastest
// float32 loops this CPU runs (the default: AVX-512 or AVX2 assembly) and
// portable ones (plain Go and gonum's SSE2 GEMM) whose results are bit for
// bit the same on every amd64 machine. The assembly levels sum in different
// orders, so a model's outputs differ in their last bits between an AVX2
// and an AVX-512 machine, and an attack's path can follow; a check that
// compares results to the example across machines (the gate's exact
// layer) runs portable.
package kernels

import (
	"github.com/advbench/advbench/internal/sgemm"
	"github.com/advbench/advbench/internal/vec"
)

// UsePortable switches the process to the portable loops. Call it before
// any model runs; it is not safe alongside running work. restore switches
// back to the loops in use before.
func UsePortable() (restore func()) {
	v, s := vec.UsePortable(), sgemm.UsePortable()
	return func() { v(); s() }
}

// Names says which loops run: the norm loops' level and the GEMM kernel
// ("go" for both when portable).
func Names() (loops, gemm string) { return vec.Kernels(), sgemm.Active.Name }
