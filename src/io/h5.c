/*
 * h5: the checked HDF5 helpers of the io module (see h5.h). Every hid_t starts invalid, every
 * call is checked, and each function has one cleanup path.
 */
#include "io/h5.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ars_common.h"
#include "nn/arnn.h" /* ARS_MAX_LAYERS, the longest attribute array */

/* H5Fis_accessible replaced H5Fis_hdf5 in HDF5 1.12; Debian 12 ships 1.10. */
htri_t ars_h5_is_hdf5_file(const char *path) {
#if H5_VERSION_GE(1, 12, 0)
    return H5Fis_accessible(path, H5P_DEFAULT);
#else
    return H5Fis_hdf5(path);
#endif
}

void ars_h5_silence(void) {
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

const char *ars_h5_reason(char *buf, size_t len) {
    h5_reason r = {buf, len};
    buf[0] = '\0';
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, reason_cb, &r);
    if (buf[0] == '\0') {
        snprintf(buf, len, "no reason given by HDF5");
    }
    return buf;
}

/* ---- attribute writers (return < 0 on failure) ------------------------------------------- */

herr_t ars_h5_attr_write(hid_t obj, const char *name, hid_t ftype, hid_t mtype, int rank,
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

herr_t ars_h5_attr_i64(hid_t obj, const char *name, int64_t v) {
    return ars_h5_attr_write(obj, name, H5T_STD_I64LE, H5T_NATIVE_INT64, 0, NULL, &v);
}

herr_t ars_h5_attr_i64_array(hid_t obj, const char *name, const int *v, int n) {
    int64_t buf[ARS_MAX_LAYERS];
    for (int i = 0; i < n; i++) {
        buf[i] = v[i];
    }
    hsize_t dims[1] = {(hsize_t)n};
    return ars_h5_attr_write(obj, name, H5T_STD_I64LE, H5T_NATIVE_INT64, 1, dims, buf);
}

/* A variable-length UTF-8 string, which h5py reads as a Python str. */
herr_t ars_h5_attr_string(hid_t obj, const char *name, const char *s) {
    hid_t type = H5Tcopy(H5T_C_S1);
    herr_t rc = -1;
    if (type < 0) {
        return -1;
    }
    if (H5Tset_size(type, H5T_VARIABLE) >= 0 && H5Tset_cset(type, H5T_CSET_UTF8) >= 0) {
        rc = ars_h5_attr_write(obj, name, type, type, 0, NULL, &s);
    }
    H5Tclose(type);
    return rc;
}

/* ---- attribute readers ------------------------------------------------------------------- */

/* Reads a scalar or 1-element numeric attribute as int64 (HDF5 converts the type). */
int ars_h5_attr_read_i64(hid_t obj, const char *name, int64_t *v, int n) {
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

int ars_h5_attr_read_f64(hid_t obj, const char *name, double *v) {
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
int ars_h5_attr_read_string(hid_t obj, const char *name, char *buf, size_t len) {
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

hid_t ars_h5_create_dataset(hid_t loc, const char *name, hid_t ftype, int rank, const hsize_t *dims,
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

herr_t ars_h5_write_dataset(hid_t loc, const char *name, hid_t ftype, hid_t mtype, int rank,
                            const hsize_t *dims, const void *buf, int compress) {
    hid_t dset = ars_h5_create_dataset(loc, name, ftype, rank, dims, compress);
    if (dset < 0) {
        return -1;
    }
    herr_t rc = H5Dwrite(dset, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
    if (H5Dclose(dset) < 0) {
        rc = -1;
    }
    return rc;
}

herr_t ars_h5_write_scalar(hid_t loc, const char *name, hid_t ftype, hid_t mtype, const void *v) {
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

/* "[d0, d1, ...]" of a dataspace. */
void ars_h5_shape_text(hid_t space, char *buf, size_t len) {
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
hid_t ars_h5_open_dataset(hid_t file, const char *path, const char *name, const char *expect) {
    /* H5Lexists on a path needs the parents to exist; treat any failure as missing. */
    if (H5Lexists(file, name, H5P_DEFAULT) <= 0) {
        ARS_ERR(ARS_STATUS_EINPUT, "'%s': dataset %s is missing%s", path, name, expect);
        return H5I_INVALID_HID;
    }
    hid_t obj = H5Oopen(file, name, H5P_DEFAULT);
    if (obj < 0) {
        char why[512];
        ars_h5_reason(why, sizeof why);
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
int ars_h5_read_dataset(hid_t dset, hid_t mtype, void *out, const char *path, const char *name) {
    if (H5Dread(dset, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) < 0) {
        char why[512];
        ars_h5_reason(why, sizeof why);
        return ARS_ERR(ARS_STATUS_EINPUT, "'%s': cannot read dataset %s: the file is corrupt (%s)",
                       path, name, why);
    }
    return ARS_OK;
}

/* The first non-finite value of x, or -1. */
long ars_h5_first_non_finite(const double *x, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i])) {
            return (long)i;
        }
    }
    return -1;
}

/* Opens the 1-dimensional dataset `name` of class `cls` and gives its length, or says in one
 * message what is wrong with it. */
hid_t ars_h5_open_vector(hid_t file, const char *path, const char *name, H5T_class_t cls,
                         hsize_t *len) {
    hid_t d = ars_h5_open_dataset(file, path, name, "");
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
            ars_h5_shape_text(sp, shape, sizeof shape);
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
int ars_h5_read_vector(hid_t file, const char *path, const char *name, H5T_class_t cls, hid_t mtype,
                       void *out, size_t n, const char *why) {
    hsize_t len = 0;
    hid_t d = ars_h5_open_vector(file, path, name, cls, &len);
    if (d < 0) {
        return ARS_STATUS_EINPUT;
    }
    int rc = ARS_OK;
    if (len != (hsize_t)n) {
        rc = ARS_ERR(ARS_STATUS_EINPUT, "'%s': dataset %s has %llu entries but %s", path, name,
                     (unsigned long long)len, why);
    } else if (n > 0) {
        rc = ars_h5_read_dataset(d, mtype, out, path, name);
    }
    H5Dclose(d);
    return rc;
}
