#ifndef BNREPRO_PEAK_H
#define BNREPRO_PEAK_H
// The float32 FMA throughput of one core: `iterations` rounds of 12 independent FMA chains on the widest
// vectors the CPU has (AVX-512, else AVX2 + FMA, else SSE multiply-add). Returns the FLOPs done and
// sets *lanes to the vector width used. Time it from the caller, one call per thread.
double bnrepro_fma_flops(long iterations, int *lanes);
#endif
