#include "peak.h"
#include <immintrin.h>

// Twelve independent chains cover the FMA latency (4 cycles) times two FMA ports, so the loop runs at
// the ports' throughput, not at the latency of one chain.
#define CHAINS 12

__attribute__((target("avx512f")))
static double fma512(long n) {
    __m512 acc[CHAINS];
    const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
    for (int c = 0; c < CHAINS; c++) acc[c] = _mm512_set1_ps((float)c);
    for (long i = 0; i < n; i++)
        for (int c = 0; c < CHAINS; c++) acc[c] = _mm512_fmadd_ps(acc[c], a, b);
    float sink = 0, out[16];
    for (int c = 0; c < CHAINS; c++) { _mm512_storeu_ps(out, acc[c]); sink += out[0]; }
    // The sum keeps the compiler from removing the loop; it is never meaningful.
    return sink == 12345.0f ? 0 : (double)n * CHAINS * 16 * 2;
}

__attribute__((target("avx2,fma")))
static double fma256(long n) {
    __m256 acc[CHAINS];
    const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
    for (int c = 0; c < CHAINS; c++) acc[c] = _mm256_set1_ps((float)c);
    for (long i = 0; i < n; i++)
        for (int c = 0; c < CHAINS; c++) acc[c] = _mm256_fmadd_ps(acc[c], a, b);
    float sink = 0, out[8];
    for (int c = 0; c < CHAINS; c++) { _mm256_storeu_ps(out, acc[c]); sink += out[0]; }
    return sink == 12345.0f ? 0 : (double)n * CHAINS * 8 * 2;
}

static double mulAdd128(long n) {
    __m128 acc[CHAINS];
    const __m128 a = _mm_set1_ps(0.999999f), b = _mm_set1_ps(1e-7f);
    for (int c = 0; c < CHAINS; c++) acc[c] = _mm_set1_ps((float)c);
    for (long i = 0; i < n; i++)
        for (int c = 0; c < CHAINS; c++) acc[c] = _mm_add_ps(_mm_mul_ps(acc[c], a), b);
    float sink = 0, out[4];
    for (int c = 0; c < CHAINS; c++) { _mm_storeu_ps(out, acc[c]); sink += out[0]; }
    return sink == 12345.0f ? 0 : (double)n * CHAINS * 4 * 2;
}

double bnrepro_fma_flops(long iterations, int *lanes) {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) { *lanes = 16; return fma512(iterations); }
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) { *lanes = 8; return fma256(iterations); }
    *lanes = 4;
    return mulAdd128(iterations);
}
