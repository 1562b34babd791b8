package sgemm

import "golang.org/x/sys/cpu"

// kernelBF16x16 is the AVX512_BF16 kernel on kp pair rows (kernel_amd64.s,
// beside kernel16x16, whose tile macros it shares).
//
//go:noescape
func kernelBF16x16(kp int, a, b, c *float32, ldc, set, panels int)

// pairRows16 is pairRowsGo for rows of 16 (bf16_amd64.s, AVX-512F).
//
//go:noescape
func pairRows16(dst *uint32, src *float32, k int)

// pairGather16 is pairGatherGo on AVX-512F (bf16_amd64.s).
//
//go:noescape
func pairGather16(dst *uint32, src *float32, offs *int32, k, segs, dist int)

// hasBF16 says whether the CPU has VDPBF16PS (and the AVX-512 around it).
var hasBF16 = cpu.X86.HasAVX512F && cpu.X86.HasAVX512BF16

func asmBF16Kernel() (Kernel, bool) {
	if !hasBF16 {
		return Kernel{}, false
	}
	// One panel a call: the pair panels stay k*16 words apart, as the
	// float32 ones they were made from, not (k+1)/2*16 as the kernel's own
	// loop over panels would take them.
	kern := func(k int, a, b, c *float32, ldc, set int) { kernelBF16x16((k+1)/2, a, b, c, ldc, set, 1) }
	return Kernel{Name: "avx512bf16", MR: 16, fn: asm(16, 16, perPanel(16, kern)), pairs: true}, true
}

// pairRows is pairRowsGo, on AVX-512 for rows of 16.
func pairRows(dst []uint32, src []float32, width, k int) {
	if !hasAVX512 || width != nr || k == 0 {
		pairRowsGo(dst, src, width, k)
		return
	}
	_ = src[k*nr-1]
	_ = dst[(k+1)/2*nr-1]
	pairRows16(&dst[0], &src[0], k)
}

// pairGather is pairGatherGo, on AVX-512.
func pairGather(dst []uint32, src []float32, offs []int32, seg Segments) {
	if !hasAVX512 {
		pairGatherGo(dst, src, offs, seg)
		return
	}
	pairGather16(&dst[0], &src[0], &offs[0], len(offs), seg.N, seg.Dist)
}
