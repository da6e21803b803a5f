#include <dnnl.h>
// libgomp's entry points, so that our own loops run on the same OpenMP thread team as oneDNN
// (two thread pools on two cores fight each other; one team forks and joins cleanly).
void GOMP_parallel(void (*fn)(void *), void *data, unsigned num_threads, unsigned int flags);
int omp_get_thread_num(void);
int omp_get_num_threads(void);
int omp_get_max_threads(void);
void omp_set_num_threads(int num_threads);
void GOMP_atomic_start(void);
void GOMP_atomic_end(void);
