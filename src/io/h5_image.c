/*
 * h5_image: HDF5 files built in memory and committed atomically (see h5_image.h).
 */
#include "io/h5_image.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/ars_common.h"
#include "io/atomic_file.h"
#include "io/h5.h"

static void *image_malloc(size_t size, H5FD_file_image_op_t op, void *udata) {
    (void)op;
    ars_h5_out *o = udata;
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
    ars_h5_out *o = udata;
    void *p = realloc(ptr, size > 0 ? size : 1);
    if (p != NULL) {
        o->image_cap = size;
    }
    return p;
}

static herr_t image_free(void *ptr, H5FD_file_image_op_t op, void *udata) {
    ars_h5_out *o = udata;
    if (op == H5FD_FILE_IMAGE_OP_FILE_CLOSE && ptr != NULL && o->image == NULL) {
        o->image = ptr; /* written out by ars_h5_out_commit */
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

/* Starts an output file: makes the folders of `path` and an empty HDF5 file in memory. Returns 0,
 * or an errno value (the folders), or -1 (HDF5) with o->id invalid. */
int ars_h5_out_open(ars_h5_out *o, const char *path) {
    ars_h5_silence();
    memset(o, 0, sizeof *o);
    o->id = H5I_INVALID_HID;
    ars_io_temporary_name(o->tmp, sizeof o->tmp, path);
    if (ars_io_make_parent_dirs(path) != 0) {
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

/* Finishes an output file: closes the in-memory file and, when `ok`, writes it to the temporary
 * file and renames that into place. On any failure nothing is left behind, `path` is unchanged,
 * and one message says why (`what` failed while building the file when !ok). */
int ars_h5_out_commit(ars_h5_out *o, const char *path, int ok, const char *what) {
    char reason[512] = "";
    if (!ok && o->id >= 0) {
        ars_h5_reason(reason, sizeof reason);
    }
    if (o->id >= 0 && H5Fclose(o->id) < 0 && ok) {
        ok = 0;
        what = "close the file";
        ars_h5_reason(reason, sizeof reason);
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
        err = ars_io_commit_file(o->tmp, path, o->image, len);
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
    return ARS_OK;
}

/* The message for an ars_h5_out_open failure (rc from ars_h5_out_open). */
int ars_h5_out_open_failed(ars_h5_out *o, const char *path, int rc) {
    if (rc > 0) {
        return ARS_ERR(ARS_STATUS_EIO, "cannot write '%s': cannot create its folder: %s", path,
                       strerror(rc));
    }
    return ars_h5_out_commit(o, path, 0, "create the file in memory");
}
