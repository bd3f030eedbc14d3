/*
 * h5_image: an HDF5 output file built in memory with the core driver and its file-image
 * callbacks, then committed atomically (atomic_file.h). Internal to src/io (includes hdf5.h).
 */
#ifndef ARS_IO_H5_IMAGE_H
#define ARS_IO_H5_IMAGE_H

#include <stddef.h>

#include <hdf5.h>

/* A file is built in memory (HDF5's core driver, no backing store), then written with plain
 * write(2) calls to "<path>.tmp.<pid>", flushed to disk and renamed into place. HDF5 1.10 does not
 * survive a failed H5Fclose (a full disk, a file-size limit): it frees the file but keeps its id
 * and crashes at exit. In memory nothing fails half-way, and our own write reports the system's
 * reason (ENOSPC, EFBIG, EIO, ...) in one line. */
typedef struct ars_h5_out {
    char tmp[4200];
    hid_t id;
    unsigned char *image; /* the core driver's buffer, kept when the file is closed */
    size_t image_cap;     /* its allocated size */
} ars_h5_out;

/* Starts an output file: makes the folders of `path` and an empty HDF5 file in memory (o->id).
 * Returns 0, or an errno value (the folders), or -1 (HDF5) with o->id invalid. */
int ars_h5_out_open(ars_h5_out *o, const char *path);

/* Finishes an output file: closes the in-memory file and, when `ok`, writes it to the temporary
 * file and renames that into place. On any failure nothing is left behind, `path` is unchanged,
 * and one message says why (`what` failed while building the file when !ok). ARS_OK or
 * ARS_STATUS_EIO. */
int ars_h5_out_commit(ars_h5_out *o, const char *path, int ok, const char *what);

/* The message for an ars_h5_out_open failure (rc from ars_h5_out_open). */
int ars_h5_out_open_failed(ars_h5_out *o, const char *path, int rc);

#endif
