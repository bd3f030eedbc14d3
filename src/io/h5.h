/*
 * h5: the io module's checked HDF5 helpers. Internal to src/io: this header, h5_image.h and the
 * io .c files are the only places that include hdf5.h (nothing outside src/io includes them).
 * HDF5's own error stack is silenced (ars_h5_silence); the helpers return < 0 on failure, and
 * the readers below that take `path` report one message through ARS_ERR naming the file and the
 * object.
 */
#ifndef ARS_IO_H5_H
#define ARS_IO_H5_H

#include <stddef.h>
#include <stdint.h>

#include <hdf5.h>

/* 1 if `path` is an HDF5 file (H5Fis_accessible, or H5Fis_hdf5 before HDF5 1.12). */
htri_t ars_h5_is_hdf5_file(const char *path);

/* Turns off HDF5's automatic error printing. */
void ars_h5_silence(void);

/* The most specific message on HDF5's error stack into buf (called right after a failed call);
 * returns buf. */
const char *ars_h5_reason(char *buf, size_t len);

/* Attribute writers (< 0 on failure): rank 0 is a scalar; strings are variable-length UTF-8;
 * arrays hold at most ARS_MAX_LAYERS entries. */
herr_t ars_h5_attr_write(hid_t obj, const char *name, hid_t ftype, hid_t mtype, int rank,
                         const hsize_t *dims, const void *buf);
herr_t ars_h5_attr_i64(hid_t obj, const char *name, int64_t v);
herr_t ars_h5_attr_i64_array(hid_t obj, const char *name, const int *v, int n);
herr_t ars_h5_attr_string(hid_t obj, const char *name, const char *s);

/* Attribute readers (-1 on failure, no message): n numbers as int64, one double, one string
 * (control characters replaced by '?'). */
int ars_h5_attr_read_i64(hid_t obj, const char *name, int64_t *v, int n);
int ars_h5_attr_read_f64(hid_t obj, const char *name, double *v);
int ars_h5_attr_read_string(hid_t obj, const char *name, char *buf, size_t len);

/* Dataset writers (< 0 on failure); `compress` chunks whole rows and deflates when available. */
hid_t ars_h5_create_dataset(hid_t loc, const char *name, hid_t ftype, int rank, const hsize_t *dims,
                            int compress);
herr_t ars_h5_write_dataset(hid_t loc, const char *name, hid_t ftype, hid_t mtype, int rank,
                            const hsize_t *dims, const void *buf, int compress);
herr_t ars_h5_write_scalar(hid_t loc, const char *name, hid_t ftype, hid_t mtype, const void *v);

/* "[d0, d1, ...]" of a dataspace. */
void ars_h5_shape_text(hid_t space, char *buf, size_t len);

/* Opens the dataset `name` (an absolute path, as named in messages) or says, in one message,
 * that it is missing (`expect` says what was expected) or not a dataset. */
hid_t ars_h5_open_dataset(hid_t file, const char *path, const char *name, const char *expect);

/* Reads a whole dataset, converted to mtype, with one message naming it on failure. */
int ars_h5_read_dataset(hid_t dset, hid_t mtype, void *out, const char *path, const char *name);

/* The first non-finite value of x, or -1. */
long ars_h5_first_non_finite(const double *x, size_t n);

/* Opens the 1-dimensional dataset `name` of class `cls` and gives its length, or says in one
 * message what is wrong with it. */
hid_t ars_h5_open_vector(hid_t file, const char *path, const char *name, H5T_class_t cls,
                         hsize_t *len);

/* Reads the 1-dimensional dataset `name` of exactly n entries (`why` says where n comes from). */
int ars_h5_read_vector(hid_t file, const char *path, const char *name, H5T_class_t cls, hid_t mtype,
                       void *out, size_t n, const char *why);

#endif
