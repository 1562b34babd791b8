package vec

import "golang.org/x/sys/cpu"

// fast says whether the AVX-512 loops run here.
var fast = cpu.X86.HasAVX512F

// The assembly loops (vec_amd64.s) take n, a positive multiple of 16.

//go:noescape
func sum16(x *float32, n int) float64

//go:noescape
func sumSqDev16(x *float32, n int, m float64) float64

//go:noescape
func scaleShift16(dst, x *float32, n int, a, b float32, relu bool)

// gradSums16 and inputGrad16 mask g by y > 0 unless y is nil.
//
//go:noescape
func gradSums16(x, gy, y *float32, n int, m float64) (sg, sgx float64)

//go:noescape
func inputGrad16(dst, x, gy, y *float32, n int, k *[3]float32)

//go:noescape
func add16(dst, a, b *float32, n int)

//go:noescape
func addBlocks16(dst, src *float32, n int, dOffs, sOffs *int32, count int)

//go:noescape
func copyRows16(dst *float32, ldd int, src *float32, lds, rows, n int)

// interleave16 is Deinterleave (join false) and Interleave (join true).
//
//go:noescape
func interleave16(even *float32, lde int, odd *float32, ldo int, row *float32, ldr, rows, pairs int, join bool)
