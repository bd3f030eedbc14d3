/*
 * Specification of the VMC driver: a short TFIM training reaches a relative error below 1e-3
 * (judged by the exact variational energy from enumeration, not by noisy estimates); training
 * 2N iterations equals N iterations, a checkpoint, and N resumed iterations, bit for bit
 * (Adam + SR + schedules); the thread count does not change a bit; a non-finite step is
 * reported and leaves the parameters as they were.
 */
#include "test_util.h"

#include <malloc.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gsl/gsl_errno.h>
#if defined(__SANITIZE_ADDRESS__)
/* libasan's (GCC ships no header for it): the bytes its allocator holds. */
size_t __sanitizer_get_current_allocated_bytes(void);
#endif

#include "core/ars_common.h"
#include "ops/exact.h"
#include "ops/hamiltonian.h"
#include "io/checkpoint.h"
#include "vmc/vmc.h"

static ars_arch tfim_arch(int L) {
    const int dil[3] = {1, 2, 4};
    return ars_test_arch(L, 1, 3, 8, 3, dil, 1, 1, ARS_ACTIVATION_TANH, ARS_INPUT_VALUE);
}

static ars_vmc_settings settings(const ars_opt_type *opt, double lr, size_t n) {
    ars_vmc_settings s;
    memset(&s, 0, sizeof s);
    s.n_samples = n;
    s.chunk_size = 64;
    s.seed = 2385;
    s.algorithm = ARS_SAMPLER_CACHED;
    s.dtype = ARS_DTYPE_FLOAT64;
    s.optimizer = opt;
    s.learning_rate = lr;
    s.lr_decay = 1.0;
    s.phase_lr_factor = 1.0;
    s.sr = 1;
    s.diag_shift = 0.01;
    s.ds_decay = 1.0;
    s.hyper[ARS_OPT_BETA1] = 0.9;
    s.hyper[ARS_OPT_BETA2] = 0.999;
    s.hyper[ARS_OPT_EPSILON] = 1e-8;
    s.exact_energy = NAN;
    return s;
}

/* <psi|H|psi> / <psi|psi> of the network by enumeration: sum_s p(s) E_loc(s) over p(s) > 0. */
static double variational_energy(const ars_arnn *net, const ars_ham *H) {
    size_t n;
    double *lp = ars_test_enumerate_log_prob(net, &n);
    const int L = net->arch.hilbert.size;
    uint8_t *cfg = malloc(n * (size_t)L);
    double *e = malloc(n * sizeof(double));
    for (size_t k = 0; k < n; k++) {
        ars_hilbert_config(&net->arch.hilbert, cfg + k * (size_t)L, k);
    }
    ars_test_ham_local_energy_slow(e, cfg, H, net, (int)n);
    double E = 0.0;
    for (size_t k = 0; k < n; k++) {
        E += isinf(lp[k]) ? 0.0 : exp(lp[k]) * e[k]; /* outside a sector p = 0, E_loc undefined */
    }
    free(lp);
    free(cfg);
    free(e);
    return E;
}

static void test_quick_tfim_training_reaches_1e_3(void **state) {
    (void)state;
    ars_arch arch = tfim_arch(10);
    ars_arnn *net = ars_arnn_alloc(&arch);
    ars_arnn_init_random(net, 1);
    ars_ham H;
    assert_int_equal(
        ars_ham_init(&H, ARS_TEST_PRESET(ARS_HAM_TFIM, 1.0, 1.0, 1.0, 0.0, 1, 0), 10, 1), ARS_OK);
    ars_vmc_settings s = settings(ars_opt_sgd, 0.05, 512);
    const int iterations = ARS_TEST_SHORT ? 30 : 300;
    ars_vmc *v = ars_vmc_alloc(net, &H, &s, iterations, 2);
    for (int it = 0; it < iterations; it++) {
        assert_int_equal(ars_vmc_step(v), ARS_OK);
    }
    const double exact = ars_exact_tfim(10, 1.0, 1.0, 1);
    const double E = variational_energy(net, &H);
    const double rel = fabs((E - exact) / exact);
    if (!(rel < 1e-3 || ARS_TEST_SHORT) || E < exact - 1e-9) { /* never below the ground state */
        fail_msg("variational energy %.10f, exact %.10f: relative error %.3g", E, exact, rel);
    }
    /* The log describes the run: energies approach the exact value from above on average. */
    assert_int_equal(v->log.len, iterations);
    assert_true(v->log.energy[iterations - 1] < v->log.energy[0]);
    ars_vmc_free(v);
    ars_arnn_free(net);
}

/* Trains a random network of arch on H (SGD with SR, 512 samples) for `iterations` steps and
 * returns the relative error of its variational energy (by enumeration) against Lanczos; fails
 * when the energy lies below the ground state. */
static double heisenberg_training_error(const ars_arch *arch, const ars_ham *H, int iterations) {
    ars_arnn *net = ars_arnn_alloc(arch);
    ars_arnn_init_random(net, 3);
    ars_vmc_settings s = settings(ars_opt_sgd, 0.05, 512);
    ars_vmc *v = ars_vmc_alloc(net, H, &s, iterations, 2);
    for (int it = 0; it < iterations; it++) {
        assert_int_equal(ars_vmc_step(v), ARS_OK);
    }
    ars_op *op = ars_ham_operator(H);
    ars_exact_result res;
    assert_int_equal(ars_exact_lanczos(op, ARS_EXACT_ANY_SECTOR, 2000, 1e-12, &res), ARS_OK);
    ars_op_free(op);
    const double exact = res.energy;
    const double E = variational_energy(net, H);
    print_message("%s, total_sz %s: variational energy %.10f, Lanczos %.10f, relative %.2e\n",
                  ars_sym_name(arch->symmetry), arch->hilbert.constrained ? "0" : "none", E, exact,
                  fabs((E - exact) / exact));
    if (E < exact - 1e-9) {
        fail_msg("variational energy %.10f below the ground state %.10f", E, exact);
    }
    ars_vmc_free(v);
    ars_arnn_free(net);
    return fabs((E - exact) / exact);
}

static void test_heisenberg_with_marshall_sign_trains_towards_lanczos(void **state) {
    (void)state;
    const int dil[3] = {1, 2, 4};
    ars_arch arch = ars_test_arch(8, 1, 3, 8, 3, dil, 1, 1, ARS_ACTIVATION_TANH, ARS_INPUT_VALUE);
    ars_ham H;
    assert_int_equal(
        ars_ham_init(&H, ARS_TEST_PRESET(ARS_HAM_HEISENBERG, 1.0, 0.0, 1.0, 0.0, 1, 1), 8, 1),
        ARS_OK);
    const double err = heisenberg_training_error(&arch, &H, ARS_TEST_SHORT ? 20 : 300);
    assert_true(err < 1e-2 || ARS_TEST_SHORT);
}

/* Runs `steps` iterations of a fresh driver on net (Adam, SR, exponential schedules). */
static ars_vmc *adam_driver(ars_arnn *net, const ars_ham *H, int total, int threads) {
    ars_vmc_settings s = settings(ars_opt_adam, 0.01, 256);
    s.lr_exponential = 1;
    s.lr_decay = 0.99;
    s.lr_min = 0.005;
    s.ds_exponential = 1;
    s.ds_decay = 0.98;
    s.ds_min = 1e-3;
    s.exact_energy = -10.0;
    return ars_vmc_alloc(net, H, &s, total, threads);
}

/* N iterations, a checkpoint, a fresh driver on another thread count and N more give bitwise
 * the variables, optimiser state and log of 2N uninterrupted iterations. */
static void check_resume_is_bitwise(ars_arch arch, const ars_ham *Hp) {
    const ars_ham H = *Hp;
    const int N = 12;
    /* Uninterrupted: 2N iterations. */
    ars_arnn *a = ars_arnn_alloc(&arch);
    ars_arnn_init_random(a, 5);
    ars_vmc *va = adam_driver(a, &H, 2 * N, 2);
    for (int it = 0; it < 2 * N; it++) {
        assert_int_equal(ars_vmc_step(va), ARS_OK);
    }
    /* N iterations, a checkpoint, and N more in a fresh process-like state. */
    const char *path = ars_test_tmp_path("resume.h5");
    ars_arnn *b = ars_arnn_alloc(&arch);
    ars_arnn_init_random(b, 5);
    ars_vmc *vb = adam_driver(b, &H, N, 2);
    for (int it = 0; it < N; it++) {
        assert_int_equal(ars_vmc_step(vb), ARS_OK);
    }
    ars_io_train tr = {.H = &H, .opt = vb->opt, .log = &vb->log, .exact_energy = -10.0};
    ars_io_meta meta = {.config_text = "", .seed = 5};
    assert_int_equal(ars_io_write(path, &meta, b, NULL, NULL, 0, &tr), ARS_OK);
    ars_vmc_free(vb);
    ars_arnn_free(b);

    ars_arnn *c = ars_arnn_alloc(&arch);
    assert_int_equal(ars_io_load_variables(path, c, NULL), ARS_OK);
    ars_vmc *vc = adam_driver(c, &H, 2 * N, 1); /* and another thread count */
    assert_int_equal(ars_io_load_train(path, vc->opt, &vc->log), ARS_OK);
    vc->iteration = (int64_t)vc->log.len;
    assert_int_equal(vc->iteration, N);
    for (int it = N; it < 2 * N; it++) {
        assert_int_equal(ars_vmc_step(vc), ARS_OK);
    }
    assert_memory_equal(c->params, a->params, a->n_params * sizeof(double));
    assert_memory_equal(vc->opt->vec[0], va->opt->vec[0], a->n_params * sizeof(double));
    assert_memory_equal(vc->opt->vec[1], va->opt->vec[1], a->n_params * sizeof(double));
    assert_memory_equal(vc->log.energy, va->log.energy, 2 * N * sizeof(double));
    assert_memory_equal(vc->log.grad_norm, va->log.grad_norm, 2 * N * sizeof(double));
    assert_memory_equal(vc->log.learning_rate, va->log.learning_rate, 2 * N * sizeof(double));
    ars_vmc_free(va);
    ars_vmc_free(vc);
    ars_arnn_free(a);
    ars_arnn_free(c);
    unlink(path);
}

static void test_resumed_training_is_bitwise_the_uninterrupted_one(void **state) {
    (void)state;
    ars_ham H;
    assert_int_equal(
        ars_ham_init(&H, ARS_TEST_PRESET(ARS_HAM_TFIM, 1.0, 0.7, 1.0, 0.0, 0, 0), 9, 1), ARS_OK);
    check_resume_is_bitwise(tfim_arch(9), &H);
}

/* The same with a sector and a symmetrised state (and the symmetrised TFIM). */
static void test_resume_is_bitwise_with_sectors_and_symmetries(void **state) {
    (void)state;
    ars_arch arch = tfim_arch(10);
    ars_hilbert_set_sector(&arch.hilbert, 0);
    arch.symmetry = ARS_SYM_BOTH;
    ars_ham H;
    assert_int_equal(
        ars_ham_init(&H, ARS_TEST_PRESET(ARS_HAM_HEISENBERG, 1.0, 0.0, 1.0, 0.0, 1, 1), 10, 1),
        ARS_OK);
    check_resume_is_bitwise(arch, &H);
    ars_arch tf = tfim_arch(9);
    tf.symmetry = ARS_SYM_SPIN_FLIP;
    assert_int_equal(
        ars_ham_init(&H, ARS_TEST_PRESET(ARS_HAM_TFIM, 1.0, 0.7, 1.0, 0.0, 0, 0), 9, 1), ARS_OK);
    check_resume_is_bitwise(tf, &H);
}

/* In the total_sz = 0 sector and symmetrised, Heisenberg N = 8 with the Marshall sign trains to
 * its Lanczos energy within 1e-3 in 200 iterations (variational energy by enumeration; never
 * below the ground state). */
static void test_sector_symmetrised_heisenberg_trains_towards_lanczos(void **state) {
    (void)state;
    const int dil[3] = {1, 2, 4};
    ars_arch arch = ars_test_arch(8, 1, 3, 8, 3, dil, 1, 1, ARS_ACTIVATION_TANH, ARS_INPUT_VALUE);
    ars_hilbert_set_sector(&arch.hilbert, 0);
    arch.symmetry = ARS_SYM_BOTH;
    ars_ham H;
    assert_int_equal(
        ars_ham_init(&H, ARS_TEST_PRESET(ARS_HAM_HEISENBERG, 1.0, 0.0, 1.0, 0.0, 1, 1), 8, 1),
        ARS_OK);
    const double err = heisenberg_training_error(&arch, &H, ARS_TEST_SHORT ? 20 : 200);
    assert_true(err < 1e-3 || ARS_TEST_SHORT);
}

static void test_non_finite_step_is_reported_and_keeps_the_parameters(void **state) {
    (void)state;
    ars_arch arch = tfim_arch(6);
    ars_arnn *net = ars_arnn_alloc(&arch);
    ars_arnn_init_random(net, 2);
    ars_ham H;
    assert_int_equal(
        ars_ham_init(&H, ARS_TEST_PRESET(ARS_HAM_TFIM, 1.0, 1.0, 1.0, 0.0, 1, 0), 6, 1), ARS_OK);
    ars_vmc_settings s = settings(ars_opt_sgd, 0.05, 64);
    ars_vmc *v = ars_vmc_alloc(net, &H, &s, 10, 1);
    net->params[net->n_params - 1] = INFINITY; /* the last bias: the head overflows */
    double *before = malloc(net->n_params * sizeof(double));
    memcpy(before, net->params, net->n_params * sizeof(double));
    assert_int_equal(ars_vmc_step(v), ARS_STATUS_ENONFINITE);
    assert_memory_equal(before, net->params, net->n_params * sizeof(double));
    assert_int_equal(v->log.len, 0);
    free(before);
    ars_vmc_free(v);
    ars_arnn_free(net);
}

/* Bytes held by malloc now (the sanitizers' allocator under ASan). */
static size_t allocated_bytes(void) {
#if defined(__SANITIZE_ADDRESS__)
    return __sanitizer_get_current_allocated_bytes();
#else
    const struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
#endif
}

/* ars_vmc_bytes, the memory check's figure, is a lower bound on what ars_vmc_alloc takes, and
 * where the per-sample arrays dominate (n > P) it is most of it (measured: 85-87%; 32% at
 * n = 256, where the per-thread workspaces dominate): in sample and parameter space, with
 * float32 SR products, and with a symmetry's images. */
static void test_the_memory_bound_is_below_and_near_what_training_allocates(void **state) {
    (void)state;
    struct {
        size_t n;
        int sr_float32;
        ars_sym sym;
    } cases[] = {{256, 0, ARS_SYM_NONE},
                 {8192, 0, ARS_SYM_NONE},
                 {8192, 1, ARS_SYM_NONE},
                 {8192, 0, ARS_SYM_BOTH}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        ars_arch arch = tfim_arch(16);
        arch.symmetry = cases[c].sym;
        ars_arnn *net = ars_arnn_alloc(&arch);
        ars_arnn_init_random(net, 2);
        ars_ham H;
        assert_int_equal(
            ars_ham_init(&H, ARS_TEST_PRESET(ARS_HAM_TFIM, 1.0, 1.0, 1.0, 0.0, 1, 0), 16, 1),
            ARS_OK);
        ars_vmc_settings s = settings(ars_opt_sgd, 0.05, cases[c].n);
        s.sr_float32 = cases[c].sr_float32;
        const double bound = ars_vmc_bytes(net, &s, 2);
        const size_t before = allocated_bytes();
        ars_vmc *v = ars_vmc_alloc(net, &H, &s, 10, 2);
        assert_non_null(v);
        const double taken = (double)(allocated_bytes() - before);
        assert_true(bound <= taken);
        if (cases[c].n > net->n_params) {
            assert_true(bound >= 0.75 * taken); /* O and the per-sample vectors dominate */
        }
        ars_vmc_free(v);
        ars_arnn_free(net);
        ars_ham_free(&H);
    }
}

/* Writes `text` to the file root/rel, making its folders. */
static void write_under(const char *root, const char *rel, const char *text) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    for (char *p = path + strlen(root) + 1; *p != '\0'; p++) {
        if (*p == '/') {
            *p = '\0';
            mkdir(path, 0777);
            *p = '/';
        }
    }
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* The memory a process may use is the smallest limit on its own cgroup path, from its group up
 * to the root (where a batch system puts a job's limit), in cgroup v2 and v1 alike: a sibling
 * group's limit and "max" do not count. */
static void test_the_cgroup_limit_is_the_smallest_on_the_process_path(void **state) {
    (void)state;
    char root[4096];
    snprintf(root, sizeof root, "%s", ars_test_tmp_path("cgroup"));
    mkdir(root, 0777);
    write_under(root, "sys/job/memory.max", "8589934592\n");
    write_under(root, "sys/job/step/memory.max", "max\n");
    write_under(root, "sys/other/memory.max", "1024\n");
    write_under(root, "sys/memory/job/step/memory.limit_in_bytes", "4294967296\n");
    write_under(root, "sys/memory/memory.limit_in_bytes", "9223372036854771712\n");
    write_under(root, "both", "4:memory:/job/step\n1:cpu:/other\n0::/job/step\n");
    write_under(root, "v2", "0::/job/step\n");
    write_under(root, "v1", "7:cpu,memory:/job/step\n");
    write_under(root, "none", "0::/\n");
    char file[4096 + 16], mount[4096 + 16];
    snprintf(mount, sizeof mount, "%s/sys", root);
    const struct {
        const char *list;
        double limit;
    } cases[] = {{"both", 4294967296.0},
                 {"v2", 8589934592.0},
                 {"v1", 4294967296.0},
                 {"none", 0.0},
                 {"missing", 0.0}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        snprintf(file, sizeof file, "%s/%s", root, cases[c].list);
        assert_true(ars_memory_cgroup_limit(file, mount) == cases[c].limit);
    }
}

/* An update that overflows the parameters (a finite direction times an infinite step) is
 * refused: parameters, Adam moments and step count are restored bit for bit. */
static void test_overflowing_update_is_undone(void **state) {
    (void)state;
    ars_arch arch = tfim_arch(6);
    ars_arnn *net = ars_arnn_alloc(&arch);
    ars_arnn_init_random(net, 3);
    ars_ham H;
    assert_int_equal(
        ars_ham_init(&H, ARS_TEST_PRESET(ARS_HAM_TFIM, 1.0, 1.0, 1.0, 0.0, 1, 0), 6, 1), ARS_OK);
    for (int adam = 0; adam <= 1; adam++) {
        ars_vmc_settings s = settings(adam ? ars_opt_adam : ars_opt_sgd, 0.01, 64);
        ars_vmc *v = ars_vmc_alloc(net, &H, &s, 10, 1);
        assert_int_equal(ars_vmc_step(v), ARS_OK); /* moments and step become non-trivial */
        const size_t P = net->n_params;
        double *before = malloc(3 * P * sizeof(double));
        memcpy(before, net->params, P * sizeof(double));
        if (adam) {
            memcpy(before + P, v->opt->vec[0], P * sizeof(double));
            memcpy(before + 2 * P, v->opt->vec[1], P * sizeof(double));
        }
        const long step = v->opt->step;
        v->set.learning_rate = INFINITY; /* finite directions, overflowing steps */
        assert_int_equal(ars_vmc_step(v), ARS_STATUS_ENONFINITE);
        assert_memory_equal(before, net->params, P * sizeof(double));
        if (adam) {
            assert_memory_equal(before + P, v->opt->vec[0], P * sizeof(double));
            assert_memory_equal(before + 2 * P, v->opt->vec[1], P * sizeof(double));
        }
        assert_int_equal(v->opt->step, step);
        assert_int_equal(v->log.len, 1);
        free(before);
        ars_vmc_free(v);
    }
    ars_arnn_free(net);
}

int main(void) {
    gsl_set_error_handler_off();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quick_tfim_training_reaches_1e_3),
        cmocka_unit_test(test_heisenberg_with_marshall_sign_trains_towards_lanczos),
        cmocka_unit_test(test_resumed_training_is_bitwise_the_uninterrupted_one),
        cmocka_unit_test(test_resume_is_bitwise_with_sectors_and_symmetries),
        cmocka_unit_test(test_sector_symmetrised_heisenberg_trains_towards_lanczos),
        cmocka_unit_test(test_non_finite_step_is_reported_and_keeps_the_parameters),
        cmocka_unit_test(test_overflowing_update_is_undone),
        cmocka_unit_test(test_the_memory_bound_is_below_and_near_what_training_allocates),
        cmocka_unit_test(test_the_cgroup_limit_is_the_smallest_on_the_process_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
