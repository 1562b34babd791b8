//go:build !amd64

package sgemm

func asmKernels() []Kernel { return nil }

var hasAVX512, hasAVX2 = false, false

func transpose8(dst, src *float32, offs *int32, blocks int) { panic("sgemm: no transpose8 here") }

func gather16(dst, src *float32, offs *int32, n int) { panic("sgemm: no gather16 here") }

func transpose16(dst, src *float32, offs *int32, blocks int) {
	panic("sgemm: no transpose16 here")
}

const HasDotTile = false

func dot4x6(n int, a *float32, lda int, aoff *int32, b *float32, boff *int32, rows *int32, c *float32) {
	panic("sgemm: no dot4x6 here")
}

func asmBF16Kernel() (Kernel, bool) { return Kernel{}, false }

var pairRows = pairRowsGo

var pairGather = pairGatherGo
