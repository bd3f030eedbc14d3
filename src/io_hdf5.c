/*
 * io_hdf5: writing and reading arsampler's HDF5 files; see io_hdf5.h and docs/hdf5-format.md.
 * Every hid_t starts invalid, every call is checked, and each function has one cleanup path.
 */
#include "io_hdf5.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hdf5.h>

#include "ars_common.h"

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

int ars_io_check_writable(const char *path) {
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
        return ARS_ERR(ARS_STATUS_ECONFIG, "[output] file: cannot create the folder '%s': %s", dir,
                       strerror(errno));
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        return ARS_ERR(ARS_STATUS_ECONFIG, "[output] file: '%s' is not a folder", dir);
    }
    if (access(dir, W_OK) != 0) {
        return ARS_ERR(ARS_STATUS_ECONFIG, "[output] file: the folder '%s' is not writable: %s",
                       dir, strerror(errno));
    }
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        return ARS_ERR(ARS_STATUS_ECONFIG, "[output] file: '%s' is a folder", path);
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
    if (g < 0 || attr_string(g, "type", o->type == ARS_OPT_ADAM ? "adam" : "sgd") < 0 ||
        attr_i64(g, "step", o->step) < 0 ||
        attr_write(g, "beta1", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 0, NULL, &o->beta1) < 0 ||
        attr_write(g, "beta2", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 0, NULL, &o->beta2) < 0 ||
        attr_write(g, "epsilon", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 0, NULL, &o->eps) < 0) {
        goto done;
    }
    if (o->type == ARS_OPT_ADAM &&
        (write_dataset(g, "m", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, pd, o->m, 0) < 0 ||
         write_dataset(g, "v", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, pd, o->v, 0) < 0)) {
        goto done;
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

static hid_t create_temporary(const char *path, char *tmp, size_t tmp_len) {
    silence_hdf5();
    snprintf(tmp, tmp_len, "%s.tmp.%ld", path, (long)getpid());
    if (make_parent_dirs(path) != 0) {
        return H5I_INVALID_HID;
    }
    return H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
}

int ars_io_write(const char *path, const ars_io_meta *meta, const ars_arnn *net, const uint8_t *cfg,
                 const double *log_prob, size_t n, const ars_io_train *train) {
    char tmp[4200];
    int8_t *values = NULL;
    const char *what = "create the file (or its folder)";
    hid_t file = create_temporary(path, tmp, sizeof tmp);
    if (file < 0) {
        goto fail;
    }
    what = "write the root attributes";
    if (write_root_attributes(file, meta) < 0) {
        goto fail;
    }
    what = "write /hilbert, /model and /variables";
    if (write_model(file, net, meta->dtype) < 0) {
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
        if (write_dataset(file, "samples", H5T_STD_I8LE, H5T_NATIVE_INT8, 2, sd, values, 1) < 0) {
            goto fail;
        }
        what = "write /log_prob";
        hsize_t ld[1] = {(hsize_t)n};
        if (write_dataset(file, "log_prob", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, ld, log_prob, 1) <
            0) {
            goto fail;
        }
    }
    if (train != NULL) {
        what = "write the training state (/hamiltonian, /optimizer, /vmc)";
        if (write_train(file, train, net->n_params) < 0) {
            goto fail;
        }
    }
    if (train == NULL && meta->H != NULL) {
        what = "write /hamiltonian and /reference";
        if (write_hamiltonian(file, meta->H) < 0 ||
            (!isnan(meta->exact_energy) && write_reference(file, meta->exact_energy, NULL) < 0)) {
            goto fail;
        }
    }
    if (meta->obs != NULL) {
        what = "write /observables";
        if (write_observables(file, meta->obs, meta->obs_source) < 0) {
            goto fail;
        }
    }
    free(values);
    values = NULL;
    what = "finish writing the file (disk full?)";
    herr_t closed = H5Fclose(file);
    file = H5I_INVALID_HID;
    if (closed < 0) {
        goto fail;
    }
    if (rename(tmp, path) != 0) {
        int err = errno;
        unlink(tmp);
        return ARS_ERR(ARS_STATUS_EIO, "cannot move '%s' into place as '%s': %s", tmp, path,
                       strerror(err));
    }
    return ARS_OK;
fail:
    free(values);
    if (file >= 0) {
        H5Fclose(file);
    }
    unlink(tmp);
    return ARS_ERR(ARS_STATUS_EIO, "cannot %s of '%s' (temporary file '%s'); '%s' is unchanged",
                   what, path, tmp, path);
}

/* ---- reading ----------------------------------------------------------------------------- */

/* Opens an existing HDF5 file read-only, with a message saying what is wrong otherwise. */
static hid_t open_input(const char *path) {
    silence_hdf5();
    if (access(path, R_OK) != 0) {
        ARS_ERR(ARS_STATUS_EINPUT, "cannot read '%s': %s", path, strerror(errno));
        return H5I_INVALID_HID;
    }
    if (is_hdf5_file(path) <= 0) {
        ARS_ERR(ARS_STATUS_EINPUT, "'%s' is not an HDF5 file (or it is truncated or corrupt)",
                path);
        return H5I_INVALID_HID;
    }
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file < 0) {
        ARS_ERR(ARS_STATUS_EINPUT, "cannot open the HDF5 file '%s'", path);
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
        if (attr_read_i64(file, "format_version", &v, 1) != 0 || v != ARS_FORMAT_VERSION) {
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
    char act[32], input[32];
    const char *missing = NULL;
    memset(arch, 0, sizeof *arch);
    if (H5Lexists(file, "hilbert", H5P_DEFAULT) <= 0 ||
        H5Lexists(file, "model", H5P_DEFAULT) <= 0) {
        return ARS_ERR(ARS_STATUS_EINPUT, "'%s' has no /hilbert or /model group", path);
    }
    hid_t h = H5Gopen2(file, "hilbert", H5P_DEFAULT);
    hid_t m = H5Gopen2(file, "model", H5P_DEFAULT);
    if (h < 0 || m < 0) {
        missing = "/hilbert or /model";
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
    if (a < 0 || in < 0) {
        return ARS_ERR(ARS_STATUS_EINPUT, "'%s': unknown /model activation '%s' or input '%s'",
                       path, act, input);
    }
    arch->activation = (ars_activation)a;
    arch->input = (ars_input)in;
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

int ars_io_read_arch(const char *path, ars_arch *arch) {
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

/* Compares the file's recorded architecture with the network's (the chain size may differ). */
static int compare_arch(const ars_arch *f, const ars_arch *n, const char *path) {
    char fv[128] = "", nv[128] = "";
    const char *what = NULL;
    if (f->hilbert.local_size != n->hilbert.local_size) {
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
        return ARS_ERR(ARS_STATUS_EINPUT,
                       "[model] init = '%s': the file's %s is %s but the config has %s; "
                       "the variables do not fit this network",
                       path, what, fv, nv);
    }
    return ARS_OK;
}

/* Reads one float dataset of exactly the expected shape into out. */
static int read_variable(hid_t file, const char *path, const char *name, int rank,
                         const hsize_t *want, double *out) {
    hid_t dset = H5I_INVALID_HID, space = H5I_INVALID_HID, type = H5I_INVALID_HID;
    int rc = ARS_STATUS_EINPUT;
    char shape_want[96] = "", shape_got[96] = "";
    for (int i = 0; i < rank; i++) {
        char one[24];
        snprintf(one, sizeof one, i ? ", %llu" : "%llu", (unsigned long long)want[i]);
        strncat(shape_want, one, sizeof shape_want - strlen(shape_want) - 1);
    }
    if (H5Lexists(file, name, H5P_DEFAULT) <= 0) {
        /* H5Lexists on a path needs the parents to exist; treat any failure as missing. */
        return ARS_ERR(ARS_STATUS_EINPUT, "'%s': dataset %s is missing (expected shape [%s])", path,
                       name, shape_want);
    }
    dset = H5Dopen2(file, name, H5P_DEFAULT);
    if (dset < 0 || (space = H5Dget_space(dset)) < 0 || (type = H5Dget_type(dset)) < 0) {
        ARS_ERR(ARS_STATUS_EINPUT, "'%s': cannot open dataset %s", path, name);
        goto done;
    }
    if (H5Tget_class(type) != H5T_FLOAT) {
        ARS_ERR(ARS_STATUS_EINPUT, "'%s': dataset %s is not floating point", path, name);
        goto done;
    }
    int frank = H5Sget_simple_extent_ndims(space);
    hsize_t dims[8] = {0};
    int same = frank == rank;
    if (frank >= 0 && frank <= 8) {
        H5Sget_simple_extent_dims(space, dims, NULL);
        for (int i = 0; i < frank; i++) {
            char one[24];
            snprintf(one, sizeof one, i ? ", %llu" : "%llu", (unsigned long long)dims[i]);
            strncat(shape_got, one, sizeof shape_got - strlen(shape_got) - 1);
            same = same && dims[i] == want[i];
        }
    } else {
        same = 0;
    }
    if (!same) {
        ARS_ERR(ARS_STATUS_EINPUT,
                "'%s': dataset %s has shape [%s] but this network needs [%s] (check [model] "
                "features, kernel_size, feature_group_count, input and [system] spin)",
                path, name, shape_got, shape_want);
        goto done;
    }
    if (H5Dread(dset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) < 0) {
        ARS_ERR(ARS_STATUS_EINPUT, "'%s': cannot read dataset %s (truncated or corrupt file?)",
                path, name);
        goto done;
    }
    size_t count = 1;
    for (int i = 0; i < rank; i++) {
        count *= want[i];
    }
    for (size_t i = 0; i < count; i++) {
        if (!isfinite(out[i])) {
            ARS_ERR(ARS_STATUS_EINPUT,
                    "'%s': dataset %s holds a non-finite value (%g at flat "
                    "index %zu)",
                    path, name, out[i], i);
            goto done;
        }
    }
    rc = ARS_OK;
done:
    if (type >= 0) {
        H5Tclose(type);
    }
    if (space >= 0) {
        H5Sclose(space);
    }
    if (dset >= 0) {
        H5Dclose(dset);
    }
    return rc;
}

int ars_io_load_variables(const char *path, ars_arnn *net) {
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
            rc = compare_arch(&recorded, &net->arch, path);
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

int ars_io_read_samples(const char *path, const ars_hilbert *h, uint8_t **cfg, double **log_prob,
                        size_t *n) {
    hid_t file = open_input(path);
    if (file < 0) {
        return ARS_STATUS_EINPUT;
    }
    hid_t dset = H5I_INVALID_HID, space = H5I_INVALID_HID;
    int8_t *values = NULL;
    uint8_t *c = NULL;
    double *lp = NULL;
    int rc = check_format(file, path);
    hsize_t dims[2] = {0, 0};
    if (rc != ARS_OK) {
        goto done;
    }
    rc = ARS_STATUS_EINPUT;
    if (H5Lexists(file, "samples", H5P_DEFAULT) <= 0 ||
        (dset = H5Dopen2(file, "samples", H5P_DEFAULT)) < 0 || (space = H5Dget_space(dset)) < 0 ||
        H5Sget_simple_extent_ndims(space) != 2) {
        ARS_ERR(ARS_STATUS_EINPUT, "'%s': no 2-dimensional dataset /samples", path);
        goto done;
    }
    H5Sget_simple_extent_dims(space, dims, NULL);
    if (dims[1] != (hsize_t)h->size) {
        ARS_ERR(ARS_STATUS_EINPUT, "'%s': /samples has %llu sites, expected %d", path,
                (unsigned long long)dims[1], h->size);
        goto done;
    }
    values = malloc(dims[0] * dims[1] + 1);
    c = malloc(dims[0] * dims[1] + 1);
    lp = malloc(dims[0] * sizeof(double) + 1);
    if (values == NULL || c == NULL || lp == NULL ||
        H5Dread(dset, H5T_NATIVE_INT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, values) < 0) {
        ARS_ERR(ARS_STATUS_EINPUT, "'%s': cannot read /samples", path);
        goto done;
    }
    for (size_t i = 0; i < dims[0] * dims[1]; i++) {
        int idx = ars_hilbert_index(h, values[i]);
        if (idx < 0) {
            ARS_ERR(ARS_STATUS_EINPUT, "'%s': /samples holds %d, not a local state", path,
                    values[i]);
            goto done;
        }
        c[i] = (uint8_t)idx;
    }
    H5Dclose(dset);
    dset = H5I_INVALID_HID;
    if (log_prob != NULL) {
        dset = H5Dopen2(file, "log_prob", H5P_DEFAULT);
        if (dset < 0 || H5Dread(dset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, lp) < 0) {
            ARS_ERR(ARS_STATUS_EINPUT, "'%s': cannot read /log_prob", path);
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
    if (space >= 0) {
        H5Sclose(space);
    }
    if (dset >= 0) {
        H5Dclose(dset);
    }
    H5Fclose(file);
    return rc;
}

/* Closes the temporary file and renames it into place, or removes it on failure. */
static int finish_temporary(hid_t file, const char *tmp, const char *path, int ok) {
    herr_t closed = file >= 0 ? H5Fclose(file) : -1;
    if (!ok || closed < 0 || rename(tmp, path) != 0) {
        unlink(tmp);
        return ARS_ERR(ARS_STATUS_EIO, "cannot write '%s' (temporary '%s'); '%s' is unchanged",
                       path, tmp, path);
    }
    return ARS_OK;
}

int ars_io_write_exact(const char *path, const ars_io_meta *meta, const ars_hilbert *h,
                       const ars_ham *H, double energy, const char *method) {
    char tmp[4200];
    hid_t file = create_temporary(path, tmp, sizeof tmp);
    int ok = file >= 0 && write_root_attributes(file, meta) >= 0;
    if (ok) {
        const double spin = 0.5 * h->two_s;
        hid_t g = H5Gcreate2(file, "hilbert", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        ok = g >= 0 && attr_i64(g, "size", h->size) >= 0 &&
             attr_i64(g, "local_size", h->local_size) >= 0 &&
             attr_write(g, "spin", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 0, NULL, &spin) >= 0;
        if (g >= 0) {
            H5Gclose(g);
        }
    }
    ok = ok && write_hamiltonian(file, H) >= 0 && write_reference(file, energy, method) >= 0;
    return finish_temporary(file, tmp, path, ok);
}

/* Reads a 1-dimensional dataset of exactly n entries (converted to mtype). */
static int read_vector(hid_t loc, const char *name, hid_t mtype, void *out, size_t n) {
    hid_t d =
        H5Lexists(loc, name, H5P_DEFAULT) > 0 ? H5Dopen2(loc, name, H5P_DEFAULT) : H5I_INVALID_HID;
    int rc = -1;
    if (d >= 0) {
        hid_t sp = H5Dget_space(d);
        if (sp >= 0 && H5Sget_simple_extent_ndims(sp) == 1 &&
            H5Sget_simple_extent_npoints(sp) == (hssize_t)n &&
            (n == 0 || H5Dread(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) >= 0)) {
            rc = 0;
        }
        if (sp >= 0) {
            H5Sclose(sp);
        }
        H5Dclose(d);
    }
    return rc;
}

int ars_io_load_train(const char *path, ars_opt *opt, ars_vmc_log *log) {
    hid_t file = open_input(path);
    if (file < 0) {
        return ARS_STATUS_EINPUT;
    }
    hid_t g = H5I_INVALID_HID;
    int rc = check_format(file, path);
    char type[16] = "";
    int64_t step = 0, done = 0;
    double *cols[10];
    if (rc != ARS_OK) {
        goto out;
    }
    rc = ARS_STATUS_EINPUT;
    if (H5Lexists(file, "optimizer", H5P_DEFAULT) <= 0 ||
        H5Lexists(file, "vmc", H5P_DEFAULT) <= 0) {
        ARS_ERR(rc,
                "'%s' has no /optimizer or /vmc group: it is not the output of a training run "
                "([run] mode = train), so there is nothing to resume",
                path);
        goto out;
    }
    g = H5Gopen2(file, "optimizer", H5P_DEFAULT);
    if (g < 0 || attr_read_string(g, "type", type, sizeof type) != 0 ||
        attr_read_i64(g, "step", &step, 1) != 0 || step < 0) {
        ARS_ERR(rc, "'%s': /optimizer attributes type or step are missing or invalid", path);
        goto out;
    }
    if (strcmp(type, opt->type == ARS_OPT_ADAM ? "adam" : "sgd") != 0) {
        ARS_ERR(rc,
                "'%s': /optimizer was %s but [vmc] optimizer is %s; resume with the same "
                "optimizer",
                path, type, opt->type == ARS_OPT_ADAM ? "adam" : "sgd");
        goto out;
    }
    if (opt->type == ARS_OPT_ADAM &&
        (read_vector(g, "m", H5T_NATIVE_DOUBLE, opt->m, opt->P) != 0 ||
         read_vector(g, "v", H5T_NATIVE_DOUBLE, opt->v, opt->P) != 0)) {
        ARS_ERR(rc, "'%s': /optimizer/m or /optimizer/v is missing or does not have %zu entries",
                path, opt->P);
        goto out;
    }
    opt->step = step;
    H5Gclose(g);
    g = H5Gopen2(file, "vmc", H5P_DEFAULT);
    if (g < 0 || attr_read_i64(g, "iterations_done", &done, 1) != 0 || done < 0 ||
        done > 100000000) {
        ARS_ERR(rc, "'%s': /vmc attribute iterations_done is missing or invalid", path);
        goto out;
    }
    if (ars_vmc_log_reserve(log, (size_t)done > log->cap ? (size_t)done : log->cap) != ARS_OK) {
        rc = ARS_STATUS_ENOMEM;
        goto out;
    }
    if (read_vector(g, "iteration", H5T_NATIVE_INT64, log->iteration, (size_t)done) != 0) {
        ARS_ERR(rc, "'%s': /vmc/iteration is missing or does not have %lld entries", path,
                (long long)done);
        goto out;
    }
    log_columns(log, cols);
    for (int i = 0; i < 10; i++) {
        if (read_vector(g, log_names[i], H5T_NATIVE_DOUBLE, cols[i], (size_t)done) != 0) {
            ARS_ERR(rc, "'%s': /vmc/%s is missing or does not have %lld entries", path,
                    log_names[i], (long long)done);
            goto out;
        }
    }
    log->len = (size_t)done;
    rc = ARS_OK;
out:
    if (g >= 0) {
        H5Gclose(g);
    }
    H5Fclose(file);
    return rc;
}
