/*
 * io_hdf5: writing and reading arsampler's HDF5 files; see io_hdf5.h and docs/hdf5-format.md.
 * Every hid_t starts invalid, every call is checked, and each function has one cleanup path.
 */
#include "io/io_hdf5.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hdf5.h>

#include "core/ars_common.h"

/* H5Fis_accessible replaced H5Fis_hdf5 in HDF5 1.12; Debian 12 ships 1.10. */
static htri_t is_hdf5_file(const char *path) {
#if H5_VERSION_GE(1, 12, 0)
    return H5Fis_accessible(path, H5P_DEFAULT);
#else
    return H5Fis_hdf5(path);
#endif
}

static void silence_hdf5(void) {
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

/* The most specific message on HDF5's error stack, called right after a failed HDF5 call (the
 * next API call clears the stack). For a failed system call only its reason ("File too large"). */
typedef struct h5_reason {
    char *buf;
    size_t len;
} h5_reason;

static herr_t reason_cb(unsigned n, const H5E_error2_t *e, void *data) {
    h5_reason *r = data;
    if (n == 0 && e->desc != NULL) {
        const char *sys = strstr(e->desc, "error message = '");
        if (sys != NULL) {
            sys += strlen("error message = '");
            const char *end = strchr(sys, '\'');
            int k = end != NULL ? (int)(end - sys) : (int)strlen(sys);
            snprintf(r->buf, r->len, "%.*s", k, sys);
        } else {
            snprintf(r->buf, r->len, "%s", e->desc);
        }
    }
    return 0;
}

static const char *hdf5_reason(char *buf, size_t len) {
    h5_reason r = {buf, len};
    buf[0] = '\0';
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, reason_cb, &r);
    if (buf[0] == '\0') {
        snprintf(buf, len, "no reason given by HDF5");
    }
    return buf;
}

/* ---- attribute writers (return < 0 on failure) ------------------------------------------- */

static herr_t attr_write(hid_t obj, const char *name, hid_t ftype, hid_t mtype, int rank,
                         const hsize_t *dims, const void *buf) {
    hid_t space = rank == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(rank, dims, NULL);
    hid_t attr = H5I_INVALID_HID;
    herr_t rc = -1;
    if (space < 0) {
        goto done;
    }
    attr = H5Acreate2(obj, name, ftype, space, H5P_DEFAULT, H5P_DEFAULT);
    if (attr < 0) {
        goto done;
    }
    rc = H5Awrite(attr, mtype, buf);
done:
    if (attr >= 0) {
        H5Aclose(attr);
    }
    if (space >= 0) {
        H5Sclose(space);
    }
    return rc;
}

static herr_t attr_i64(hid_t obj, const char *name, int64_t v) {
    return attr_write(obj, name, H5T_STD_I64LE, H5T_NATIVE_INT64, 0, NULL, &v);
}

static herr_t attr_i64_array(hid_t obj, const char *name, const int *v, int n) {
    int64_t buf[ARS_MAX_LAYERS];
    for (int i = 0; i < n; i++) {
        buf[i] = v[i];
    }
    hsize_t dims[1] = {(hsize_t)n};
    return attr_write(obj, name, H5T_STD_I64LE, H5T_NATIVE_INT64, 1, dims, buf);
}

/* A variable-length UTF-8 string, which h5py reads as a Python str. */
static herr_t attr_string(hid_t obj, const char *name, const char *s) {
    hid_t type = H5Tcopy(H5T_C_S1);
    herr_t rc = -1;
    if (type < 0) {
        return -1;
    }
    if (H5Tset_size(type, H5T_VARIABLE) >= 0 && H5Tset_cset(type, H5T_CSET_UTF8) >= 0) {
        rc = attr_write(obj, name, type, type, 0, NULL, &s);
    }
    H5Tclose(type);
    return rc;
}

/* ---- attribute readers ------------------------------------------------------------------- */

/* Reads a scalar or 1-element numeric attribute as int64 (HDF5 converts the type). */
static int attr_read_i64(hid_t obj, const char *name, int64_t *v, int n) {
    hid_t attr = H5Aopen(obj, name, H5P_DEFAULT);
    hid_t space = H5I_INVALID_HID, type = H5I_INVALID_HID;
    int rc = -1;
    if (attr < 0) {
        return -1;
    }
    space = H5Aget_space(attr);
    type = H5Aget_type(attr);
    if (space < 0 || type < 0) {
        goto done;
    }
    H5T_class_t cls = H5Tget_class(type);
    if (cls != H5T_INTEGER && cls != H5T_FLOAT) {
        goto done;
    }
    hssize_t count = H5Sget_simple_extent_npoints(space);
    if (count != n) {
        goto done;
    }
    if (H5Aread(attr, H5T_NATIVE_INT64, v) < 0) {
        goto done;
    }
    rc = 0;
done:
    if (type >= 0) {
        H5Tclose(type);
    }
    if (space >= 0) {
        H5Sclose(space);
    }
    H5Aclose(attr);
    return rc;
}

static int attr_read_f64(hid_t obj, const char *name, double *v) {
    hid_t attr = H5Aopen(obj, name, H5P_DEFAULT);
    int rc = -1;
    if (attr < 0) {
        return -1;
    }
    hid_t space = H5Aget_space(attr);
    if (space >= 0 && H5Sget_simple_extent_npoints(space) == 1 &&
        H5Aread(attr, H5T_NATIVE_DOUBLE, v) >= 0) {
        rc = 0;
    }
    if (space >= 0) {
        H5Sclose(space);
    }
    H5Aclose(attr);
    return rc;
}

/* Reads a string attribute, fixed or variable length, into buf. */
static int attr_read_string(hid_t obj, const char *name, char *buf, size_t len) {
    hid_t attr = H5Aopen(obj, name, H5P_DEFAULT);
    hid_t type = H5I_INVALID_HID, mtype = H5I_INVALID_HID;
    int rc = -1;
    if (attr < 0) {
        return -1;
    }
    type = H5Aget_type(attr);
    if (type < 0 || H5Tget_class(type) != H5T_STRING) {
        goto done;
    }
    /* One string only: an array would overflow the buffers below. */
    hid_t space = H5Aget_space(attr);
    hssize_t count = space >= 0 ? H5Sget_simple_extent_npoints(space) : -1;
    if (space >= 0) {
        H5Sclose(space);
    }
    if (count != 1) {
        goto done;
    }
    mtype = H5Tcopy(H5T_C_S1);
    /* HDF5 converts strings only between types of the same character set. */
    if (mtype < 0 || H5Tset_cset(mtype, H5Tget_cset(type)) < 0) {
        goto done;
    }
    if (H5Tis_variable_str(type) > 0) {
        char *s = NULL;
        if (H5Tset_size(mtype, H5T_VARIABLE) < 0 || H5Aread(attr, mtype, &s) < 0 || s == NULL) {
            goto done;
        }
        snprintf(buf, len, "%s", s);
        H5free_memory(s);
    } else {
        size_t n = H5Tget_size(type);
        char *tmp = calloc(n + 1, 1);
        if (tmp == NULL || H5Tset_size(mtype, n + 1) < 0 || H5Aread(attr, mtype, tmp) < 0) {
            free(tmp);
            goto done;
        }
        snprintf(buf, len, "%s", tmp);
        free(tmp);
    }
    /* It may end up in a one-line message: no control characters. */
    for (char *c = buf; *c != '\0'; c++) {
        if ((unsigned char)*c < 0x20 || *c == 0x7f) {
            *c = '?';
        }
    }
    rc = 0;
done:
    if (mtype >= 0) {
        H5Tclose(mtype);
    }
    if (type >= 0) {
        H5Tclose(type);
    }
    H5Aclose(attr);
    return rc;
}

/* ---- writing ----------------------------------------------------------------------------- */

/* Creates the folders of `path` that are missing (like mkdir -p on its dirname). */
static int make_parent_dirs(const char *path) {
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) {
        return -1;
    }
    char *slash = strrchr(buf, '/');
    if (slash == NULL || slash == buf) {
        return 0;
    }
    *slash = '\0';
    for (char *p = buf + 1; *p != '\0'; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(buf, 0777) != 0 && errno != EEXIST) {
                return -1;
            }
            *p = '/';
        }
    }
    if (mkdir(buf, 0777) != 0 && errno != EEXIST) {
        return -1;
    }
    return 0;
}

int ars_io_check_writable(const char *path, const char *where) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash == NULL) {
        snprintf(dir, sizeof dir, ".");
    } else if (slash == dir) {
        dir[1] = '\0';
    } else {
        *slash = '\0';
    }
    if (make_parent_dirs(path) != 0) {
        return ARS_ERR(ARS_STATUS_ECONFIG, "%s: [output] file: cannot create the folder '%s': %s",
                       where, dir, strerror(errno));
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        return ARS_ERR(ARS_STATUS_ECONFIG, "%s: [output] file: '%s' is not a folder", where, dir);
    }
    if (access(dir, W_OK) != 0) {
        return ARS_ERR(ARS_STATUS_ECONFIG, "%s: [output] file: the folder '%s' is not writable: %s",
                       where, dir, strerror(errno));
    }
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        return ARS_ERR(ARS_STATUS_ECONFIG, "%s: [output] file: '%s' is a folder", where, path);
    }
    return ARS_OK;
}

int ars_io_backup(const char *path, char *backup, size_t len) {
    struct stat st;
    backup[0] = '\0';
    if (stat(path, &st) != 0) {
        return ARS_OK;
    }
    for (int k = 1; k < 1000000; k++) {
        snprintf(backup, len, "%s.~%d~", path, k);
        if (stat(backup, &st) != 0 && errno == ENOENT) {
            if (rename(path, backup) != 0) {
                int err = errno;
                char tried[4200];
                snprintf(tried, sizeof tried, "%s", backup);
                backup[0] = '\0';
                return ARS_ERR(ARS_STATUS_EIO, "cannot keep the existing '%s' as '%s': %s", path,
                               tried, strerror(err));
            }
            return ARS_OK;
        }
    }
    backup[0] = '\0';
    return ARS_ERR(ARS_STATUS_EIO, "cannot keep the existing '%s': too many backups beside it",
                   path);
}

static hid_t create_dataset(hid_t loc, const char *name, hid_t ftype, int rank, const hsize_t *dims,
                            int compress) {
    hid_t space = H5Screate_simple(rank, dims, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    hid_t dset = H5I_INVALID_HID;
    if (space < 0 || dcpl < 0) {
        goto done;
    }
    if (compress && dims[0] > 0 && H5Zfilter_avail(H5Z_FILTER_DEFLATE) > 0) {
        /* Chunks of about 1 MiB of rows, whole rows per chunk. */
        hsize_t row = 1;
        for (int i = 1; i < rank; i++) {
            row *= dims[i];
        }
        hsize_t rows = ((hsize_t)1 << 20) / (row * H5Tget_size(ftype));
        rows = rows < 1 ? 1 : rows;
        hsize_t chunk[2] = {rows < dims[0] ? rows : dims[0], rank > 1 ? dims[1] : 1};
        if (H5Pset_chunk(dcpl, rank, chunk) < 0 || H5Pset_shuffle(dcpl) < 0 ||
            H5Pset_deflate(dcpl, 4) < 0) {
            goto done;
        }
    }
    dset = H5Dcreate2(loc, name, ftype, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
done:
    if (dcpl >= 0) {
        H5Pclose(dcpl);
    }
    if (space >= 0) {
        H5Sclose(space);
    }
    return dset;
}

static herr_t write_dataset(hid_t loc, const char *name, hid_t ftype, hid_t mtype, int rank,
                            const hsize_t *dims, const void *buf, int compress) {
    hid_t dset = create_dataset(loc, name, ftype, rank, dims, compress);
    if (dset < 0) {
        return -1;
    }
    herr_t rc = H5Dwrite(dset, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
    if (H5Dclose(dset) < 0) {
        rc = -1;
    }
    return rc;
}

static herr_t write_model(hid_t file, const ars_arnn *net, const char *dtype) {
    const ars_arch *a = &net->arch;
    hid_t g = H5I_INVALID_HID;
    herr_t rc = -1;
    double states[ARS_HILBERT_MAX_TWO_S + 1];
    for (int i = 0; i < a->hilbert.local_size; i++) {
        states[i] = ars_hilbert_value(&a->hilbert, i);
    }
    hsize_t dims[3] = {(hsize_t)a->hilbert.local_size, 0, 0};
    const double spin = 0.5 * a->hilbert.two_s;
    g = H5Gcreate2(file, "hilbert", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0 || attr_i64(g, "size", a->hilbert.size) < 0 ||
        attr_i64(g, "local_size", a->hilbert.local_size) < 0 ||
        attr_write(g, "spin", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 0, NULL, &spin) < 0 ||
        write_dataset(g, "local_states", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, dims, states, 0) <
            0) {
        goto done;
    }
    const double total_sz = 0.5 * a->hilbert.two_m;
    if (a->hilbert.constrained &&
        attr_write(g, "total_sz", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 0, NULL, &total_sz) < 0) {
        goto done;
    }
    H5Gclose(g);
    g = H5Gcreate2(file, "model", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0 || attr_i64(g, "layers", a->layers) < 0 ||
        attr_i64_array(g, "features", a->features, a->layers) < 0 ||
        attr_i64(g, "kernel_size", a->kernel_size) < 0 ||
        attr_i64_array(g, "kernel_dilation", a->dilation, a->layers) < 0 ||
        attr_string(g, "activation", ars_activation_name(a->activation)) < 0 ||
        attr_string(g, "input", ars_input_name(a->input)) < 0 ||
        attr_i64(g, "use_bias", a->use_bias) < 0 ||
        attr_i64(g, "feature_group_count", a->feature_group_count) < 0 ||
        attr_i64(g, "machine_pow", ARS_MACHINE_POW) < 0 ||
        attr_string(g, "symmetrize", ars_sym_name(a->symmetry)) < 0 ||
        attr_string(g, "dtype", dtype != NULL ? dtype : "float64") < 0) {
        goto done;
    }
    H5Gclose(g);
    g = H5Gcreate2(file, "variables", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0) {
        goto done;
    }
    H5Gclose(g);
    g = H5Gcreate2(file, "variables/params", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0) {
        goto done;
    }
    for (int l = 0; l < a->layers; l++) {
        const ars_conv *c = &net->layer[l];
        char name[64];
        snprintf(name, sizeof name, "layers_%d", l);
        hid_t lg = H5Gcreate2(g, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        if (lg < 0) {
            goto done;
        }
        hsize_t kd[3] = {(hsize_t)c->taps, (hsize_t)(c->cin / c->groups), (hsize_t)c->cout};
        hsize_t bd[1] = {(hsize_t)c->cout};
        herr_t e =
            write_dataset(lg, "kernel", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 3, kd, c->kernel, 0);
        if (e >= 0 && c->bias != NULL) {
            e = write_dataset(lg, "bias", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, bd, c->bias, 0);
        }
        H5Gclose(lg);
        if (e < 0) {
            goto done;
        }
    }
    rc = 0;
done:
    if (g >= 0) {
        H5Gclose(g);
    }
    return rc;
}

/* The root attributes every arsampler file has. */
static herr_t write_root_attributes(hid_t file, const ars_io_meta *meta) {
    if (attr_string(file, "format", ARS_FORMAT_NAME) < 0 ||
        attr_i64(file, "format_version", ARS_FORMAT_VERSION) < 0 ||
        attr_string(file, "arsampler_version", ARS_VERSION) < 0 ||
        attr_string(file, "config", meta->config_text != NULL ? meta->config_text : "") < 0 ||
        attr_write(file, "seed", H5T_STD_U64LE, H5T_NATIVE_UINT64, 0, NULL, &meta->seed) < 0) {
        return -1;
    }
    return 0;
}

static herr_t write_hamiltonian(hid_t file, const ars_ham *H) {
    hid_t g = H5Gcreate2(file, "hamiltonian", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    herr_t rc = -1;
    if (g >= 0 && attr_string(g, "type", ars_ham_type_name(H->type)) >= 0 &&
        attr_write(g, "J", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 0, NULL, &H->J) >= 0 &&
        attr_write(g, "h", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 0, NULL, &H->h) >= 0 &&
        attr_write(g, "Delta", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 0, NULL, &H->Delta) >= 0 &&
        attr_write(g, "J2", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 0, NULL, &H->J2) >= 0 &&
        attr_i64(g, "pbc", H->pbc) >= 0 && attr_i64(g, "marshall_sign", H->marshall_sign) >= 0) {
        rc = 0;
    }
    if (g >= 0) {
        H5Gclose(g);
    }
    return rc;
}

static herr_t write_reference(hid_t file, double energy, const char *method) {
    hid_t g = H5Gcreate2(file, "reference", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    herr_t rc = -1;
    if (g >= 0) {
        hid_t space = H5Screate(H5S_SCALAR);
        hid_t d = space >= 0 ? H5Dcreate2(g, "energy", H5T_IEEE_F64LE, space, H5P_DEFAULT,
                                          H5P_DEFAULT, H5P_DEFAULT)
                             : H5I_INVALID_HID;
        if (d >= 0 && H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, &energy) >= 0 &&
            (method == NULL || attr_string(d, "method", method) >= 0)) {
            rc = 0;
        }
        if (d >= 0) {
            H5Dclose(d);
        }
        if (space >= 0) {
            H5Sclose(space);
        }
        H5Gclose(g);
    }
    return rc;
}

static const char *const log_names[10] = {
    "energy",    "energy_error",      "energy_variance", "vscore",        "relative_error",
    "grad_norm", "distinct_fraction", "seconds",         "learning_rate", "diag_shift"};

static void log_columns(const ars_vmc_log *log, double *cols[10]) {
    cols[0] = log->energy;
    cols[1] = log->energy_error;
    cols[2] = log->energy_variance;
    cols[3] = log->vscore;
    cols[4] = log->relative_error;
    cols[5] = log->grad_norm;
    cols[6] = log->distinct_fraction;
    cols[7] = log->seconds;
    cols[8] = log->learning_rate;
    cols[9] = log->diag_shift;
}

static herr_t write_train(hid_t file, const ars_io_train *tr, size_t P) {
    hid_t g = H5I_INVALID_HID;
    herr_t rc = -1;
    const ars_opt *o = tr->opt;
    const ars_vmc_log *log = tr->log;
    hsize_t pd[1] = {(hsize_t)P}, ld[1] = {(hsize_t)log->len};
    double *cols[10];
    if (write_hamiltonian(file, tr->H) < 0) {
        return -1;
    }
    if (!isnan(tr->exact_energy) && write_reference(file, tr->exact_energy, NULL) < 0) {
        return -1;
    }
    g = H5Gcreate2(file, "optimizer", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    /* The optimizer's type, step count, every hyperparameter and its named state vectors. */
    if (g < 0 || attr_string(g, "type", o->type->name) < 0 || attr_i64(g, "step", o->step) < 0) {
        goto done;
    }
    for (int h = 0; h < ARS_OPT_N_HYPER; h++) {
        if (attr_write(g, ars_opt_hyper_names[h], H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 0, NULL,
                       &o->hyper[h]) < 0) {
            goto done;
        }
    }
    for (int k = 0; k < o->type->n_vectors; k++) {
        if (write_dataset(g, o->type->vectors[k].name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, pd,
                          o->vec[k], 0) < 0) {
            goto done;
        }
    }
    H5Gclose(g);
    g = H5Gcreate2(file, "vmc", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0 || attr_i64(g, "iterations_done", (int64_t)log->len) < 0 ||
        write_dataset(g, "iteration", H5T_STD_I64LE, H5T_NATIVE_INT64, 1, ld, log->iteration, 0) <
            0) {
        goto done;
    }
    log_columns(log, cols);
    for (int i = 0; i < 10; i++) {
        if (write_dataset(g, log_names[i], H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, ld, cols[i], 0) <
            0) {
            goto done;
        }
    }
    if (tr->final != NULL) {
        const ars_vmc_estimate *e = tr->final;
        if (attr_write(g, "final_energy", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 0, NULL, &e->energy) <
                0 ||
            attr_write(g, "final_energy_error", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 0, NULL,
                       &e->energy_error) < 0 ||
            attr_write(g, "final_energy_variance", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 0, NULL,
                       &e->energy_variance) < 0 ||
            attr_write(g, "final_vscore", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 0, NULL, &e->vscore) <
                0 ||
            attr_write(g, "final_relative_error", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 0, NULL,
                       &e->relative_error) < 0 ||
            attr_i64(g, "final_samples", (int64_t)e->n_samples) < 0) {
            goto done;
        }
    }
    rc = 0;
done:
    if (g >= 0) {
        H5Gclose(g);
    }
    return rc;
}

/* Opens "<path>.tmp.<pid>" for writing after making the folders; H5I_INVALID_HID on failure. */
static herr_t write_scalar(hid_t loc, const char *name, hid_t ftype, hid_t mtype, const void *v) {
    hid_t space = H5Screate(H5S_SCALAR);
    hid_t d = space >= 0
                  ? H5Dcreate2(loc, name, ftype, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)
                  : H5I_INVALID_HID;
    herr_t rc = d >= 0 ? H5Dwrite(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) : -1;
    if (d >= 0 && H5Dclose(d) < 0) {
        rc = -1;
    }
    if (space >= 0) {
        H5Sclose(space);
    }
    return rc;
}

/* /observables/NAME/{mean, error, n_samples, ...} of one measured observable. */
static herr_t write_observable(hid_t parent, int k, const ars_obs_value *v) {
    hid_t g = H5Gcreate2(parent, ars_obs_names[k], H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0) {
        return -1;
    }
    herr_t rc = attr_string(g, "description", ars_obs_description((ars_obs_kind)k));
    hsize_t dims[1] = {(hsize_t)v->len};
    if (rc >= 0 && v->len > 0) {
        rc = write_dataset(g, "mean", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, dims, v->mean, 0);
        if (rc >= 0) {
            rc = write_dataset(g, "error", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, dims, v->error, 0);
        }
    } else if (rc >= 0) {
        rc = write_scalar(g, "mean", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, v->mean);
        if (rc >= 0) {
            rc = write_scalar(g, "error", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, v->error);
        }
    }
    if (rc >= 0) {
        rc = write_scalar(g, "n_samples", H5T_STD_I64LE, H5T_NATIVE_INT64, &v->n_samples);
    }
    if (rc >= 0 && k == ARS_OBS_ENERGY) {
        rc = write_scalar(g, "variance", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &v->variance);
    }
    if (rc >= 0 && v->coord != NULL) {
        rc = write_dataset(g, k == ARS_OBS_RENYI2 ? "cuts" : "distance", H5T_STD_I64LE,
                           H5T_NATIVE_INT64, 1, dims, v->coord, 0);
        if (rc >= 0 && k != ARS_OBS_RENYI2) {
            rc = attr_i64(g, "centre", v->centre);
        }
    }
    if (rc >= 0 && v->k != NULL) {
        rc = write_dataset(g, "k", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, dims, v->k, 0);
    }
    if (H5Gclose(g) < 0) {
        rc = -1;
    }
    return rc;
}

static herr_t write_observables(hid_t file, const ars_obs_result *obs, const char *source) {
    hid_t g = H5Gcreate2(file, "observables", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0) {
        return -1;
    }
    herr_t rc = attr_i64(g, "n_samples", obs->n_samples);
    if (rc >= 0) {
        rc = attr_i64(g, "pbc", obs->pbc);
    }
    if (rc >= 0) {
        rc = attr_i64(g, "marshall_sign", obs->marshall_sign);
    }
    if (rc >= 0) {
        rc = attr_string(g, "source", source != NULL ? source : "samples");
    }
    for (int k = 0; k < ARS_OBS_COUNT && rc >= 0; k++) {
        if (obs->mask & (1u << k)) {
            rc = write_observable(g, k, &obs->v[k]);
        }
    }
    if (H5Gclose(g) < 0) {
        rc = -1;
    }
    return rc;
}

/* ---- the temporary file ------------------------------------------------------------------ */

/* A file is built in memory (HDF5's core driver, no backing store), then written with plain
 * write(2) calls to "<path>.tmp.<pid>", flushed to disk and renamed into place. HDF5 1.10 does not
 * survive a failed H5Fclose (a full disk, a file-size limit): it frees the file but keeps its id
 * and crashes at exit. In memory nothing fails half-way, and our own write reports the system's
 * reason (ENOSPC, EFBIG, EIO, ...) in one line. */
typedef struct out_file {
    char tmp[4200];
    hid_t id;
    unsigned char *image; /* the core driver's buffer, kept when the file is closed */
    size_t image_cap;     /* its allocated size */
} out_file;

static void *image_malloc(size_t size, H5FD_file_image_op_t op, void *udata) {
    (void)op;
    out_file *o = udata;
    void *p = malloc(size > 0 ? size : 1);
    if (p != NULL) {
        o->image_cap = size;
    }
    return p;
}

static void *image_memcpy(void *dest, const void *src, size_t size, H5FD_file_image_op_t op,
                          void *udata) {
    (void)op;
    (void)udata;
    return memcpy(dest, src, size);
}

static void *image_realloc(void *ptr, size_t size, H5FD_file_image_op_t op, void *udata) {
    (void)op;
    out_file *o = udata;
    void *p = realloc(ptr, size > 0 ? size : 1);
    if (p != NULL) {
        o->image_cap = size;
    }
    return p;
}

static herr_t image_free(void *ptr, H5FD_file_image_op_t op, void *udata) {
    out_file *o = udata;
    if (op == H5FD_FILE_IMAGE_OP_FILE_CLOSE && ptr != NULL && o->image == NULL) {
        o->image = ptr; /* written out by out_commit */
    } else {
        free(ptr);
    }
    return 0;
}

static void *image_udata_copy(void *udata) {
    return udata;
}

static herr_t image_udata_free(void *udata) {
    (void)udata;
    return 0;
}

/* The end-of-file address that the superblock of an HDF5 image records (the image's length). */
static int image_length(const unsigned char *img, size_t cap, size_t *len) {
    static const unsigned char sig[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    if (img == NULL || cap < 64 || memcmp(img, sig, 8) != 0) {
        return -1;
    }
    const unsigned version = img[8];
    size_t at, size_of_offsets;
    if (version <= 1) { /* base address, free-space address, end-of-file address */
        size_of_offsets = img[13];
        at = (version == 1 ? 28 : 24) + 2 * size_of_offsets;
    } else if (version <= 3) { /* base address, extension address, end-of-file address */
        size_of_offsets = img[9];
        at = 12 + 2 * size_of_offsets;
    } else {
        return -1;
    }
    if (size_of_offsets < 2 || size_of_offsets > 8 || at + size_of_offsets > cap) {
        return -1;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < size_of_offsets; i++) {
        v |= (uint64_t)img[at + i] << (8 * i);
    }
    if (v < 64 || v > cap) {
        return -1;
    }
    *len = (size_t)v;
    return 0;
}

void ars_io_temporary_name(char *buf, size_t len, const char *path) {
    snprintf(buf, len, "%s.tmp.%ld", path, (long)getpid());
}

/* Starts an output file: makes the folders of `path` and an empty HDF5 file in memory. Returns 0,
 * or an errno value (the folders), or -1 (HDF5) with o->id invalid. */
static int out_open(out_file *o, const char *path) {
    silence_hdf5();
    memset(o, 0, sizeof *o);
    o->id = H5I_INVALID_HID;
    ars_io_temporary_name(o->tmp, sizeof o->tmp, path);
    if (make_parent_dirs(path) != 0) {
        return errno != 0 ? errno : EIO;
    }
    H5FD_file_image_callbacks_t cb = {image_malloc,
                                      image_memcpy,
                                      image_realloc,
                                      image_free,
                                      image_udata_copy,
                                      image_udata_free,
                                      o};
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl >= 0 && H5Pset_fapl_core(fapl, (size_t)1 << 20, 0) >= 0 &&
        H5Pset_file_image_callbacks(fapl, &cb) >= 0) {
        o->id = H5Fcreate(o->tmp, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    }
    if (fapl >= 0) {
        H5Pclose(fapl);
    }
    return o->id >= 0 ? 0 : -1;
}

/* Writes n bytes to a new file `name`, flushed to disk. Returns 0 or an errno value. */
static int write_whole_file(const char *name, const unsigned char *buf, size_t n) {
    int fd = open(name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) {
        return errno;
    }
    int err = 0;
    size_t done = 0;
    while (done < n && err == 0) {
        ssize_t k = write(fd, buf + done, n - done);
        if (k > 0) {
            done += (size_t)k;
        } else if (k == 0) {
            err = EIO;
        } else if (errno != EINTR) {
            err = errno;
        }
    }
    if (err == 0 && fsync(fd) != 0 && errno != EINVAL && errno != EROFS) {
        err = errno;
    }
    if (close(fd) != 0 && err == 0 && errno != EINTR) {
        err = errno;
    }
    return err;
}

/* Flushes the folder of `path`, so that a rename in it survives a crash (best effort). */
static void sync_folder(const char *path) {
    char dir[4200];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash == NULL) {
        snprintf(dir, sizeof dir, ".");
    } else if (slash == dir) {
        dir[1] = '\0';
    } else {
        *slash = '\0';
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

/* Finishes an output file: closes the in-memory file and, when `ok`, writes it to the temporary
 * file and renames that into place. On any failure nothing is left behind, `path` is unchanged,
 * and one message says why (`what` failed while building the file when !ok). */
static int out_commit(out_file *o, const char *path, int ok, const char *what) {
    char reason[512] = "";
    if (!ok && o->id >= 0) {
        hdf5_reason(reason, sizeof reason);
    }
    if (o->id >= 0 && H5Fclose(o->id) < 0 && ok) {
        ok = 0;
        what = "close the file";
        hdf5_reason(reason, sizeof reason);
    }
    o->id = H5I_INVALID_HID;
    int err = 0;
    size_t len = 0;
    if (ok && image_length(o->image, o->image_cap, &len) != 0) {
        ok = 0;
        what = "find the end of the file in memory";
        snprintf(reason, sizeof reason, "no valid superblock");
    }
    if (ok) {
        err = write_whole_file(o->tmp, o->image, len);
        if (err == 0 && rename(o->tmp, path) != 0) {
            err = errno;
        }
        if (err != 0) {
            unlink(o->tmp);
        }
    }
    free(o->image);
    o->image = NULL;
    if (!ok || err != 0) {
        /* What the user finds at `path`: the file that was there, or none. */
        const char *left = access(path, F_OK) == 0 ? "is unchanged" : "was not created";
        if (!ok) {
            return ARS_ERR(ARS_STATUS_EIO, "cannot %s of '%s' (%s); '%s' %s", what, path, reason,
                           path, left);
        }
        return ARS_ERR(ARS_STATUS_EIO, "cannot write '%s': %s; '%s' %s", path, strerror(err), path,
                       left);
    }
    sync_folder(path);
    return ARS_OK;
}

/* The message for an out_open failure (rc from out_open). */
static int out_open_failed(out_file *o, const char *path, int rc) {
    if (rc > 0) {
        return ARS_ERR(ARS_STATUS_EIO, "cannot write '%s': cannot create its folder: %s", path,
                       strerror(rc));
    }
    return out_commit(o, path, 0, "create the file in memory");
}

int ars_io_write(const char *path, const ars_io_meta *meta, const ars_arnn *net, const uint8_t *cfg,
                 const double *log_prob, size_t n, const ars_io_train *train) {
    out_file o;
    int8_t *values = NULL;
    const char *what = "write the root attributes";
    const int opened = out_open(&o, path);
    if (opened != 0) {
        return out_open_failed(&o, path, opened);
    }
    if (write_root_attributes(o.id, meta) < 0) {
        goto fail;
    }
    what = "write /hilbert, /model and /variables";
    if (write_model(o.id, net, meta->dtype) < 0) {
        goto fail;
    }
    if (n > 0) {
        const int L = net->arch.hilbert.size;
        what = "write /samples";
        values = malloc(n * (size_t)L);
        if (values == NULL) {
            goto fail;
        }
        ars_hilbert_to_values(&net->arch.hilbert, values, cfg, n);
        hsize_t sd[2] = {(hsize_t)n, (hsize_t)L};
        if (write_dataset(o.id, "samples", H5T_STD_I8LE, H5T_NATIVE_INT8, 2, sd, values, 1) < 0) {
            goto fail;
        }
        free(values);
        values = NULL;
        what = "write /log_prob";
        hsize_t ld[1] = {(hsize_t)n};
        if (write_dataset(o.id, "log_prob", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, ld, log_prob, 1) <
            0) {
            goto fail;
        }
    }
    if (train != NULL) {
        what = "write the training state (/hamiltonian, /optimizer, /vmc)";
        if (write_train(o.id, train, net->n_params) < 0) {
            goto fail;
        }
    }
    if (train == NULL && meta->H != NULL) {
        what = "write /hamiltonian and /reference";
        if (write_hamiltonian(o.id, meta->H) < 0 ||
            (!isnan(meta->exact_energy) && write_reference(o.id, meta->exact_energy, NULL) < 0)) {
            goto fail;
        }
    }
    if (meta->obs != NULL) {
        what = "write /observables";
        if (write_observables(o.id, meta->obs, meta->obs_source) < 0) {
            goto fail;
        }
    }
    return out_commit(&o, path, 1, NULL);
fail:
    free(values);
    return out_commit(&o, path, 0, what);
}

/* ---- reading ----------------------------------------------------------------------------- */

/* HDF5 1.10 trusts some sizes recorded in a file: a corrupt global heap (where variable-length
 * strings live) makes H5HG_read copy far out of bounds and crash. While an input file is read, a
 * crash (SIGSEGV, SIGBUS) therefore ends the program with one message naming the file and the
 * exit status of a bad input (2), instead of a core dump. Not under AddressSanitizer, which
 * reports such reads itself. */
#if defined(__SANITIZE_ADDRESS__)
#define ARS_CRASH_GUARD 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ARS_CRASH_GUARD 0
#endif
#endif
#ifndef ARS_CRASH_GUARD
#define ARS_CRASH_GUARD 1
#endif

#if ARS_CRASH_GUARD
static char crash_message[4600];
static size_t crash_length;
static int crash_status;
static struct sigaction crash_old_segv, crash_old_bus;

static void crash_handler(int sig) {
    (void)sig;
    ssize_t written = write(STDERR_FILENO, crash_message, crash_length);
    (void)written;
    _exit(crash_status);
}
#endif

static void guard_begin(const char *path) {
#if ARS_CRASH_GUARD
    int k = snprintf(crash_message, sizeof crash_message,
                     "arsampler: error: '%s' is corrupt: the HDF5 library crashed reading it (a "
                     "damaged internal size or address); the file cannot be used\n",
                     path);
    crash_length = k < 0                              ? 0
                   : (size_t)k < sizeof crash_message ? (size_t)k
                                                      : sizeof crash_message - 1;
    crash_status = ars_exit_code(ARS_STATUS_EINPUT);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = crash_handler;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, &crash_old_segv);
    sigaction(SIGBUS, &sa, &crash_old_bus);
#else
    (void)path;
#endif
}

static int guard_end(int rc) {
#if ARS_CRASH_GUARD
    sigaction(SIGSEGV, &crash_old_segv, NULL);
    sigaction(SIGBUS, &crash_old_bus, NULL);
#endif
    return rc;
}

/* Opens an existing HDF5 file read-only, with one message saying what is wrong otherwise: missing,
 * unreadable, a folder, empty, not HDF5, truncated or corrupt. */
static hid_t open_input(const char *path) {
    silence_hdf5();
    struct stat st;
    if (stat(path, &st) != 0 || access(path, R_OK) != 0) {
        ARS_ERR(ARS_STATUS_EINPUT, "cannot read '%s': %s", path, strerror(errno));
        return H5I_INVALID_HID;
    }
    if (S_ISDIR(st.st_mode)) {
        ARS_ERR(ARS_STATUS_EINPUT, "'%s' is a folder, not an HDF5 file", path);
        return H5I_INVALID_HID;
    }
    if (!S_ISREG(st.st_mode)) {
        ARS_ERR(ARS_STATUS_EINPUT, "'%s' is not a regular file, so not an HDF5 file", path);
        return H5I_INVALID_HID;
    }
    if (st.st_size == 0) {
        ARS_ERR(ARS_STATUS_EINPUT, "'%s' is empty (0 bytes), not an HDF5 file", path);
        return H5I_INVALID_HID;
    }
    if (is_hdf5_file(path) <= 0) {
        ARS_ERR(ARS_STATUS_EINPUT,
                "'%s' is not an HDF5 file (no HDF5 signature; it is another kind of file, or "
                "its beginning is missing or overwritten)",
                path);
        return H5I_INVALID_HID;
    }
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file < 0) {
        char why[512];
        unsigned long long eof = 0, base = 0, stored = 0;
        hdf5_reason(why, sizeof why);
        if (sscanf(why, "truncated file: eof = %llu, sblock->base_addr = %llu, stored_eof = %llu",
                   &eof, &base, &stored) == 3) {
            ARS_ERR(ARS_STATUS_EINPUT,
                    "'%s' is truncated: it has %llu bytes but its HDF5 superblock says %llu "
                    "(an interrupted copy or write?)",
                    path, eof, stored);
        } else {
            ARS_ERR(ARS_STATUS_EINPUT, "'%s' is truncated or corrupt: HDF5 cannot open it (%s)",
                    path, why);
        }
    }
    return file;
}

/* If the file says what it is, it must be an arsampler file of our format version. */
static int check_format(hid_t file, const char *path) {
    char fmt[64];
    if (H5Aexists(file, "format") > 0) {
        if (attr_read_string(file, "format", fmt, sizeof fmt) != 0 ||
            strcmp(fmt, ARS_FORMAT_NAME) != 0) {
            return ARS_ERR(ARS_STATUS_EINPUT,
                           "'%s': root attribute 'format' is not \"" ARS_FORMAT_NAME
                           "\"; not an arsampler file",
                           path);
        }
    }
    if (H5Aexists(file, "format_version") > 0) {
        int64_t v = -1;
        if (attr_read_i64(file, "format_version", &v, 1) != 0) {
            return ARS_ERR(ARS_STATUS_EINPUT,
                           "'%s': root attribute 'format_version' is not one integer; not an "
                           "arsampler file of a known format",
                           path);
        }
        if (v != ARS_FORMAT_VERSION) {
            return ARS_ERR(ARS_STATUS_EINPUT,
                           "'%s': format_version %lld, but this arsampler reads version %d; "
                           "HINT: use the arsampler version that wrote it",
                           path, (long long)v, ARS_FORMAT_VERSION);
        }
    }
    return ARS_OK;
}

static int read_arch_from(hid_t file, const char *path, ars_arch *arch) {
    int64_t size, local_size, layers, ks, groups, use_bias;
    int64_t feat[ARS_MAX_LAYERS], dil[ARS_MAX_LAYERS];
    char act[32], input[32], sym[32] = "none";
    double total_sz = (double)NAN;
    const char *missing = NULL;
    memset(arch, 0, sizeof *arch);
    if (H5Lexists(file, "model", H5P_DEFAULT) <= 0) {
        return ARS_ERR(ARS_STATUS_EINPUT, "'%s' has no /model group", path);
    }
    if (H5Lexists(file, "hilbert", H5P_DEFAULT) <= 0) {
        return ARS_ERR(ARS_STATUS_EINPUT, "'%s' has no /hilbert group", path);
    }
    hid_t h = H5Gopen2(file, "hilbert", H5P_DEFAULT);
    hid_t m = H5Gopen2(file, "model", H5P_DEFAULT);
    if (h < 0) {
        missing = "/hilbert (not a group)";
    } else if (m < 0) {
        missing = "/model (not a group)";
    } else if (attr_read_i64(h, "size", &size, 1) != 0) {
        missing = "/hilbert attribute 'size'";
    } else if (attr_read_i64(h, "local_size", &local_size, 1) != 0) {
        missing = "/hilbert attribute 'local_size'";
    } else if (attr_read_i64(m, "layers", &layers, 1) != 0 || layers < 1 ||
               layers > ARS_MAX_LAYERS) {
        missing = "/model attribute 'layers'";
    } else if (attr_read_i64(m, "features", feat, (int)layers) != 0) {
        missing = "/model attribute 'features'";
    } else if (attr_read_i64(m, "kernel_size", &ks, 1) != 0) {
        missing = "/model attribute 'kernel_size'";
    } else if (attr_read_i64(m, "kernel_dilation", dil, (int)layers) != 0) {
        missing = "/model attribute 'kernel_dilation'";
    } else if (attr_read_i64(m, "feature_group_count", &groups, 1) != 0) {
        missing = "/model attribute 'feature_group_count'";
    } else if (attr_read_i64(m, "use_bias", &use_bias, 1) != 0) {
        missing = "/model attribute 'use_bias'";
    } else if (attr_read_string(m, "activation", act, sizeof act) != 0) {
        missing = "/model attribute 'activation'";
    } else if (attr_read_string(m, "input", input, sizeof input) != 0) {
        missing = "/model attribute 'input'";
    } else if (H5Aexists(m, "symmetrize") > 0 &&
               attr_read_string(m, "symmetrize", sym, sizeof sym) != 0) {
        missing = "/model attribute 'symmetrize'";
    } else if (H5Aexists(h, "total_sz") > 0 && attr_read_f64(h, "total_sz", &total_sz) != 0) {
        missing = "/hilbert attribute 'total_sz'";
    }
    if (h >= 0) {
        H5Gclose(h);
    }
    if (m >= 0) {
        H5Gclose(m);
    }
    if (missing != NULL) {
        return ARS_ERR(ARS_STATUS_EINPUT, "'%s': %s is missing or invalid", path, missing);
    }
    if (size < 1 || size > 100000000 || local_size < 2 || local_size > ARS_HILBERT_MAX_TWO_S + 1) {
        return ARS_ERR(ARS_STATUS_EINPUT,
                       "'%s': /hilbert size %lld or local_size %lld out of range", path,
                       (long long)size, (long long)local_size);
    }
    ars_hilbert_init(&arch->hilbert, (int)size, (int)local_size - 1);
    arch->layers = (int)layers;
    arch->kernel_size = (int)ks;
    arch->feature_group_count = (int)groups;
    arch->use_bias = use_bias != 0;
    for (int l = 0; l < layers; l++) {
        arch->features[l] = (int)(feat[l] > 0 && feat[l] < 1000000 ? feat[l] : 0);
        arch->dilation[l] = (int)(dil[l] > 0 && dil[l] < 100000000 ? dil[l] : 0);
    }
    int a = -1;
    for (int i = 0; i <= ARS_ACTIVATION_IDENTITY; i++) {
        if (strcmp(act, ars_activation_name((ars_activation)i)) == 0) {
            a = i;
        }
    }
    int in = strcmp(input, "value") == 0    ? ARS_INPUT_VALUE
             : strcmp(input, "onehot") == 0 ? ARS_INPUT_ONEHOT
                                            : -1;
    if (a < 0) {
        return ARS_ERR(ARS_STATUS_EINPUT,
                       "'%s': unknown /model activation '%s' (selu, tanh, relu, gelu or identity)",
                       path, act);
    }
    if (in < 0) {
        return ARS_ERR(ARS_STATUS_EINPUT, "'%s': unknown /model input '%s' (value or onehot)", path,
                       input);
    }
    arch->activation = (ars_activation)a;
    arch->input = (ars_input)in;
    if (ars_sym_parse(sym, &arch->symmetry) != 0) {
        return ARS_ERR(ARS_STATUS_EINPUT,
                       "'%s': unknown /model symmetrize '%s' (none, spin_flip, reflection or "
                       "both)",
                       path, sym);
    }
    if (!isnan(total_sz)) {
        const double twice = 2.0 * total_sz;
        if (!isfinite(twice) || twice != floor(twice) || fabs(twice) > 1e9 ||
            !ars_hilbert_sector_reachable(&arch->hilbert, (long)twice)) {
            return ARS_ERR(ARS_STATUS_EINPUT,
                           "'%s': /hilbert total_sz %g is not a sector of %lld sites of spin %g",
                           path, total_sz, (long long)size, 0.5 * (double)(local_size - 1));
        }
        ars_hilbert_set_sector(&arch->hilbert, (int)twice);
    }
    char why[256];
    if (groups < 1 || groups > 4096 || ks < 2 || ks > 1024 ||
        ars_arch_check(arch, why, sizeof why) != 0) {
        return ARS_ERR(ARS_STATUS_EINPUT, "'%s': the /model it records is not valid: %s", path,
                       groups < 1 || groups > 4096 || ks < 2 || ks > 1024
                           ? "kernel_size or feature_group_count out of range"
                           : why);
    }
    return ARS_OK;
}

static int read_arch_file(const char *path, ars_arch *arch) {
    hid_t file = open_input(path);
    if (file < 0) {
        return ARS_STATUS_EINPUT;
    }
    int rc = check_format(file, path);
    if (rc == ARS_OK) {
        rc = read_arch_from(file, path, arch);
    }
    H5Fclose(file);
    return rc;
}

/* Compares the file's recorded architecture with the network's; the chain size only `with_size`
 * (--resume: the same run goes on; [model] init may take the variables to another size). */
static int compare_arch(const ars_arch *f, const ars_arch *n, const char *path, int with_size) {
    char fv[128] = "", nv[128] = "";
    const char *what = NULL;
    if (with_size && f->hilbert.size != n->hilbert.size) {
        what = "/hilbert size";
        snprintf(fv, sizeof fv, "%d", f->hilbert.size);
        snprintf(nv, sizeof nv, "%d ([system] size)", n->hilbert.size);
    } else if (f->hilbert.local_size != n->hilbert.local_size) {
        what = "/hilbert local_size";
        snprintf(fv, sizeof fv, "%d", f->hilbert.local_size);
        snprintf(nv, sizeof nv, "%d ([system] spin)", n->hilbert.local_size);
    } else if (f->layers != n->layers) {
        what = "/model layers";
        snprintf(fv, sizeof fv, "%d", f->layers);
        snprintf(nv, sizeof nv, "%d ([model] layers)", n->layers);
    } else if (f->kernel_size != n->kernel_size) {
        what = "/model kernel_size";
        snprintf(fv, sizeof fv, "%d", f->kernel_size);
        snprintf(nv, sizeof nv, "%d ([model] kernel_size)", n->kernel_size);
    } else if (f->activation != n->activation) {
        what = "/model activation";
        snprintf(fv, sizeof fv, "%s", ars_activation_name(f->activation));
        snprintf(nv, sizeof nv, "%s ([model] activation)", ars_activation_name(n->activation));
    } else if (f->input != n->input) {
        what = "/model input";
        snprintf(fv, sizeof fv, "%s", ars_input_name(f->input));
        snprintf(nv, sizeof nv, "%s ([model] input)", ars_input_name(n->input));
    } else if (f->use_bias != n->use_bias) {
        what = "/model use_bias";
        snprintf(fv, sizeof fv, "%d", f->use_bias);
        snprintf(nv, sizeof nv, "%d ([model] use_bias)", n->use_bias);
    } else if (with_size && f->symmetry != n->symmetry) {
        what = "/model symmetrize";
        snprintf(fv, sizeof fv, "%s", ars_sym_name(f->symmetry));
        snprintf(nv, sizeof nv, "%s ([model] symmetrize)", ars_sym_name(n->symmetry));
    } else if (with_size && (f->hilbert.constrained != n->hilbert.constrained ||
                             f->hilbert.two_m != n->hilbert.two_m)) {
        what = "/hilbert total_sz";
        if (f->hilbert.constrained) {
            snprintf(fv, sizeof fv, "%g", 0.5 * f->hilbert.two_m);
        } else {
            snprintf(fv, sizeof fv, "none");
        }
        if (n->hilbert.constrained) {
            snprintf(nv, sizeof nv, "%g ([system] total_sz)", 0.5 * n->hilbert.two_m);
        } else {
            snprintf(nv, sizeof nv, "none ([system] total_sz)");
        }
    } else if (f->feature_group_count != n->feature_group_count && n->layers >= 3) {
        what = "/model feature_group_count";
        snprintf(fv, sizeof fv, "%d", f->feature_group_count);
        snprintf(nv, sizeof nv, "%d ([model] feature_group_count)", n->feature_group_count);
    } else {
        for (int l = 0; l < n->layers && what == NULL; l++) {
            if (f->features[l] != n->features[l]) {
                what = "/model features";
                snprintf(fv, sizeof fv, "%d in layer %d", f->features[l], l);
                snprintf(nv, sizeof nv, "%d ([model] features)", n->features[l]);
            } else if (f->dilation[l] != n->dilation[l]) {
                what = "/model kernel_dilation";
                snprintf(fv, sizeof fv, "%d in layer %d", f->dilation[l], l);
                snprintf(nv, sizeof nv, "%d ([model] kernel_dilation)", n->dilation[l]);
            }
        }
    }
    if (what != NULL) {
        return ARS_ERR(ARS_STATUS_EINPUT, "'%s': the file's %s is %s but the config has %s; %s",
                       path, what, fv, nv,
                       with_size ? "--resume continues that run, so the config must describe "
                                   "the same chain and network"
                                 : "the variables do not fit this network");
    }
    return ARS_OK;
}

/* "[d0, d1, ...]" of a dataspace. */
static void shape_text(hid_t space, char *buf, size_t len) {
    hsize_t dims[32];
    int rank = H5Sget_simple_extent_ndims(space);
    snprintf(buf, len, "[");
    if (rank > 0 && rank <= 32 && H5Sget_simple_extent_dims(space, dims, NULL) == rank) {
        for (int i = 0; i < rank; i++) {
            size_t at = strlen(buf);
            snprintf(buf + at, len - at, i ? ", %llu" : "%llu", (unsigned long long)dims[i]);
        }
    } else if (rank != 0) {
        snprintf(buf, len, "[?");
    }
    size_t at = strlen(buf);
    snprintf(buf + at, len - at, "]");
}

/* Opens the dataset `name` (an absolute path, as named in messages) or says, in one message,
 * that it is missing (`expect` says what was expected) or not a dataset. */
static hid_t open_dataset(hid_t file, const char *path, const char *name, const char *expect) {
    /* H5Lexists on a path needs the parents to exist; treat any failure as missing. */
    if (H5Lexists(file, name, H5P_DEFAULT) <= 0) {
        ARS_ERR(ARS_STATUS_EINPUT, "'%s': dataset %s is missing%s", path, name, expect);
        return H5I_INVALID_HID;
    }
    hid_t obj = H5Oopen(file, name, H5P_DEFAULT);
    if (obj < 0) {
        char why[512];
        hdf5_reason(why, sizeof why);
        ARS_ERR(ARS_STATUS_EINPUT, "'%s': cannot open %s (%s)", path, name, why);
        return H5I_INVALID_HID;
    }
    if (H5Iget_type(obj) != H5I_DATASET) {
        H5Oclose(obj);
        ARS_ERR(ARS_STATUS_EINPUT, "'%s': %s is not a dataset (a group or a named type)%s", path,
                name, expect);
        return H5I_INVALID_HID;
    }
    return obj;
}

/* Reads a whole dataset, converted to mtype, with one message naming it on failure. */
static int read_dataset(hid_t dset, hid_t mtype, void *out, const char *path, const char *name) {
    if (H5Dread(dset, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) < 0) {
        char why[512];
        hdf5_reason(why, sizeof why);
        return ARS_ERR(ARS_STATUS_EINPUT, "'%s': cannot read dataset %s: the file is corrupt (%s)",
                       path, name, why);
    }
    return ARS_OK;
}

/* The first non-finite value of x, or -1. */
static long first_non_finite(const double *x, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i])) {
            return (long)i;
        }
    }
    return -1;
}

/* Reads one float dataset of exactly the expected shape into out, all values finite. */
static int read_variable(hid_t file, const char *path, const char *name, int rank,
                         const hsize_t *want, double *out) {
    hid_t dset = H5I_INVALID_HID, space = H5I_INVALID_HID, type = H5I_INVALID_HID;
    int rc = ARS_STATUS_EINPUT;
    char shape_want[160] = "[", shape_got[160] = "";
    for (int i = 0; i < rank; i++) {
        size_t at = strlen(shape_want);
        snprintf(shape_want + at, sizeof shape_want - at, i ? ", %llu" : "%llu",
                 (unsigned long long)want[i]);
    }
    strncat(shape_want, "]", sizeof shape_want - strlen(shape_want) - 1);
    char expect[200];
    snprintf(expect, sizeof expect, " (expected float64 %s)", shape_want);
    dset = open_dataset(file, path, name, expect);
    if (dset < 0) {
        return ARS_STATUS_EINPUT;
    }
    if ((space = H5Dget_space(dset)) < 0 || (type = H5Dget_type(dset)) < 0) {
        ARS_ERR(ARS_STATUS_EINPUT, "'%s': cannot open dataset %s", path, name);
        goto done;
    }
    if (H5Tget_class(type) != H5T_FLOAT) {
        ARS_ERR(ARS_STATUS_EINPUT, "'%s': dataset %s is not floating point%s", path, name, expect);
        goto done;
    }
    hsize_t dims[32] = {0};
    int frank = H5Sget_simple_extent_ndims(space);
    int same = frank == rank && H5Sget_simple_extent_type(space) == H5S_SIMPLE &&
               H5Sget_simple_extent_dims(space, dims, NULL) == rank;
    for (int i = 0; same && i < rank; i++) {
        same = dims[i] == want[i];
    }
    if (!same) {
        shape_text(space, shape_got, sizeof shape_got);
        ARS_ERR(ARS_STATUS_EINPUT,
                "'%s': dataset %s has shape %s but this network needs %s (check [model] "
                "features, kernel_size, feature_group_count, input and [system] spin)",
                path, name, shape_got, shape_want);
        goto done;
    }
    if (read_dataset(dset, H5T_NATIVE_DOUBLE, out, path, name) != ARS_OK) {
        goto done;
    }
    size_t count = 1;
    for (int i = 0; i < rank; i++) {
        count *= want[i];
    }
    long bad = first_non_finite(out, count);
    if (bad >= 0) {
        ARS_ERR(ARS_STATUS_EINPUT,
                "'%s': dataset %s holds a non-finite value (%g at flat index %ld)", path, name,
                out[bad], bad);
        goto done;
    }
    rc = ARS_OK;
done:
    if (type >= 0) {
        H5Tclose(type);
    }
    if (space >= 0) {
        H5Sclose(space);
    }
    H5Dclose(dset);
    return rc;
}

static int load_variables(const char *path, ars_arnn *net) {
    hid_t file = open_input(path);
    if (file < 0) {
        return ARS_STATUS_EINPUT;
    }
    double *tmp = NULL;
    int rc = check_format(file, path);
    if (rc == ARS_OK && H5Lexists(file, "model", H5P_DEFAULT) > 0) {
        ars_arch recorded;
        rc = read_arch_from(file, path, &recorded);
        if (rc == ARS_OK) {
            rc = compare_arch(&recorded, &net->arch, path, 0);
        }
        if (rc == ARS_OK && recorded.symmetry != net->arch.symmetry) {
            ars_warn("'%s' holds variables of a network with symmetrize = %s; this run uses "
                     "symmetrize = %s, so the same variables describe another state",
                     path, ars_sym_name(recorded.symmetry), ars_sym_name(net->arch.symmetry));
        }
    }
    if (rc == ARS_OK && (H5Lexists(file, "variables", H5P_DEFAULT) <= 0 ||
                         H5Lexists(file, "variables/params", H5P_DEFAULT) <= 0)) {
        rc = ARS_ERR(ARS_STATUS_EINPUT, "'%s' has no /variables/params group", path);
    }
    if (rc == ARS_OK) {
        tmp = malloc(net->n_params * sizeof(double));
        if (tmp == NULL) {
            rc = ARS_ERR(ARS_STATUS_ENOMEM, "out of memory loading '%s'", path);
        }
    }
    for (int l = 0; rc == ARS_OK && tmp != NULL && l < net->arch.layers; l++) {
        const ars_conv *c = &net->layer[l];
        char name[96];
        snprintf(name, sizeof name, "/variables/params/layers_%d", l);
        if (H5Lexists(file, name, H5P_DEFAULT) <= 0) {
            rc = ARS_ERR(ARS_STATUS_EINPUT, "'%s': group %s is missing (the config has %d layers)",
                         path, name, net->arch.layers);
            break;
        }
        hsize_t kd[3] = {(hsize_t)c->taps, (hsize_t)(c->cin / c->groups), (hsize_t)c->cout};
        hsize_t bd[1] = {(hsize_t)c->cout};
        snprintf(name, sizeof name, "/variables/params/layers_%d/kernel", l);
        rc = read_variable(file, path, name, 3, kd, tmp + (c->kernel - net->params));
        snprintf(name, sizeof name, "/variables/params/layers_%d/bias", l);
        if (rc == ARS_OK && c->bias != NULL) {
            rc = read_variable(file, path, name, 1, bd, tmp + (c->bias - net->params));
        } else if (rc == ARS_OK && H5Lexists(file, name, H5P_DEFAULT) > 0) {
            rc = ARS_ERR(ARS_STATUS_EINPUT,
                         "'%s': dataset %s exists but [model] use_bias = false; set use_bias = "
                         "true to use it",
                         path, name);
        }
    }
    if (rc == ARS_OK) {
        char extra[96];
        snprintf(extra, sizeof extra, "/variables/params/layers_%d", net->arch.layers);
        if (H5Lexists(file, extra, H5P_DEFAULT) > 0) {
            rc = ARS_ERR(ARS_STATUS_EINPUT,
                         "'%s' has a group %s: it holds more layers than the "
                         "config's %d",
                         path, extra, net->arch.layers);
        }
    }
    if (rc == ARS_OK && tmp != NULL) {
        memcpy(net->params, tmp, net->n_params * sizeof(double));
    }
    free(tmp);
    H5Fclose(file);
    return rc;
}

static int read_samples(const char *path, const ars_hilbert *h, uint8_t **cfg, double **log_prob,
                        size_t *n) {
    hid_t file = open_input(path);
    if (file < 0) {
        return ARS_STATUS_EINPUT;
    }
    hid_t dset = H5I_INVALID_HID, space = H5I_INVALID_HID, type = H5I_INVALID_HID;
    int8_t *values = NULL;
    uint8_t *c = NULL;
    double *lp = NULL;
    int rc = check_format(file, path);
    hsize_t dims[2] = {0, 0};
    char shape[160];
    if (rc != ARS_OK) {
        goto done;
    }
    rc = ARS_STATUS_EINPUT;
    dset = open_dataset(file, path, "/samples", "");
    if (dset < 0) {
        goto done;
    }
    if ((space = H5Dget_space(dset)) < 0 || (type = H5Dget_type(dset)) < 0) {
        ARS_ERR(ARS_STATUS_EINPUT, "'%s': cannot open dataset /samples", path);
        goto done;
    }
    if (H5Tget_class(type) != H5T_INTEGER || H5Sget_simple_extent_ndims(space) != 2 ||
        H5Sget_simple_extent_dims(space, dims, NULL) != 2 || dims[1] != (hsize_t)h->size ||
        dims[0] > (hsize_t)SIZE_MAX / (dims[1] + 8)) {
        shape_text(space, shape, sizeof shape);
        ARS_ERR(ARS_STATUS_EINPUT, "'%s': dataset /samples should be int8 [n, %d] (it is %s%s)",
                path, h->size, shape, H5Tget_class(type) != H5T_INTEGER ? ", not of integers" : "");
        goto done;
    }
    const size_t count = (size_t)dims[0] * (size_t)dims[1];
    values = malloc(count + 1);
    c = malloc(count + 1);
    if (values == NULL || c == NULL) {
        ARS_ERR(ARS_STATUS_ENOMEM, "out of memory reading /samples of '%s'", path);
        rc = ARS_STATUS_ENOMEM;
        goto done;
    }
    if (read_dataset(dset, H5T_NATIVE_INT8, values, path, "/samples") != ARS_OK) {
        goto done;
    }
    for (size_t i = 0; i < count; i++) {
        int idx = ars_hilbert_index(h, values[i]);
        if (idx < 0) {
            ARS_ERR(ARS_STATUS_EINPUT, "'%s': /samples holds %d, not a local state", path,
                    values[i]);
            goto done;
        }
        c[i] = (uint8_t)idx;
    }
    H5Tclose(type);
    H5Sclose(space);
    H5Dclose(dset);
    type = space = dset = H5I_INVALID_HID;
    if (log_prob != NULL) {
        hsize_t ld[1] = {0};
        dset = open_dataset(file, path, "/log_prob", "");
        if (dset < 0) {
            goto done;
        }
        if ((space = H5Dget_space(dset)) < 0 || (type = H5Dget_type(dset)) < 0) {
            ARS_ERR(ARS_STATUS_EINPUT, "'%s': cannot open dataset /log_prob", path);
            goto done;
        }
        if (H5Tget_class(type) != H5T_FLOAT || H5Sget_simple_extent_ndims(space) != 1 ||
            H5Sget_simple_extent_dims(space, ld, NULL) != 1 || ld[0] != dims[0]) {
            shape_text(space, shape, sizeof shape);
            ARS_ERR(ARS_STATUS_EINPUT,
                    "'%s': dataset /log_prob should be float64 [%llu] like /samples (it is %s%s)",
                    path, (unsigned long long)dims[0], shape,
                    H5Tget_class(type) != H5T_FLOAT ? ", not of floats" : "");
            goto done;
        }
        lp = malloc((size_t)dims[0] * sizeof(double) + 1);
        if (lp == NULL) {
            ARS_ERR(ARS_STATUS_ENOMEM, "out of memory reading /log_prob of '%s'", path);
            rc = ARS_STATUS_ENOMEM;
            goto done;
        }
        if (read_dataset(dset, H5T_NATIVE_DOUBLE, lp, path, "/log_prob") != ARS_OK) {
            goto done;
        }
    }
    rc = ARS_OK;
    *n = (size_t)dims[0];
    if (cfg != NULL) {
        *cfg = c;
        c = NULL;
    }
    if (log_prob != NULL) {
        *log_prob = lp;
        lp = NULL;
    }
done:
    free(values);
    free(c);
    free(lp);
    if (type >= 0) {
        H5Tclose(type);
    }
    if (space >= 0) {
        H5Sclose(space);
    }
    if (dset >= 0) {
        H5Dclose(dset);
    }
    H5Fclose(file);
    return rc;
}

int ars_io_write_exact(const char *path, const ars_io_meta *meta, const ars_hilbert *h,
                       const ars_ham *H, double energy, const char *method) {
    out_file o;
    const int opened = out_open(&o, path);
    if (opened != 0) {
        return out_open_failed(&o, path, opened);
    }
    int ok = write_root_attributes(o.id, meta) >= 0;
    if (ok) {
        const double spin = 0.5 * h->two_s;
        hid_t g = H5Gcreate2(o.id, "hilbert", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        ok = g >= 0 && attr_i64(g, "size", h->size) >= 0 &&
             attr_i64(g, "local_size", h->local_size) >= 0 &&
             attr_write(g, "spin", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 0, NULL, &spin) >= 0;
        if (g >= 0) {
            H5Gclose(g);
        }
    }
    ok = ok && write_hamiltonian(o.id, H) >= 0 && write_reference(o.id, energy, method) >= 0;
    return out_commit(&o, path, ok,
                      "write the root attributes, /hilbert, /hamiltonian and /reference");
}

/* Opens the 1-dimensional dataset `name` of class `cls` and gives its length, or says in one
 * message what is wrong with it. */
static hid_t open_vector(hid_t file, const char *path, const char *name, H5T_class_t cls,
                         hsize_t *len) {
    hid_t d = open_dataset(file, path, name, "");
    if (d < 0) {
        return H5I_INVALID_HID;
    }
    hid_t sp = H5Dget_space(d), type = H5Dget_type(d);
    int ok = sp >= 0 && type >= 0 && H5Tget_class(type) == cls &&
             H5Sget_simple_extent_type(sp) == H5S_SIMPLE && H5Sget_simple_extent_ndims(sp) == 1 &&
             H5Sget_simple_extent_dims(sp, len, NULL) == 1;
    if (!ok) {
        char shape[160] = "?";
        if (sp >= 0) {
            shape_text(sp, shape, sizeof shape);
        }
        ARS_ERR(ARS_STATUS_EINPUT,
                "'%s': dataset %s should be a 1-dimensional %s array (it is %s%s)", path, name,
                cls == H5T_INTEGER ? "integer" : "float64", shape,
                type >= 0 && H5Tget_class(type) != cls ? ", of another type" : "");
    }
    if (type >= 0) {
        H5Tclose(type);
    }
    if (sp >= 0) {
        H5Sclose(sp);
    }
    if (!ok) {
        H5Dclose(d);
        return H5I_INVALID_HID;
    }
    return d;
}

/* Reads the 1-dimensional dataset `name` of exactly n entries (`why` says where n comes from). */
static int read_vector(hid_t file, const char *path, const char *name, H5T_class_t cls, hid_t mtype,
                       void *out, size_t n, const char *why) {
    hsize_t len = 0;
    hid_t d = open_vector(file, path, name, cls, &len);
    if (d < 0) {
        return ARS_STATUS_EINPUT;
    }
    int rc = ARS_OK;
    if (len != (hsize_t)n) {
        rc = ARS_ERR(ARS_STATUS_EINPUT, "'%s': dataset %s has %llu entries but %s", path, name,
                     (unsigned long long)len, why);
    } else if (n > 0) {
        rc = read_dataset(d, mtype, out, path, name);
    }
    H5Dclose(d);
    return rc;
}

/* /optimizer/m or /optimizer/v: P finite entries (v >= 0). */
static int read_moment(hid_t file, const char *path, const char *name, double *out, size_t P,
                       const char *non_negative) {
    char why[160];
    snprintf(why, sizeof why,
             "the network of the config has %zu parameters: [model] differs from the run that "
             "wrote the file (see its /model)",
             P);
    int rc = read_vector(file, path, name, H5T_FLOAT, H5T_NATIVE_DOUBLE, out, P, why);
    if (rc != ARS_OK) {
        return rc;
    }
    long bad = first_non_finite(out, P);
    if (bad >= 0) {
        return ARS_ERR(ARS_STATUS_EINPUT,
                       "'%s': dataset %s holds a non-finite value (%g at index %ld); the "
                       "optimiser state is damaged",
                       path, name, out[bad], bad);
    }
    for (size_t i = 0; non_negative != NULL && i < P; i++) {
        if (out[i] < 0.0) {
            return ARS_ERR(ARS_STATUS_EINPUT,
                           "'%s': dataset %s holds a negative value (%g at index %zu), but "
                           "%s; the optimiser state is damaged",
                           path, name, out[i], i, non_negative);
        }
    }
    return ARS_OK;
}

/* What --resume reads from /optimizer and /vmc, before it is copied into the caller's state. */
typedef struct train_state {
    int64_t step, done;
    double *vec[ARS_OPT_MAX_VECTORS]; /* (P) the optimizer's state vectors */
    int64_t *iter;                    /* (done) */
    double *cols[10];                 /* (done) each, in the order of log_names */
} train_state;

static void train_state_free(train_state *t) {
    for (int k = 0; k < ARS_OPT_MAX_VECTORS; k++) {
        free(t->vec[k]);
    }
    free(t->iter);
    for (int i = 0; i < 10; i++) {
        free(t->cols[i]);
    }
}

static int read_optimizer(hid_t file, const char *path, const ars_opt *opt, train_state *t) {
    const char *want = opt->type->name;
    char type[32] = "";
    hid_t g = H5Gopen2(file, "optimizer", H5P_DEFAULT);
    int rc = ARS_STATUS_EINPUT;
    if (g < 0) {
        return ARS_ERR(rc, "'%s': /optimizer is not a group", path);
    }
    if (attr_read_string(g, "type", type, sizeof type) != 0) {
        ARS_ERR(rc, "'%s': /optimizer attribute 'type' is missing or not a string", path);
    } else if (strcmp(type, want) != 0) {
        ARS_ERR(rc,
                "'%s': /optimizer was %s but [vmc] optimizer is %s; resume with the same "
                "optimizer",
                path, type, want);
    } else if (attr_read_i64(g, "step", &t->step, 1) != 0 || t->step < 0) {
        ARS_ERR(rc, "'%s': /optimizer attribute 'step' is missing or not a count >= 0", path);
    } else {
        rc = ARS_OK;
    }
    H5Gclose(g);
    for (int k = 0; rc == ARS_OK && k < opt->type->n_vectors; k++) {
        const ars_opt_vector *d = &opt->type->vectors[k];
        char name[64];
        snprintf(name, sizeof name, "/optimizer/%s", d->name);
        t->vec[k] = calloc(opt->P + 1, sizeof(double));
        if (t->vec[k] == NULL) {
            return ARS_ERR(ARS_STATUS_ENOMEM, "out of memory reading /optimizer of '%s'", path);
        }
        rc = read_moment(file, path, name, t->vec[k], opt->P, d->nonnegative);
    }
    return rc;
}

static int read_vmc_log(hid_t file, const char *path, train_state *t) {
    hid_t g = H5Gopen2(file, "vmc", H5P_DEFAULT);
    if (g < 0) {
        return ARS_ERR(ARS_STATUS_EINPUT, "'%s': /vmc is not a group", path);
    }
    int got = attr_read_i64(g, "iterations_done", &t->done, 1);
    H5Gclose(g);
    if (got != 0) {
        return ARS_ERR(ARS_STATUS_EINPUT,
                       "'%s': /vmc attribute 'iterations_done' is missing or not an integer", path);
    }
    /* The length of /vmc/iteration bounds iterations_done before anything is allocated. */
    hsize_t len = 0;
    hid_t d = open_vector(file, path, "/vmc/iteration", H5T_INTEGER, &len);
    if (d < 0) {
        return ARS_STATUS_EINPUT;
    }
    H5Dclose(d);
    if (t->done < 0 || (uint64_t)t->done != (uint64_t)len) {
        return ARS_ERR(ARS_STATUS_EINPUT,
                       "'%s': /vmc attribute 'iterations_done' is %lld but dataset /vmc/iteration "
                       "has %llu entries; the training log is inconsistent",
                       path, (long long)t->done, (unsigned long long)len);
    }
    if (t->done > 100000000) {
        return ARS_ERR(ARS_STATUS_EINPUT,
                       "'%s': /vmc attribute 'iterations_done' %lld is too large", path,
                       (long long)t->done);
    }
    const size_t n = (size_t)t->done;
    t->iter = malloc(n * sizeof(int64_t) + 1);
    for (int i = 0; i < 10; i++) {
        t->cols[i] = malloc(n * sizeof(double) + 1);
        if (t->cols[i] == NULL) {
            return ARS_ERR(ARS_STATUS_ENOMEM, "out of memory reading /vmc of '%s'", path);
        }
    }
    if (t->iter == NULL) {
        return ARS_ERR(ARS_STATUS_ENOMEM, "out of memory reading /vmc of '%s'", path);
    }
    char why[160];
    snprintf(why, sizeof why,
             "/vmc attribute 'iterations_done' is %lld; the training log is "
             "inconsistent",
             (long long)t->done);
    int rc =
        read_vector(file, path, "/vmc/iteration", H5T_INTEGER, H5T_NATIVE_INT64, t->iter, n, why);
    for (size_t i = 0; rc == ARS_OK && i < n; i++) {
        if (t->iter[i] != (int64_t)i) {
            rc = ARS_ERR(ARS_STATUS_EINPUT,
                         "'%s': dataset /vmc/iteration should be 0, 1, 2, ... but entry %zu is "
                         "%lld; the training log is inconsistent",
                         path, i, (long long)t->iter[i]);
        }
    }
    for (int i = 0; rc == ARS_OK && i < 10; i++) {
        char name[64];
        snprintf(name, sizeof name, "/vmc/%s", log_names[i]);
        rc = read_vector(file, path, name, H5T_FLOAT, H5T_NATIVE_DOUBLE, t->cols[i], n, why);
    }
    return rc;
}

static int load_train(const char *path, ars_opt *opt, ars_vmc_log *log) {
    silence_hdf5();
    if (access(path, F_OK) != 0) {
        return ARS_ERR(ARS_STATUS_EINPUT,
                       "--resume: cannot read '%s': %s; there is nothing to resume (run without "
                       "--resume to start a training)",
                       path, strerror(errno));
    }
    hid_t file = open_input(path);
    if (file < 0) {
        return ARS_STATUS_EINPUT;
    }
    train_state t;
    memset(&t, 0, sizeof t);
    int rc = check_format(file, path);
    for (int i = 0; rc == ARS_OK && i < 2; i++) {
        const char *group = i == 0 ? "optimizer" : "vmc";
        if (H5Lexists(file, group, H5P_DEFAULT) <= 0) {
            rc = ARS_ERR(ARS_STATUS_EINPUT,
                         "'%s' has no /%s group: it is not the output of a training run ([run] "
                         "mode = train), so there is nothing to resume",
                         path, group);
        }
    }
    if (rc == ARS_OK) {
        rc = read_optimizer(file, path, opt, &t);
    }
    if (rc == ARS_OK) {
        rc = read_vmc_log(file, path, &t);
    }
    const size_t n = (size_t)t.done;
    if (rc == ARS_OK && ars_vmc_log_reserve(log, n > log->cap ? n : log->cap) != ARS_OK) {
        rc = ARS_STATUS_ENOMEM;
    }
    if (rc == ARS_OK) {
        /* Everything is valid: only now is the caller's state changed. */
        opt->step = (long)t.step;
        for (int k = 0; k < opt->type->n_vectors; k++) {
            memcpy(opt->vec[k], t.vec[k], opt->P * sizeof(double));
        }
        double *cols[10];
        log_columns(log, cols);
        for (int i = 0; i < 10 && n > 0; i++) {
            memcpy(cols[i], t.cols[i], n * sizeof(double));
        }
        if (n > 0) {
            memcpy(log->iteration, t.iter, n * sizeof(int64_t));
        }
        log->len = n;
    }
    train_state_free(&t);
    H5Fclose(file);
    return rc;
}

static int check_resume(const char *path, const ars_arch *arch) {
    silence_hdf5();
    if (access(path, F_OK) != 0) {
        return ARS_ERR(ARS_STATUS_EINPUT,
                       "--resume: cannot read '%s': %s; there is nothing to resume (run without "
                       "--resume to start a training)",
                       path, strerror(errno));
    }
    hid_t file = open_input(path);
    if (file < 0) {
        return ARS_STATUS_EINPUT;
    }
    ars_arch recorded;
    int rc = check_format(file, path);
    for (int i = 0; rc == ARS_OK && i < 2; i++) {
        const char *group = i == 0 ? "optimizer" : "vmc";
        if (H5Lexists(file, group, H5P_DEFAULT) <= 0) {
            rc = ARS_ERR(ARS_STATUS_EINPUT,
                         "'%s' has no /%s group: it is not the output of a training run ([run] "
                         "mode = train), so there is nothing to resume",
                         path, group);
        }
    }
    if (rc == ARS_OK) {
        rc = read_arch_from(file, path, &recorded);
    }
    if (rc == ARS_OK) {
        rc = compare_arch(&recorded, arch, path, 1);
    }
    H5Fclose(file);
    return rc;
}

/* The public readers: each reads its input file under the crash guard. */
int ars_io_read_arch(const char *path, ars_arch *arch) {
    guard_begin(path);
    return guard_end(read_arch_file(path, arch));
}

int ars_io_load_variables(const char *path, ars_arnn *net) {
    guard_begin(path);
    return guard_end(load_variables(path, net));
}

int ars_io_read_samples(const char *path, const ars_hilbert *h, uint8_t **cfg, double **log_prob,
                        size_t *n) {
    guard_begin(path);
    return guard_end(read_samples(path, h, cfg, log_prob, n));
}

int ars_io_load_train(const char *path, ars_opt *opt, ars_vmc_log *log) {
    guard_begin(path);
    return guard_end(load_train(path, opt, log));
}

int ars_io_check_resume(const char *path, const ars_arch *arch) {
    guard_begin(path);
    return guard_end(check_resume(path, arch));
}
