/* The arithmetic peak of one core, the yardstick beside OpenBLAS's GEMM rate
 * (scripts/sgemm_peak.py): 12 independent accumulators, so the loop is
 * bound by the FMA units' throughput, not their latency; registers only.
 * Prints float32 VFMADD231PS zmm (32 flops each) and, where the CPU has
 * AVX512_BF16, VDPBF16PS zmm (64 flops each).
 *
 *     gcc -O2 -o /tmp/fma_peak scripts/fma_peak.c && /tmp/fma_peak
 *
 * Needs AVX-512F (the bf16 loop is skipped without AVX512_BF16). Multiply
 * by the cores for the machine's peak. */
#include <stdio.h>
#include <time.h>

static double now(void) {
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec * 1e-9;
}

#define R12(op) op(0) op(1) op(2) op(3) op(4) op(5) op(6) op(7) op(8) op(9) op(10) op(11)
#define FMA(i) "vfmadd231ps %%zmm30, %%zmm31, %%zmm" #i "\n\t"
#define DPB(i) "vdpbf16ps %%zmm30, %%zmm31, %%zmm" #i "\n\t"

int main(void) {
	const long iters = 200000000;
	const double instrs = 12.0 * iters;
	long n = iters;
	double t = now();
	__asm__ volatile("vpxord %%zmm30, %%zmm30, %%zmm30\n\tvpxord %%zmm31, %%zmm31, %%zmm31\n\t"
	                 "1:\n\t" R12(FMA) "dec %0\n\tjnz 1b"
	                 : "+r"(n)::"memory");
	double fma = now() - t;
	printf("{\"fp32_fma_zmm_gflops_per_core\": %.1f", instrs * 32 / fma / 1e9);
	if (__builtin_cpu_supports("avx512bf16")) {
		n = iters;
		t = now();
		__asm__ volatile("1:\n\t" R12(DPB) "dec %0\n\tjnz 1b" : "+r"(n)::"memory");
		double dpb = now() - t;
		printf(", \"bf16_vdpbf16ps_zmm_gflops_per_core\": %.1f", instrs * 64 / dpb / 1e9);
	}
	printf("}\n");
	return 0;
}
