/*
 * Specification of the HDF5 files: a written file loads back to bitwise-equal variables and
 * samples, loading checks the architecture, shapes, format and finiteness and names the
 * culprit, and a failed write leaves the previous file untouched.
 */
#include "test_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hdf5.h>

#include "ars_common.h"
#include "io_hdf5.h"
#include "sampler.h"

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
    assert_int_equal(ars_io_load_variables(path, back), ARS_OK);
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
    assert_int_equal(ars_io_load_variables(path, before), ARS_STATUS_EINPUT);
    assert_true(before->params[3] == keep); /* unchanged on failure */
    ars_arnn_free(before);

    ars_arch no_bias = small_arch(6, 0);
    before = ars_arnn_alloc(&no_bias);
    assert_int_equal(ars_io_load_variables(path, before), ARS_STATUS_EINPUT);
    ars_arnn_free(before);

    ars_arch other_act = small_arch(6, 1);
    other_act.activation = ARS_ACTIVATION_TANH;
    before = ars_arnn_alloc(&other_act);
    assert_int_equal(ars_io_load_variables(path, before), ARS_STATUS_EINPUT);
    ars_arnn_free(before);

    /* A longer chain with the same network is fine: convolutions do not depend on L. */
    ars_arch longer = small_arch(6, 1);
    longer.hilbert.size = 30;
    before = ars_arnn_alloc(&longer);
    assert_int_equal(ars_io_load_variables(path, before), ARS_OK);
    assert_memory_equal(before->params, net->params, net->n_params * sizeof(double));
    ars_arnn_free(before);
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

    assert_int_equal(ars_io_load_variables(ars_test_tmp_path("missing.h5"), into),
                     ARS_STATUS_EINPUT);

    FILE *f = fopen(path, "w");
    fputs("this is not an HDF5 file\n", f);
    fclose(f);
    assert_int_equal(ars_io_load_variables(path, into), ARS_STATUS_EINPUT);

    /* Truncated: the first 3000 bytes of a good file. */
    write_file(path, net, 64, NULL, NULL);
    assert_int_equal(truncate(path, 3000), 0);
    assert_int_equal(ars_io_load_variables(path, into), ARS_STATUS_EINPUT);

    for (int what = 0; what < 3; what++) {
        write_file(path, net, 4, NULL, NULL);
        edit_file(path, what);
        assert_int_equal(ars_io_load_variables(path, into), ARS_STATUS_EINPUT);
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

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_gives_bitwise_equal_variables_and_samples),
        cmocka_unit_test(test_loading_into_another_architecture_fails),
        cmocka_unit_test(test_bad_input_files_are_reported_not_crashed_on),
        cmocka_unit_test(test_failed_write_leaves_previous_file_intact),
        cmocka_unit_test(test_write_creates_missing_folders_and_no_temporary_remains),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
