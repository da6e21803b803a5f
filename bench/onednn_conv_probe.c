// Times every oneDNN implementation of the CIFAR ResNets' 3×3 convolutions (batch 128, stride 1, pad 1;
// 16 channels at 32×32, 32 at 16×16, 64 at 8×8) for the three training passes, in float32, with the
// activations in nChw8c, nhwc or the implementation's choice ("any"). Built against oneDNN 2.x (the
// Debian package the engine links) or 3.x (the API without operation descriptors), so that the two
// versions' kernels can be compared on one machine before the engine moves: `make onednn-probe`.
// Threads: OMP_NUM_THREADS. Output: one line per shape, pass, layout and implementation, best of 10.
#include <dnnl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHECK(call) do { dnnl_status_t s_ = (call); if (s_ != dnnl_success) { \
    fprintf(stderr, "%s:%d: %s failed: %d\n", __FILE__, __LINE__, #call, (int)s_); exit(1); } } while (0)

enum pass { FORWARD, BACKWARD_DATA, BACKWARD_WEIGHTS };
static const char *pass_names[] = {"forward", "backward-data", "backward-weights"};

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

#if DNNL_VERSION_MAJOR >= 3
typedef dnnl_memory_desc_t md_t;
static md_t make_md(int ndims, const dnnl_dims_t dims, dnnl_format_tag_t tag) {
    md_t md;
    CHECK(dnnl_memory_desc_create_with_tag(&md, ndims, dims, dnnl_f32, tag));
    return md;
}
#define MD(m) (m)
#else
typedef dnnl_memory_desc_t md_t;
static md_t make_md(int ndims, const dnnl_dims_t dims, dnnl_format_tag_t tag) {
    md_t md;
    CHECK(dnnl_memory_desc_init_by_tag(&md, ndims, dims, dnnl_f32, tag));
    return md;
}
#define MD(m) (&(m))
#endif

// The first implementation of `pass` (3.x: a primitive descriptor to step with next_impl; 2.x: an iterator).
typedef struct {
    dnnl_primitive_desc_t pd;
#if DNNL_VERSION_MAJOR < 3
    dnnl_primitive_desc_iterator_t it;
    dnnl_convolution_desc_t op;  // the iterator reads it until destroyed
#endif
} impls_t;

static int create(impls_t *impls, enum pass pass, dnnl_engine_t engine, md_t src, md_t wei, md_t bias, md_t dst,
                  dnnl_primitive_desc_t hint) {
    dnnl_dims_t strides = {1, 1}, pad = {1, 1};
#if DNNL_VERSION_MAJOR >= 3
    dnnl_dims_t dilates = {0, 0};
    dnnl_status_t s;
    switch (pass) {
    case FORWARD:
        s = dnnl_convolution_forward_primitive_desc_create(&impls->pd, engine, dnnl_forward_training, dnnl_convolution_direct,
                                                           src, wei, bias, dst, strides, dilates, pad, pad, NULL);
        break;
    case BACKWARD_DATA:
        s = dnnl_convolution_backward_data_primitive_desc_create(&impls->pd, engine, dnnl_convolution_direct, src, wei, dst,
                                                                 strides, dilates, pad, pad, hint, NULL);
        break;
    default:
        s = dnnl_convolution_backward_weights_primitive_desc_create(&impls->pd, engine, dnnl_convolution_direct, src, wei, bias,
                                                                    dst, strides, dilates, pad, pad, hint, NULL);
    }
    return s == dnnl_success;
#else
    dnnl_convolution_desc_t *op = &impls->op;
    switch (pass) {
    case FORWARD:
        CHECK(dnnl_convolution_forward_desc_init(op, dnnl_forward_training, dnnl_convolution_direct, &src, &wei, &bias, &dst,
                                                 strides, pad, pad));
        break;
    case BACKWARD_DATA:
        CHECK(dnnl_convolution_backward_data_desc_init(op, dnnl_convolution_direct, &src, &wei, &dst, strides, pad, pad));
        break;
    default:
        CHECK(dnnl_convolution_backward_weights_desc_init(op, dnnl_convolution_direct, &src, &wei, &bias, &dst, strides, pad, pad));
    }
    if (dnnl_primitive_desc_iterator_create(&impls->it, op, NULL, engine, hint) != dnnl_success) return 0;
    impls->pd = dnnl_primitive_desc_iterator_fetch(impls->it);
    return impls->pd != NULL;
#endif
}

static int next(impls_t *impls) {
#if DNNL_VERSION_MAJOR >= 3
    return dnnl_primitive_desc_next_impl(impls->pd) == dnnl_success;
#else
    dnnl_primitive_desc_destroy(impls->pd);
    impls->pd = NULL;
    if (dnnl_primitive_desc_iterator_next(impls->it) != dnnl_success) return 0;
    impls->pd = dnnl_primitive_desc_iterator_fetch(impls->it);
    return impls->pd != NULL;
#endif
}

static void release(impls_t *impls) {
    if (impls->pd) dnnl_primitive_desc_destroy(impls->pd);
#if DNNL_VERSION_MAJOR < 3
    dnnl_primitive_desc_iterator_destroy(impls->it);
#endif
}

static dnnl_memory_t memory_for(dnnl_primitive_desc_t pd, dnnl_query_t what, dnnl_engine_t engine) {
    dnnl_memory_t m;
    CHECK(dnnl_memory_create(&m, dnnl_primitive_desc_query_md(pd, what, 0), engine, DNNL_MEMORY_ALLOCATE));
    void *data;
    CHECK(dnnl_memory_get_data_handle(m, &data));
    float *f = data;
    size_t n = dnnl_memory_desc_get_size(dnnl_primitive_desc_query_md(pd, what, 0)) / sizeof(float);
    for (size_t i = 0; i < n; i++) f[i] = (float)((i * 2654435761u) % 1000) / 1000.0f - 0.5f;
    return m;
}

// Best seconds of 10 runs of the primitive `pd` describes, after 2 warm-ups.
static double time_pd(dnnl_primitive_desc_t pd, enum pass pass, dnnl_engine_t engine, dnnl_stream_t stream) {
    dnnl_query_t q[4];
    int args[4], n = 4;
    switch (pass) {
    case FORWARD:
        q[0] = dnnl_query_src_md; q[1] = dnnl_query_weights_md; q[2] = dnnl_query_weights_md; q[3] = dnnl_query_dst_md;
        args[0] = DNNL_ARG_SRC; args[1] = DNNL_ARG_WEIGHTS; args[2] = DNNL_ARG_BIAS; args[3] = DNNL_ARG_DST;
        break;
    case BACKWARD_DATA:
        q[0] = dnnl_query_diff_src_md; q[1] = dnnl_query_weights_md; q[2] = dnnl_query_diff_dst_md;
        args[0] = DNNL_ARG_DIFF_SRC; args[1] = DNNL_ARG_WEIGHTS; args[2] = DNNL_ARG_DIFF_DST; n = 3;
        break;
    default:
        q[0] = dnnl_query_src_md; q[1] = dnnl_query_diff_weights_md; q[2] = dnnl_query_diff_weights_md; q[3] = dnnl_query_diff_dst_md;
        args[0] = DNNL_ARG_SRC; args[1] = DNNL_ARG_DIFF_WEIGHTS; args[2] = DNNL_ARG_DIFF_BIAS; args[3] = DNNL_ARG_DIFF_DST;
    }
    dnnl_exec_arg_t exec[4];
    for (int i = 0; i < n; i++) {
        // The bias shares the weights' query above; its own is index 1.
        int is_bias = args[i] == DNNL_ARG_BIAS || args[i] == DNNL_ARG_DIFF_BIAS;
        dnnl_memory_t m;
        if (is_bias) {
            CHECK(dnnl_memory_create(&m, dnnl_primitive_desc_query_md(pd, q[i], 1), engine, DNNL_MEMORY_ALLOCATE));
        } else {
            m = memory_for(pd, q[i], engine);
        }
        exec[i].arg = args[i];
        exec[i].memory = m;
    }
    dnnl_primitive_t p;
    CHECK(dnnl_primitive_create(&p, pd));
    double best = 1e30;
    for (int r = 0; r < 12; r++) {
        double t0 = now();
        CHECK(dnnl_primitive_execute(p, stream, n, exec));
        CHECK(dnnl_stream_wait(stream));
        double t = now() - t0;
        if (r >= 2 && t < best) best = t;
    }
    dnnl_primitive_destroy(p);
    for (int i = 0; i < n; i++) dnnl_memory_destroy(exec[i].memory);
    return best;
}

int main(void) {
    const dnnl_version_t *v = dnnl_version();
    printf("oneDNN %d.%d.%d (%s)\n", v->major, v->minor, v->patch, v->hash);
    dnnl_engine_t engine;
    dnnl_stream_t stream;
    CHECK(dnnl_engine_create(&engine, dnnl_cpu, 0));
    CHECK(dnnl_stream_create(&stream, engine, dnnl_stream_default_flags));
    const int shapes[3][2] = {{16, 32}, {32, 16}, {64, 8}};
    const dnnl_format_tag_t layouts[] = {dnnl_nChw8c, dnnl_nhwc, dnnl_format_tag_any};
    const char *layout_names[] = {"nChw8c", "nhwc", "any"};
    printf("%-10s %-17s %-7s %-28s %9s\n", "shape", "pass", "layout", "implementation", "ms");
    for (int s = 0; s < 3; s++) {
        int c = shapes[s][0], hw = shapes[s][1];
        dnnl_dims_t act = {128, c, hw, hw}, w = {c, c, 3, 3}, b = {c};
        for (int l = 0; l < 3; l++) {
            md_t src = make_md(4, act, layouts[l]), dst = make_md(4, act, layouts[l]);
            md_t wei = make_md(4, w, dnnl_format_tag_any), bias = make_md(1, b, dnnl_x);
            impls_t forward;
            if (!create(&forward, FORWARD, engine, src, wei, bias, dst, NULL)) continue;
            for (int p = 0; p < 3; p++) {
                impls_t impls;
                if (!create(&impls, (enum pass)p, engine, src, wei, bias, dst, forward.pd)) continue;
                do {
                    const char *name = "?";
                    CHECK(dnnl_primitive_desc_query(impls.pd, dnnl_query_impl_info_str, 0, &name));
                    if (strncmp(name, "ref", 3) == 0) continue;
                    double t = time_pd(impls.pd, (enum pass)p, engine, stream);
                    char shape[16];
                    snprintf(shape, sizeof shape, "%d@%dx%d", c, hw, hw);
                    printf("%-10s %-17s %-7s %-28s %9.3f\n", shape, pass_names[p], layout_names[l], name, 1e3 * t);
                    fflush(stdout);
                } while (next(&impls));
                release(&impls);
            }
            release(&forward);
        }
    }
    dnnl_stream_destroy(stream);
    dnnl_engine_destroy(engine);
    return 0;
}
