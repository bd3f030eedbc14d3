/*
 * Specification of the HDF5 files: a written file loads back to bitwise-equal variables and
 * samples, loading checks the architecture, shapes, format and finiteness and names the
 * culprit, and a failed write leaves the previous file untouched.
 */
#include "test_util.h"

#include <dirent.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hdf5.h>

#include "core/ars_common.h"
#include "io/atomic_file.h"
#include "io/checkpoint.h"
#include "opt/optimizer.h"
#include "sample/sampler.h"
#include "vmc/vmc.h"

static ars_arch small_arch(int features, int use_bias) {
    const int dil[3] = {1, 2, 1};
    return ars_test_arch(10, 2, 3, features, 3, dil, 1, use_bias, ARS_ACTIVATION_GELU,
                         ARS_INPUT_ONEHOT);
}

static void write_file(const char *path, const ars_arnn *net, size_t n, uint8_t **cfg_out,
                       double **lp_out) {
    const int L = net->arch.hilbert.size;
    uint8_t *cfg = malloc(n * (size_t)L);
    double *lp = malloc(n * sizeof(double));
    ars_sampler *s = ars_sampler_alloc(net, 32, 2, ARS_SAMPLER_CACHED, ARS_DTYPE_FLOAT64);
    assert_int_equal(ars_sampler_draw(s, cfg, lp, n, 17, 0, NULL), ARS_OK);
    ars_sampler_free(s);
    ars_io_meta meta = {.config_text = "[system]\nsize = 10\n", .seed = 17, .dtype = "float64"};
    assert_int_equal(ars_io_write(path, &meta, net, cfg, lp, n, NULL), ARS_OK);
    if (cfg_out != NULL) {
        *cfg_out = cfg;
        *lp_out = lp;
    } else {
        free(cfg);
        free(lp);
    }
}

static void test_round_trip_gives_bitwise_equal_variables_and_samples(void **state) {
    (void)state;
    const char *path = ars_test_tmp_path("roundtrip.h5");
    ars_arch arch = small_arch(6, 1);
    ars_arnn *net = ars_test_random_net(&arch, 5, 0.8);
    uint8_t *cfg;
    double *lp;
    write_file(path, net, 100, &cfg, &lp);

    ars_arch read;
    assert_int_equal(ars_io_read_arch(path, &read), ARS_OK);
    assert_memory_equal(&read, &arch, sizeof arch);
    ars_arnn *back = ars_arnn_alloc(&read);
    assert_int_equal(ars_io_load_variables(path, back, NULL), ARS_OK);
    assert_memory_equal(back->params, net->params, net->n_params * sizeof(double));

    uint8_t *cfg2;
    double *lp2;
    size_t n2;
    assert_int_equal(ars_io_read_samples(path, &arch.hilbert, &cfg2, &lp2, &n2), ARS_OK);
    assert_int_equal(n2, 100);
    assert_memory_equal(cfg2, cfg, 100 * 10);
    assert_memory_equal(lp2, lp, 100 * sizeof(double));

    /* The loaded network draws the same samples from the same seed. */
    uint8_t *cfg3 = malloc(100 * 10);
    double *lp3 = malloc(100 * sizeof(double));
    ars_sampler *s = ars_sampler_alloc(back, 32, 1, ARS_SAMPLER_CACHED, ARS_DTYPE_FLOAT64);
    assert_int_equal(ars_sampler_draw(s, cfg3, lp3, 100, 17, 0, NULL), ARS_OK);
    assert_memory_equal(cfg3, cfg, 100 * 10);
    ars_sampler_free(s);
    free(cfg);
    free(lp);
    free(cfg2);
    free(lp2);
    free(cfg3);
    free(lp3);
    ars_arnn_free(net);
    ars_arnn_free(back);
    unlink(path);
}

static void test_loading_into_another_architecture_fails(void **state) {
    (void)state;
    const char *path = ars_test_tmp_path("arch.h5");
    ars_arch arch = small_arch(6, 1);
    ars_arnn *net = ars_test_random_net(&arch, 5, 0.8);
    write_file(path, net, 4, NULL, NULL);
    ars_arnn *before;

    ars_arch wider = small_arch(8, 1);
    before = ars_test_random_net(&wider, 9, 0.5);
    double keep = before->params[3];
    assert_int_equal(ars_io_load_variables(path, before, NULL), ARS_STATUS_EINPUT);
    assert_true(before->params[3] == keep); /* unchanged on failure */
    ars_arnn_free(before);

    ars_arch no_bias = small_arch(6, 0);
    before = ars_arnn_alloc(&no_bias);
    assert_int_equal(ars_io_load_variables(path, before, NULL), ARS_STATUS_EINPUT);
    ars_arnn_free(before);

    ars_arch other_act = small_arch(6, 1);
    other_act.activation = ARS_ACTIVATION_TANH;
    before = ars_arnn_alloc(&other_act);
    assert_int_equal(ars_io_load_variables(path, before, NULL), ARS_STATUS_EINPUT);
    ars_arnn_free(before);

    /* A longer chain with the same network is fine: convolutions do not depend on L. */
    ars_arch longer = small_arch(6, 1);
    longer.hilbert.size = 30;
    before = ars_arnn_alloc(&longer);
    assert_int_equal(ars_io_load_variables(path, before, NULL), ARS_OK);
    assert_memory_equal(before->params, net->params, net->n_params * sizeof(double));
    ars_arnn_free(before);
    ars_arnn_free(net);
    unlink(path);
}

/* The sector and the symmetrisation are part of the recorded model: they read back exactly and
 * [model] init takes the variables (same shapes) into another symmetrisation with a warning
 * only. */
static void test_sector_and_symmetry_are_recorded_and_checked(void **state) {
    (void)state;
    const char *path = ars_test_tmp_path("sector.h5");
    const int dil[3] = {1, 2, 1};
    ars_arch arch = ars_test_arch(10, 1, 3, 6, 3, dil, 1, 1, ARS_ACTIVATION_TANH, ARS_INPUT_VALUE);
    ars_hilbert_set_sector(&arch.hilbert, -2);
    arch.symmetry = ARS_SYM_REFLECTION;
    ars_arnn *net = ars_test_random_net(&arch, 5, 0.8);
    uint8_t *cfg;
    double *lp;
    write_file(path, net, 64, &cfg, &lp);
    ars_arch read;
    assert_int_equal(ars_io_read_arch(path, &read), ARS_OK);
    assert_memory_equal(&read, &arch, sizeof arch);
    for (int i = 0; i < 64; i++) {
        assert_true(ars_hilbert_in_sector(&arch.hilbert, cfg + (size_t)i * 10));
    }
    /* Samples of a sector read back against the sector's Hilbert space. */
    uint8_t *cfg2;
    double *lp2;
    size_t n2;
    assert_int_equal(ars_io_read_samples(path, &arch.hilbert, &cfg2, &lp2, &n2), ARS_OK);
    assert_memory_equal(cfg2, cfg, 64 * 10);
    free(cfg2);
    free(lp2);

    ars_arch other = arch;
    other.symmetry = ARS_SYM_NONE;
    other.hilbert.constrained = 0;
    ars_arnn *plain = ars_arnn_alloc(&other);
    assert_int_equal(ars_io_load_variables(path, plain, NULL), ARS_OK);
    assert_memory_equal(plain->params, net->params, net->n_params * sizeof(double));
    ars_arnn_free(plain);

    /* A file of an unconstrained, unsymmetrised network reads back as such. */
    ars_arch none = arch;
    none.symmetry = ARS_SYM_NONE;
    none.hilbert.constrained = 0;
    none.hilbert.two_m = 0;
    ars_arnn *n0 = ars_test_random_net(&none, 6, 0.8);
    write_file(path, n0, 4, NULL, NULL);
    assert_int_equal(ars_io_read_arch(path, &read), ARS_OK);
    assert_memory_equal(&read, &none, sizeof none);
    ars_arnn_free(n0);
    free(cfg);
    free(lp);
    ars_arnn_free(net);
    unlink(path);
}

/* Opens a written file and applies one edit through the HDF5 API. */
static void edit_file(const char *path, int what) {
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    assert_true(f >= 0);
    if (what == 0) { /* another format_version */
        hid_t a = H5Aopen(f, "format_version", H5P_DEFAULT);
        int64_t v = 2;
        assert_true(H5Awrite(a, H5T_NATIVE_INT64, &v) >= 0);
        H5Aclose(a);
    } else if (what == 1) { /* a NaN in a kernel */
        hid_t d = H5Dopen2(f, "/variables/params/layers_1/kernel", H5P_DEFAULT);
        hid_t sp = H5Dget_space(d);
        hssize_t n = H5Sget_simple_extent_npoints(sp);
        double *buf = malloc((size_t)n * sizeof(double));
        assert_true(H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0);
        buf[n / 2] = NAN;
        assert_true(H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0);
        free(buf);
        H5Sclose(sp);
        H5Dclose(d);
    } else { /* a missing layer */
        assert_true(H5Ldelete(f, "/variables/params/layers_2/kernel", H5P_DEFAULT) >= 0);
    }
    H5Fclose(f);
}

static void test_bad_input_files_are_reported_not_crashed_on(void **state) {
    (void)state;
    ars_arch arch = small_arch(6, 1);
    ars_arnn *net = ars_test_random_net(&arch, 5, 0.8);
    ars_arnn *into = ars_arnn_alloc(&arch);
    const char *path = ars_test_tmp_path("bad.h5");

    assert_int_equal(ars_io_load_variables(ars_test_tmp_path("missing.h5"), into, NULL),
                     ARS_STATUS_EINPUT);

    FILE *f = fopen(path, "w");
    fputs("this is not an HDF5 file\n", f);
    fclose(f);
    assert_int_equal(ars_io_load_variables(path, into, NULL), ARS_STATUS_EINPUT);

    /* Truncated: the first 3000 bytes of a good file. */
    write_file(path, net, 64, NULL, NULL);
    assert_int_equal(truncate(path, 3000), 0);
    assert_int_equal(ars_io_load_variables(path, into, NULL), ARS_STATUS_EINPUT);

    for (int what = 0; what < 3; what++) {
        write_file(path, net, 4, NULL, NULL);
        edit_file(path, what);
        assert_int_equal(ars_io_load_variables(path, into, NULL), ARS_STATUS_EINPUT);
    }
    ars_arnn_free(net);
    ars_arnn_free(into);
    unlink(path);
}

static long file_size(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

static void test_failed_write_leaves_previous_file_intact(void **state) {
    (void)state;
    const char *path = ars_test_tmp_path("keep.h5");
    ars_arch arch = small_arch(6, 1);
    ars_arnn *net = ars_test_random_net(&arch, 5, 0.8);
    write_file(path, net, 50, NULL, NULL);
    long size = file_size(path);
    FILE *f = fopen(path, "rb");
    char *before = malloc((size_t)size);
    assert_int_equal(fread(before, 1, (size_t)size, f), (size_t)size);
    fclose(f);

    /* Block the temporary name with a folder, so creating the new file fails. */
    char tmp[4300];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    assert_int_equal(mkdir(tmp, 0777), 0);
    ars_io_meta meta = {.config_text = "", .seed = 1};
    assert_int_equal(ars_io_write(path, &meta, net, NULL, NULL, 0, NULL), ARS_STATUS_EIO);
    rmdir(tmp);

    assert_int_equal(file_size(path), size);
    f = fopen(path, "rb");
    char *after = malloc((size_t)size);
    assert_int_equal(fread(after, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    assert_memory_equal(before, after, (size_t)size);
    free(before);
    free(after);
    ars_arnn_free(net);
    unlink(path);
}

static void test_write_creates_missing_folders_and_no_temporary_remains(void **state) {
    (void)state;
    char dir[4200], path[4300], tmp[4400];
    snprintf(dir, sizeof dir, "%s", ars_test_tmp_path("newdir"));
    snprintf(path, sizeof path, "%s/a/b/out.h5", dir);
    ars_arch arch = small_arch(6, 1);
    ars_arnn *net = ars_test_random_net(&arch, 5, 0.8);
    write_file(path, net, 3, NULL, NULL);
    assert_true(file_size(path) > 0);
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    assert_true(file_size(tmp) < 0);
    ars_arnn_free(net);
}

/* ---- more bad inputs: each is refused with EINPUT, never a crash ------------------------- */

static void write_bytes(const char *path, const void *buf, size_t n) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, n, f), n);
    fclose(f);
}

static char *read_all(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)size + 1);
    assert_int_equal(fread(buf, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    *n = (size_t)size;
    return buf;
}

/* Replaces the string attribute `name` of `obj` in `path` by an array of two strings. */
static void make_string_array_attribute(const char *path, const char *obj, const char *name) {
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    assert_true(f >= 0);
    hid_t o = H5Oopen(f, obj, H5P_DEFAULT);
    assert_true(o >= 0);
    assert_true(H5Adelete(o, name) >= 0);
    hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, H5T_VARIABLE);
    hsize_t two[1] = {2};
    hid_t space = H5Screate_simple(1, two, NULL);
    hid_t a = H5Acreate2(o, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
    const char *values[2] = {"gelu", "gelu"};
    assert_true(H5Awrite(a, type, values) >= 0);
    H5Aclose(a);
    H5Sclose(space);
    H5Tclose(type);
    H5Oclose(o);
    H5Fclose(f);
}

static void test_unreadable_kinds_of_file_are_refused(void **state) {
    (void)state;
    ars_arch arch = small_arch(6, 1);
    ars_arnn *net = ars_test_random_net(&arch, 5, 0.8);
    ars_arnn *into = ars_arnn_alloc(&arch);
    const char *good = ars_test_tmp_path("kinds_good.h5");
    const char *bad = ars_test_tmp_path("kinds_bad.h5");
    write_file(good, net, 16, NULL, NULL);
    size_t n;
    char *blob = read_all(good, &n);

    /* A folder, an empty file, random bytes, the signature alone, cut at several lengths. */
    const char *folder = ars_test_tmp_path("kinds_folder.h5");
    mkdir(folder, 0777);
    assert_int_equal(ars_io_load_variables(folder, into, NULL), ARS_STATUS_EINPUT);
    rmdir(folder);
    write_bytes(bad, blob, 0);
    assert_int_equal(ars_io_load_variables(bad, into, NULL), ARS_STATUS_EINPUT);
    char noise[4096];
    for (size_t i = 0; i < sizeof noise; i++) {
        noise[i] = (char)(i * 2654435761u >> 13);
    }
    write_bytes(bad, noise, sizeof noise);
    assert_int_equal(ars_io_load_variables(bad, into, NULL), ARS_STATUS_EINPUT);
    memcpy(noise, blob, 8); /* the HDF5 signature, then garbage */
    write_bytes(bad, noise, sizeof noise);
    assert_int_equal(ars_io_load_variables(bad, into, NULL), ARS_STATUS_EINPUT);
    const size_t cuts[] = {8, 96, 800, n / 10, n / 2, n * 9 / 10, n - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        write_bytes(bad, blob, cuts[i]);
        assert_int_equal(ars_io_load_variables(bad, into, NULL), ARS_STATUS_EINPUT);
        ars_arch a;
        assert_int_equal(ars_io_read_arch(bad, &a), ARS_STATUS_EINPUT);
        uint8_t *cfg = NULL;
        double *lp = NULL;
        size_t ns = 0;
        assert_int_equal(ars_io_read_samples(bad, &arch.hilbert, &cfg, &lp, &ns),
                         ARS_STATUS_EINPUT);
    }

    /* A string attribute stored as an array of strings (would overflow a one-string buffer). */
    write_bytes(bad, blob, n);
    make_string_array_attribute(bad, "/model", "activation");
    assert_int_equal(ars_io_load_variables(bad, into, NULL), ARS_STATUS_EINPUT);
    write_bytes(bad, blob, n);
    make_string_array_attribute(bad, "/", "format");
    assert_int_equal(ars_io_load_variables(bad, into, NULL), ARS_STATUS_EINPUT);

    /* A kernel that is a group, not a dataset. */
    write_bytes(bad, blob, n);
    hid_t f = H5Fopen(bad, H5F_ACC_RDWR, H5P_DEFAULT);
    assert_true(H5Ldelete(f, "/variables/params/layers_0/kernel", H5P_DEFAULT) >= 0);
    hid_t g =
        H5Gcreate2(f, "/variables/params/layers_0/kernel", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Gclose(g);
    H5Fclose(f);
    assert_int_equal(ars_io_load_variables(bad, into, NULL), ARS_STATUS_EINPUT);

    /* The file is still good after all this: nothing was changed by reading. */
    assert_int_equal(ars_io_load_variables(good, into, NULL), ARS_OK);
    assert_memory_equal(into->params, net->params, net->n_params * sizeof(double));
    free(blob);
    ars_arnn_free(net);
    ars_arnn_free(into);
    unlink(good);
    unlink(bad);
}

static void test_samples_of_inconsistent_lengths_are_refused(void **state) {
    (void)state;
    ars_arch arch = small_arch(6, 1);
    ars_arnn *net = ars_test_random_net(&arch, 5, 0.8);
    const char *path = ars_test_tmp_path("samples_bad.h5");
    for (int what = 0; what < 3; what++) {
        write_file(path, net, 40, NULL, NULL);
        hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
        assert_true(f >= 0);
        assert_true(H5Ldelete(f, what == 2 ? "samples" : "log_prob", H5P_DEFAULT) >= 0);
        if (what < 2) { /* /log_prob longer than /samples (read into n entries), or 2-D */
            hsize_t dims[2] = {what == 0 ? 400 : 40, 2};
            hid_t space = H5Screate_simple(what == 0 ? 1 : 2, dims, NULL);
            hid_t d = H5Dcreate2(f, "log_prob", H5T_IEEE_F64LE, space, H5P_DEFAULT, H5P_DEFAULT,
                                 H5P_DEFAULT);
            H5Dclose(d);
            H5Sclose(space);
        } else { /* /samples of floats */
            hsize_t dims[2] = {40, 10};
            hid_t space = H5Screate_simple(2, dims, NULL);
            hid_t d = H5Dcreate2(f, "samples", H5T_IEEE_F64LE, space, H5P_DEFAULT, H5P_DEFAULT,
                                 H5P_DEFAULT);
            H5Dclose(d);
            H5Sclose(space);
        }
        H5Fclose(f);
        uint8_t *cfg = NULL;
        double *lp = NULL;
        size_t n = 0;
        assert_int_equal(ars_io_read_samples(path, &arch.hilbert, &cfg, &lp, &n),
                         ARS_STATUS_EINPUT);
        assert_null(cfg);
        assert_null(lp);
    }
    ars_arnn_free(net);
    unlink(path);
}

/* ---- --resume: the training state ------------------------------------------------------- */

typedef struct train_fixture {
    ars_arch arch;
    ars_arnn *net;
    ars_ham H;
    ars_opt *opt;
    ars_vmc_log log;
} train_fixture;

static void train_fixture_init(train_fixture *t, int iterations) {
    const int dil[3] = {1, 2, 1};
    t->arch = ars_test_arch(8, 1, 3, 4, 3, dil, 1, 1, ARS_ACTIVATION_TANH, ARS_INPUT_VALUE);
    t->net = ars_test_random_net(&t->arch, 3, 0.5);
    assert_int_equal(
        ars_ham_init(&t->H, ARS_TEST_PRESET(ARS_HAM_TFIM, 1.0, 0.7, 1.0, 0.0, 1, 0), 8, 1), ARS_OK);
    t->opt = ars_opt_alloc(ars_opt_adam, t->net->n_params, (const double[]){0.9, 0.999, 1e-8, 0.9});
    assert_non_null(t->opt);
    for (size_t i = 0; i < t->net->n_params; i++) {
        t->opt->vec[0][i] = 0.01 * (double)i;
        t->opt->vec[1][i] = 0.001 * (double)i;
    }
    t->opt->step = iterations;
    memset(&t->log, 0, sizeof t->log);
    assert_int_equal(ars_vmc_log_reserve(&t->log, (size_t)iterations), ARS_OK);
    double *cols[10] = {
        t->log.energy,         t->log.energy_error, t->log.energy_variance,   t->log.vscore,
        t->log.relative_error, t->log.grad_norm,    t->log.distinct_fraction, t->log.seconds,
        t->log.learning_rate,  t->log.diag_shift};
    for (int i = 0; i < iterations; i++) {
        t->log.iteration[i] = i;
        for (int c = 0; c < 10; c++) {
            cols[c][i] = -1.0 - 0.01 * i - c;
        }
    }
    t->log.len = (size_t)iterations;
}

static void train_fixture_write(const train_fixture *t, const char *path) {
    ars_io_train tr = {.H = &t->H, .opt = t->opt, .log = &t->log, .exact_energy = NAN};
    ars_io_meta meta = {.config_text = "", .seed = 1};
    assert_int_equal(ars_io_write(path, &meta, t->net, NULL, NULL, 0, &tr), ARS_OK);
}

static void train_fixture_free(train_fixture *t) {
    ars_opt_free(t->opt);
    ars_vmc_log_free(&t->log);
    ars_arnn_free(t->net);
}

/* Applies one damage to a training file through the HDF5 API. */
static void damage_training_file(const char *path, int what) {
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    assert_true(f >= 0);
    hsize_t one[1] = {1};
    double nan = NAN, minus = -1.0;
    int64_t big = 7, gap = 5;
    hsize_t at[1] = {2};
    hid_t d = H5I_INVALID_HID, sp = H5I_INVALID_HID, mem = H5Screate_simple(1, one, NULL);
    switch (what) {
        case 0: /* no /vmc/energy */
            assert_true(H5Ldelete(f, "/vmc/energy", H5P_DEFAULT) >= 0);
            break;
        case 1:   /* iterations_done larger than the log */
        case 2: { /* iterations_done negative */
            hid_t g = H5Gopen2(f, "vmc", H5P_DEFAULT);
            hid_t a = H5Aopen(g, "iterations_done", H5P_DEFAULT);
            int64_t v = what == 1 ? big : -1;
            assert_true(H5Awrite(a, H5T_NATIVE_INT64, &v) >= 0);
            H5Aclose(a);
            H5Gclose(g);
            break;
        }
        case 3: /* /vmc/iteration not 0, 1, 2, ... */
            d = H5Dopen2(f, "/vmc/iteration", H5P_DEFAULT);
            sp = H5Dget_space(d);
            H5Sselect_elements(sp, H5S_SELECT_SET, 1, at);
            assert_true(H5Dwrite(d, H5T_NATIVE_INT64, mem, sp, H5P_DEFAULT, &gap) >= 0);
            break;
        case 4: /* a NaN in Adam's m */
        case 5: /* a negative entry in Adam's v */
            d = H5Dopen2(f, what == 4 ? "/optimizer/m" : "/optimizer/v", H5P_DEFAULT);
            sp = H5Dget_space(d);
            H5Sselect_elements(sp, H5S_SELECT_SET, 1, at);
            assert_true(H5Dwrite(d, H5T_NATIVE_DOUBLE, mem, sp, H5P_DEFAULT,
                                 what == 4 ? &nan : &minus) >= 0);
            break;
        case 6: /* no /optimizer/v */
            assert_true(H5Ldelete(f, "/optimizer/v", H5P_DEFAULT) >= 0);
            break;
        case 7: { /* a /vmc/grad_norm one entry short */
            assert_true(H5Ldelete(f, "/vmc/grad_norm", H5P_DEFAULT) >= 0);
            hsize_t n[1] = {4};
            sp = H5Screate_simple(1, n, NULL);
            d = H5Dcreate2(f, "/vmc/grad_norm", H5T_IEEE_F64LE, sp, H5P_DEFAULT, H5P_DEFAULT,
                           H5P_DEFAULT);
            break;
        }
        default: /* no /vmc */
            assert_true(H5Ldelete(f, "/vmc", H5P_DEFAULT) >= 0);
            break;
    }
    if (d >= 0) {
        H5Dclose(d);
    }
    if (sp >= 0) {
        H5Sclose(sp);
    }
    H5Sclose(mem);
    H5Fclose(f);
}

/* --resume continues the same state: a config with another sector or symmetrisation is
 * refused. */
static void test_resume_refuses_another_sector_or_symmetry(void **state) {
    (void)state;
    const char *path = ars_test_tmp_path("train_sector.h5");
    train_fixture t;
    train_fixture_init(&t, 3);
    ars_arch arch = t.arch;
    ars_hilbert_set_sector(&arch.hilbert, 0);
    arch.symmetry = ARS_SYM_BOTH;
    ars_arnn_free(t.net);
    t.net = ars_test_random_net(&arch, 3, 0.5);
    train_fixture_write(&t, path);
    assert_int_equal(ars_io_check_resume(path, &arch), ARS_OK);
    ars_arch other = arch;
    other.symmetry = ARS_SYM_REFLECTION;
    assert_int_equal(ars_io_check_resume(path, &other), ARS_STATUS_EINPUT);
    other = arch;
    other.hilbert.constrained = 0;
    assert_int_equal(ars_io_check_resume(path, &other), ARS_STATUS_EINPUT);
    other = arch;
    ars_hilbert_set_sector(&other.hilbert, 2);
    assert_int_equal(ars_io_check_resume(path, &other), ARS_STATUS_EINPUT);
    train_fixture_free(&t);
    unlink(path);
}

static void test_damaged_training_state_is_refused_and_changes_nothing(void **state) {
    (void)state;
    const char *path = ars_test_tmp_path("train_bad.h5");
    train_fixture t;
    train_fixture_init(&t, 5);

    /* The undamaged file loads back exactly. */
    train_fixture_write(&t, path);
    ars_opt *opt =
        ars_opt_alloc(ars_opt_adam, t.net->n_params, (const double[]){0.9, 0.999, 1e-8, 0.9});
    ars_vmc_log log;
    memset(&log, 0, sizeof log);
    assert_int_equal(ars_vmc_log_reserve(&log, 2), ARS_OK);
    assert_int_equal(ars_io_load_train(path, opt, &log), ARS_OK);
    assert_int_equal(log.len, 5);
    assert_int_equal(opt->step, 5);
    assert_memory_equal(opt->vec[0], t.opt->vec[0], t.net->n_params * sizeof(double));
    assert_memory_equal(log.energy, t.log.energy, 5 * sizeof(double));
    assert_int_equal(ars_io_check_resume(path, &t.arch), ARS_OK);

    for (int what = 0; what <= 8; what++) {
        train_fixture_write(&t, path);
        damage_training_file(path, what);
        memset(opt->vec[0], 0, opt->P * sizeof(double));
        opt->step = 0;
        log.len = 0;
        assert_int_equal(ars_io_load_train(path, opt, &log), ARS_STATUS_EINPUT);
        /* Nothing of the damaged file reached the caller's state. */
        assert_int_equal(opt->step, 0);
        assert_int_equal(log.len, 0);
        for (size_t i = 0; i < opt->P; i++) {
            assert_true(opt->vec[0][i] == 0.0);
        }
    }

    /* Another optimiser, another number of parameters. */
    train_fixture_write(&t, path);
    ars_opt *sgd =
        ars_opt_alloc(ars_opt_sgd, t.net->n_params, (const double[]){0.9, 0.999, 1e-8, 0.9});
    assert_int_equal(ars_io_load_train(path, sgd, &log), ARS_STATUS_EINPUT);
    ars_opt_free(sgd);
    ars_opt *wider =
        ars_opt_alloc(ars_opt_adam, t.net->n_params + 3, (const double[]){0.9, 0.999, 1e-8, 0.9});
    assert_int_equal(ars_io_load_train(path, wider, &log), ARS_STATUS_EINPUT);
    ars_opt_free(wider);

    /* --resume keeps the chain and the network: another size or dilation is refused. */
    ars_arch other = t.arch;
    other.hilbert.size = 10;
    assert_int_equal(ars_io_check_resume(path, &other), ARS_STATUS_EINPUT);
    other = t.arch;
    other.dilation[1] = 1;
    assert_int_equal(ars_io_check_resume(path, &other), ARS_STATUS_EINPUT);
    assert_int_equal(ars_io_check_resume(ars_test_tmp_path("no_such.h5"), &t.arch),
                     ARS_STATUS_EINPUT);
    assert_int_equal(ars_io_load_train(ars_test_tmp_path("no_such.h5"), opt, &log),
                     ARS_STATUS_EINPUT);

    ars_opt_free(opt);
    ars_vmc_log_free(&log);
    train_fixture_free(&t);
    unlink(path);
}

/* ---- outputs: a failed write leaves the previous file and no temporary ----------------- */

/* Counts the entries of the folder of `path` whose names start with its base name + ".tmp.". */
static int temporaries_beside(const char *path) {
    char dir[4200];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    assert_non_null(slash);
    *slash = '\0';
    char prefix[512];
    snprintf(prefix, sizeof prefix, "%s.tmp.", slash + 1);
    DIR *d = opendir(dir);
    assert_non_null(d);
    int count = 0;
    for (struct dirent *e = readdir(d); e != NULL; e = readdir(d)) {
        count += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
    }
    closedir(d);
    return count;
}

static void test_write_past_a_file_size_limit_fails_cleanly(void **state) {
    (void)state;
    const char *path = ars_test_tmp_path("limit.h5");
    ars_arch arch = small_arch(6, 1);
    ars_arnn *net = ars_test_random_net(&arch, 5, 0.8);
    write_file(path, net, 20, NULL, NULL);
    size_t n_before;
    char *before = read_all(path, &n_before);

    /* A file-size limit below the new file's size: the write fails with EFBIG (as on a full
     * disk) instead of killing the process, as main() ignores SIGXFSZ. */
    struct rlimit old;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);
    struct rlimit small = {16384, old.rlim_max};
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
    const size_t n = 20000;
    uint8_t *cfg = calloc(n * 10, 1);
    double *lp = calloc(n, sizeof(double));
    for (size_t i = 0; i < n; i++) {
        lp[i] = -1.0 - 1e-3 * (double)i; /* incompressible enough */
        cfg[i * 10 + i % 10] = 1;
    }
    ars_io_meta meta = {.config_text = "", .seed = 3};
    int rc = ars_io_write(path, &meta, net, cfg, lp, n, NULL);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, old_handler);
    assert_int_equal(rc, ARS_STATUS_EIO);

    size_t n_after;
    char *after = read_all(path, &n_after);
    assert_int_equal(n_after, n_before);
    assert_memory_equal(after, before, n_before);
    assert_int_equal(temporaries_beside(path), 0);

    /* HDF5 is still usable: the same write succeeds without the limit. */
    assert_int_equal(ars_io_write(path, &meta, net, cfg, lp, n, NULL), ARS_OK);
    uint8_t *cfg2 = NULL;
    double *lp2 = NULL;
    size_t n2 = 0;
    assert_int_equal(ars_io_read_samples(path, &arch.hilbert, &cfg2, &lp2, &n2), ARS_OK);
    assert_int_equal(n2, n);
    assert_memory_equal(lp2, lp, n * sizeof(double));
    free(cfg2);
    free(lp2);
    free(cfg);
    free(lp);
    free(before);
    free(after);
    ars_arnn_free(net);
    unlink(path);
}

static void test_write_below_a_regular_file_fails_cleanly(void **state) {
    (void)state;
    char path[4300];
    const char *regular = ars_test_tmp_path("regular_file");
    write_bytes(regular, "x", 1);
    snprintf(path, sizeof path, "%s/sub/out.h5", regular);
    ars_arch arch = small_arch(6, 1);
    ars_arnn *net = ars_test_random_net(&arch, 5, 0.8);
    ars_io_meta meta = {.config_text = "", .seed = 1};
    assert_int_equal(ars_io_write(path, &meta, net, NULL, NULL, 0, NULL), ARS_STATUS_EIO);
    ars_hilbert h;
    ars_hilbert_init(&h, 4, 1);
    ars_ham H;
    assert_int_equal(
        ars_ham_init(&H, ARS_TEST_PRESET(ARS_HAM_TFIM, 1.0, 1.0, 1.0, 0.0, 0, 0), 4, 1), ARS_OK);
    assert_int_equal(ars_io_write_exact(path, &meta, &h, &H, -1.0, "test"), ARS_STATUS_EIO);
    assert_int_equal(ars_io_check_writable(path, "test.ini:3"), ARS_STATUS_ECONFIG);
    ars_arnn_free(net);
    unlink(regular);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_gives_bitwise_equal_variables_and_samples),
        cmocka_unit_test(test_loading_into_another_architecture_fails),
        cmocka_unit_test(test_sector_and_symmetry_are_recorded_and_checked),
        cmocka_unit_test(test_resume_refuses_another_sector_or_symmetry),
        cmocka_unit_test(test_bad_input_files_are_reported_not_crashed_on),
        cmocka_unit_test(test_failed_write_leaves_previous_file_intact),
        cmocka_unit_test(test_write_creates_missing_folders_and_no_temporary_remains),
        cmocka_unit_test(test_unreadable_kinds_of_file_are_refused),
        cmocka_unit_test(test_samples_of_inconsistent_lengths_are_refused),
        cmocka_unit_test(test_damaged_training_state_is_refused_and_changes_nothing),
        cmocka_unit_test(test_write_past_a_file_size_limit_fails_cleanly),
        cmocka_unit_test(test_write_below_a_regular_file_fails_cleanly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
