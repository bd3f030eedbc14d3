/* Shared helpers for the cmocka tests; see test_util.h. */
#include "test_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gsl/gsl_rng.h>

#include "core/ars_common.h"

void ars_test_allclose(const double *got, const double *ref, size_t n, double atol, double rtol,
                       const char *file, int line) {
    size_t worst = 0;
    double worst_excess = -INFINITY, maxdiff = 0.0;
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        double diff = fabs(got[i] - ref[i]);
        double excess = diff - (atol + rtol * fabs(ref[i]));
        if (!(diff == diff) || excess > 0.0) {
            bad++;
        }
        if (diff > maxdiff || !(diff == diff)) {
            maxdiff = diff;
        }
        if (excess > worst_excess || !(diff == diff)) {
            worst_excess = excess;
            worst = i;
        }
    }
    if (bad) {
        fail_msg("%s:%d: %d of %zu elements differ; worst at %zu: got %.17g, ref %.17g, maxdiff "
                 "%.3g (atol %g, rtol %g)",
                 file, line, bad, n, worst, got[worst], ref[worst], maxdiff, atol, rtol);
    }
}

ars_arch ars_test_arch(int size, int two_s, int layers, int features, int kernel_size,
                       const int *dilations, int groups, int use_bias, ars_activation act,
                       ars_input input) {
    ars_arch a;
    memset(&a, 0, sizeof a);
    ars_hilbert_init(&a.hilbert, size, two_s);
    a.layers = layers;
    for (int l = 0; l < layers; l++) {
        a.features[l] = l == layers - 1 ? a.hilbert.local_size : features;
        a.dilation[l] = dilations != NULL ? dilations[l] : 1;
    }
    a.kernel_size = kernel_size;
    a.sublattice = 1;
    a.feature_group_count = groups;
    a.use_bias = use_bias;
    a.activation = act;
    a.input = input;
    char why[256];
    if (ars_arch_check(&a, why, sizeof why) != 0) {
        fail_msg("test architecture invalid: %s", why);
    }
    return a;
}

ars_arnn *ars_test_random_net(const ars_arch *arch, uint64_t seed, double scale) {
    ars_arnn *net = ars_arnn_alloc(arch);
    assert_non_null(net);
    gsl_rng *r = ars_rng_alloc();
    ars_rng_seed(r, seed);
    for (size_t i = 0; i < net->n_params; i++) {
        net->params[i] = scale * (2.0 * gsl_rng_uniform(r) - 1.0);
    }
    gsl_rng_free(r);
    return net;
}

double *ars_test_enumerate_log_prob(const ars_arnn *net, size_t *n_out) {
    const ars_hilbert *h = &net->arch.hilbert;
    size_t n = ars_hilbert_n_configs(h, (size_t)1 << 22);
    assert_true(n > 0);
    const int L = h->size, D = h->local_size;
    const int B = 256;
    uint8_t *cfg = malloc((size_t)B * L);
    double *lpsi = malloc((size_t)B * L * D * sizeof(double));
    double *out = malloc((n > 0 ? n : 1) * sizeof(double)); /* n > 0 (asserted) */
    ars_arnn_ws *ws = ars_arnn_ws_alloc(net, B);
    assert_non_null(cfg);
    assert_non_null(lpsi);
    assert_non_null(out);
    assert_non_null(ws);
    for (size_t start = 0; start < n; start += (size_t)B) {
        int b_n = (int)(n - start < (size_t)B ? n - start : (size_t)B);
        for (int b = 0; b < b_n; b++) {
            ars_hilbert_config(h, cfg + (size_t)b * L, start + (size_t)b);
        }
        ars_arnn_log_psi(out + start, cfg, net, ws, b_n);
        for (int b = 0; b < b_n; b++) {
            out[start + (size_t)b] *= ARS_MACHINE_POW;
        }
    }
    ars_arnn_ws_free(ws);
    free(cfg);
    free(lpsi);
    *n_out = n;
    return out;
}

const char *ars_test_source_path(const char *rel) {
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s/%s", ARS_SOURCE_DIR, rel);
    return buf;
}

const char *ars_test_tmp_path(const char *name) {
    static char buf[8][4096];
    static int next = 0;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/tests/tmp", ARS_BINARY_DIR);
    mkdir(dir, 0777);
    char *out = buf[next++ % 8];
    snprintf(out, 4096, "%.3000s/%ld_%.900s", dir, (long)getpid(), name);
    return out;
}

ars_change ars_test_flip(const uint8_t *s, int i, int j) {
    ars_change c = {0};
    const int a = j >= 0 && j < i ? j : i, b = j >= 0 && j < i ? i : j;
    c.site[c.n] = a;
    c.value[c.n++] = (uint8_t)(1 - s[a]);
    if (b >= 0) {
        c.site[c.n] = b;
        c.value[c.n++] = (uint8_t)(1 - s[b]);
    }
    return c;
}

int ars_test_ham_connections(const ars_ham *H, const uint8_t *s, double *diag, ars_change *ch,
                             double *mel, int cap) {
    ars_op *op = ars_ham_operator(H);
    assert_non_null(op);
    assert_true(ars_op_max_connections(op) <= cap);
    const int n = ars_op_apply(op, s, diag, ch, mel);
    for (int k = 0; H->marshall_sign && k < n; k++) {
        mel[k] *= ars_change_marshall_ratio(s, &ch[k]);
    }
    ars_op_free(op);
    return n;
}

ars_test_ham_ws *ars_test_ham_ws_alloc(const ars_ham *H, const ars_arnn *net, int B) {
    ars_test_ham_ws *ws = calloc(1, sizeof *ws);
    assert_non_null(ws);
    ws->op = ars_ham_operator(H);
    assert_non_null(ws->op);
    const ars_wf wf = ars_wf_make(net, H->marshall_sign, NULL);
    ws->eloc = ars_eloc_ws_alloc(ws->op, &wf, B);
    assert_non_null(ws->eloc);
    return ws;
}

void ars_test_ham_ws_free(ars_test_ham_ws *ws) {
    if (ws != NULL) {
        ars_eloc_ws_free(ws->eloc);
        ars_op_free(ws->op);
        free(ws);
    }
}

int ars_test_ham_ws_reach(const ars_test_ham_ws *ws) {
    return ars_ratio_ws_reach(ars_eloc_ws_ratio(ws->eloc));
}

int ars_test_ham_ws_window(const ars_test_ham_ws *ws) {
    return ars_ratio_ws_window(ars_eloc_ws_ratio(ws->eloc));
}

int ars_test_ham_local_energy(double *eloc, const uint8_t *cfg, const ars_ham *H,
                              const ars_arnn *net, ars_test_ham_ws *ws, int B) {
    const ars_wf wf = ars_wf_make(net, H->marshall_sign, NULL);
    return ars_eloc_compute(eloc, NULL, cfg, ws->op, &wf, ws->eloc, B);
}

void ars_test_ham_local_energy_slow(double *eloc, const uint8_t *cfg, const ars_ham *H,
                                    const ars_arnn *net, int B) {
    ars_op *op = ars_ham_operator(H);
    assert_non_null(op);
    const ars_wf wf = ars_wf_make(net, H->marshall_sign, NULL);
    assert_int_equal(ars_eloc_compute_slow(eloc, NULL, cfg, op, &wf, B), ARS_OK);
    ars_op_free(op);
}

int ars_test_same_bits(double a, double b) {
    uint64_t ua, ub;
    memcpy(&ua, &a, sizeof ua);
    memcpy(&ub, &b, sizeof ub);
    return ua == ub;
}

/* A conv phase network (with the site term if `site`, the Jastrow term if `jastrow`) with every
 * parameter uniform in [-scale, scale]. */
ars_phase *ars_test_random_phase(int L, int D, int pbc, int layers, int F, int K, const int *dil,
                                 int site, int jastrow, ars_activation act, uint64_t seed,
                                 double scale) {
    ars_phase_arch a;
    memset(&a, 0, sizeof a);
    a.size = L;
    a.local_size = D;
    a.pbc = pbc;
    a.layers = layers;
    a.features = F;
    a.kernel_size = K;
    for (int l = 0; l < layers; l++) {
        a.dilation[l] = dil[l];
    }
    a.activation = act;
    a.site_phase = site;
    a.jastrow = jastrow;
    ars_phase *ph = ars_phase_alloc(ars_phase_conv, &a);
    assert_non_null(ph);
    gsl_rng *r = ars_rng_alloc();
    ars_rng_seed(r, seed);
    for (size_t k = 0; k < ph->n_params; k++) {
        ph->params[k] = scale * (2.0 * gsl_rng_uniform(r) - 1.0);
    }
    gsl_rng_free(r);
    return ph;
}
