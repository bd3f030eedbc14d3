/*
 * checkpoint_read: the validating readers of arsampler's HDF5 files (see checkpoint.h and
 * docs/hdf5-format.md). Every input is checked before use, with one message naming the file and
 * the object; each public reader runs under the crash guard (crash_guard.h).
 */
#include "io/checkpoint.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hdf5.h>

#include "core/ars_common.h"
#include "io/crash_guard.h"
#include "io/h5.h"

/* Opens an existing HDF5 file read-only, with one message saying what is wrong otherwise: missing,
 * unreadable, a folder, empty, not HDF5, truncated or corrupt. */
static hid_t open_input(const char *path) {
    ars_h5_silence();
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
    if (ars_h5_is_hdf5_file(path) <= 0) {
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
        ars_h5_reason(why, sizeof why);
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
        if (ars_h5_attr_read_string(file, "format", fmt, sizeof fmt) != 0 ||
            strcmp(fmt, ARS_FORMAT_NAME) != 0) {
            return ARS_ERR(ARS_STATUS_EINPUT,
                           "'%s': root attribute 'format' is not \"" ARS_FORMAT_NAME
                           "\"; not an arsampler file",
                           path);
        }
    }
    if (H5Aexists(file, "format_version") > 0) {
        int64_t v = -1;
        if (ars_h5_attr_read_i64(file, "format_version", &v, 1) != 0) {
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
    int64_t size, local_size, layers, ks, groups, use_bias, sublattice = 1;
    int64_t feat[ARS_MAX_LAYERS], dil[ARS_MAX_LAYERS];
    char act[32], input[32], sym[64] = "none";
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
    } else if (ars_h5_attr_read_i64(h, "size", &size, 1) != 0) {
        missing = "/hilbert attribute 'size'";
    } else if (ars_h5_attr_read_i64(h, "local_size", &local_size, 1) != 0) {
        missing = "/hilbert attribute 'local_size'";
    } else if (ars_h5_attr_read_i64(m, "layers", &layers, 1) != 0 || layers < 1 ||
               layers > ARS_MAX_LAYERS) {
        missing = "/model attribute 'layers'";
    } else if (ars_h5_attr_read_i64(m, "features", feat, (int)layers) != 0) {
        missing = "/model attribute 'features'";
    } else if (ars_h5_attr_read_i64(m, "kernel_size", &ks, 1) != 0) {
        missing = "/model attribute 'kernel_size'";
    } else if (ars_h5_attr_read_i64(m, "kernel_dilation", dil, (int)layers) != 0) {
        missing = "/model attribute 'kernel_dilation'";
    } else if (ars_h5_attr_read_i64(m, "feature_group_count", &groups, 1) != 0) {
        missing = "/model attribute 'feature_group_count'";
    } else if (ars_h5_attr_read_i64(m, "use_bias", &use_bias, 1) != 0) {
        missing = "/model attribute 'use_bias'";
    } else if (ars_h5_attr_read_string(m, "activation", act, sizeof act) != 0) {
        missing = "/model attribute 'activation'";
    } else if (ars_h5_attr_read_string(m, "input", input, sizeof input) != 0) {
        missing = "/model attribute 'input'";
    } else if (H5Aexists(m, "sublattice") > 0 &&
               (ars_h5_attr_read_i64(m, "sublattice", &sublattice, 1) != 0 || sublattice < 2 ||
                sublattice > ARS_MAX_SUBLATTICE)) {
        missing = "/model attribute 'sublattice'";
    } else if (H5Aexists(m, "symmetrize") > 0 &&
               ars_h5_attr_read_string(m, "symmetrize", sym, sizeof sym) != 0) {
        missing = "/model attribute 'symmetrize'";
    } else if (H5Aexists(h, "total_sz") > 0 &&
               ars_h5_attr_read_f64(h, "total_sz", &total_sz) != 0) {
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
    arch->sublattice = (int)sublattice;
    if (ars_sym_parse(sym, &arch->symmetry) != 0) {
        return ARS_ERR(ARS_STATUS_EINPUT,
                       "'%s': unknown /model symmetrize '%s' (none, spin_flip, reflection, "
                       "both, translation, or translation with the others)",
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
    } else if (ars_arch_sublattice(f) != ars_arch_sublattice(n) &&
               (with_size || ars_arch_sublattice(f) > 1)) {
        /* [model] init widens a network without sublattice channels (load_variables). */
        what = "/model sublattice";
        snprintf(fv, sizeof fv, "%d", ars_arch_sublattice(f));
        snprintf(nv, sizeof nv, "%d ([model] sublattice)", ars_arch_sublattice(n));
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
    dset = ars_h5_open_dataset(file, path, name, expect);
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
        ars_h5_shape_text(space, shape_got, sizeof shape_got);
        ARS_ERR(ARS_STATUS_EINPUT,
                "'%s': dataset %s has shape %s but this network needs %s (check [model] "
                "features, kernel_size, feature_group_count, input and [system] spin)",
                path, name, shape_got, shape_want);
        goto done;
    }
    if (ars_h5_read_dataset(dset, H5T_NATIVE_DOUBLE, out, path, name) != ARS_OK) {
        goto done;
    }
    size_t count = 1;
    for (int i = 0; i < rank; i++) {
        count *= want[i];
    }
    long bad = ars_h5_first_non_finite(out, count);
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

/* A first-layer kernel read as (taps, cin_file, cout) into the front of `kernel` becomes
 * (taps, cin, cout) with zeros for the input channels cin_file..cin-1: the sublattice channels
 * that a file without them gains ([model] init), which leave the state as it was. */
static void widen_input(double *kernel, int taps, int cin_file, int cin, int cout) {
    const size_t row = (size_t)cout;
    for (int k = taps - 1; k >= 0; k--) { /* backwards: each tap moves to a later place */
        double *dst = kernel + (size_t)k * (size_t)cin * row;
        const double *src = kernel + (size_t)k * (size_t)cin_file * row;
        memmove(dst, src, (size_t)cin_file * row * sizeof(double));
        memset(dst + (size_t)cin_file * row, 0, (size_t)(cin - cin_file) * row * sizeof(double));
    }
}

static int load_variables(const char *path, ars_arnn *net, int *gained) {
    hid_t file = open_input(path);
    if (file < 0) {
        return ARS_STATUS_EINPUT;
    }
    double *tmp = NULL;
    int rc = check_format(file, path);
    int cin_file = net->layer[0].cin; /* the first layer's input channels in the file */
    if (rc == ARS_OK && H5Lexists(file, "model", H5P_DEFAULT) > 0) {
        ars_arch recorded;
        rc = read_arch_from(file, path, &recorded);
        if (rc == ARS_OK) {
            cin_file = ars_arch_input_channels(&recorded);
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
            /* NetKet's ARNNConv1D names its layers _layers_{i} and orders local states the
             * other way: its weights need the converter, not a rename. */
            snprintf(name, sizeof name, "/variables/params/_layers_%d", l);
            const int netket = H5Lexists(file, name, H5P_DEFAULT) > 0;
            snprintf(name, sizeof name, "/variables/params/layers_%d", l);
            rc =
                ARS_ERR(ARS_STATUS_EINPUT, "'%s': group %s is missing (the config has %d layers)%s",
                        path, name, net->arch.layers,
                        netket ? "; the file has NetKet's name _layers_*: convert NetKet weights "
                                 "with scripts/netket-convert (NetKet orders local states the "
                                 "other way)"
                               : "");
            break;
        }
        const int cin = l == 0 ? cin_file : c->cin;
        hsize_t kd[3] = {(hsize_t)c->taps, (hsize_t)(cin / c->groups), (hsize_t)c->cout};
        hsize_t bd[1] = {(hsize_t)c->cout};
        snprintf(name, sizeof name, "/variables/params/layers_%d/kernel", l);
        double *kernel = tmp + (c->kernel - net->params);
        rc = read_variable(file, path, name, 3, kd, kernel);
        if (rc == ARS_OK && cin < c->cin) {
            widen_input(kernel, c->taps, cin, c->cin, c->cout);
            if (gained != NULL) {
                *gained = c->cin - cin;
            }
        }
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

/* The architecture attributes of /phase, compared one by one with the config's. */
static int check_phase_arch(hid_t d, const char *path, const ars_phase *ph) {
    const ars_phase_arch *a = &ph->arch;
    char type[32] = "", act[32] = "";
    int64_t layers = -1, features = -1, K = -1, site = -1, pbc = -1, jastrow = 0;
    int64_t dil[ARS_MAX_LAYERS];
    if (ars_h5_attr_read_string(d, "type", type, sizeof type) != 0 ||
        ars_h5_attr_read_i64(d, "layers", &layers, 1) != 0 ||
        ars_h5_attr_read_i64(d, "features", &features, 1) != 0 ||
        ars_h5_attr_read_i64(d, "kernel_size", &K, 1) != 0 ||
        ars_h5_attr_read_string(d, "activation", act, sizeof act) != 0 ||
        ars_h5_attr_read_i64(d, "site_phase", &site, 1) != 0 ||
        ars_h5_attr_read_i64(d, "pbc", &pbc, 1) != 0) {
        return ARS_ERR(ARS_STATUS_EINPUT,
                       "'%s': /phase lacks an architecture attribute (type, layers, features, "
                       "kernel_size, kernel_dilation, activation, site_phase, pbc)",
                       path);
    }
    char fv[64], cv[64];
    const char *what = NULL;
    if (strcmp(type, ph->type->name) != 0) {
        what = "type";
        snprintf(fv, sizeof fv, "%s", type);
        snprintf(cv, sizeof cv, "%s", ph->type->name);
    } else if (layers != a->layers) {
        what = "layers";
        snprintf(fv, sizeof fv, "%lld", (long long)layers);
        snprintf(cv, sizeof cv, "%d", a->layers);
    } else if (features != a->features) {
        what = "features";
        snprintf(fv, sizeof fv, "%lld", (long long)features);
        snprintf(cv, sizeof cv, "%d", a->features);
    } else if (K != a->kernel_size) {
        what = "kernel_size";
        snprintf(fv, sizeof fv, "%lld", (long long)K);
        snprintf(cv, sizeof cv, "%d", a->kernel_size);
    } else if (strcmp(act, ars_activation_name(a->activation)) != 0) {
        what = "activation";
        snprintf(fv, sizeof fv, "%s", act);
        snprintf(cv, sizeof cv, "%s", ars_activation_name(a->activation));
    } else if ((site != 0) != (a->site_phase != 0)) {
        what = "site_phase";
        snprintf(fv, sizeof fv, "%s", site ? "true" : "false");
        snprintf(cv, sizeof cv, "%s", a->site_phase ? "true" : "false");
    } else if (ars_h5_attr_read_i64(d, "jastrow", &jastrow, 1) == 0 && jastrow != 0 &&
               !a->jastrow) {
        /* A file without the term loads into a config with it (w = 0: the same state). */
        what = "jastrow";
        snprintf(fv, sizeof fv, "true");
        snprintf(cv, sizeof cv, "false");
    } else if ((pbc != 0) != (a->pbc != 0)) {
        what = "pbc";
        snprintf(fv, sizeof fv, "%s", pbc ? "periodic" : "open");
        snprintf(cv, sizeof cv, "%s", a->pbc ? "periodic" : "open");
    } else if (ars_h5_attr_read_i64(d, "kernel_dilation", dil, a->layers) != 0) {
        return ARS_ERR(ARS_STATUS_EINPUT,
                       "'%s': /phase attribute kernel_dilation is not %d integers", path,
                       a->layers);
    } else {
        for (int l = 0; l < a->layers && what == NULL; l++) {
            if (dil[l] != a->dilation[l]) {
                what = "kernel_dilation";
                snprintf(fv, sizeof fv, "%lld at layer %d", (long long)dil[l], l);
                snprintf(cv, sizeof cv, "%d", a->dilation[l]);
            }
        }
    }
    if (what != NULL) {
        return ARS_ERR(ARS_STATUS_EINPUT,
                       "'%s': its phase network has %s %s but [phase] has %s; the phase network "
                       "of an init file must match the config",
                       path, what, fv, cv);
    }
    return ARS_OK;
}

/* The chain length of an open file (/hilbert attribute size) into *size. */
static int file_chain_size(hid_t file, const char *path, int64_t *size) {
    hid_t h = H5Lexists(file, "hilbert", H5P_DEFAULT) > 0 ? H5Gopen2(file, "hilbert", H5P_DEFAULT)
                                                          : H5I_INVALID_HID;
    const int bad =
        h < 0 || ars_h5_attr_read_i64(h, "size", size, 1) != 0 || *size < 1 || *size > INT_MAX;
    if (h >= 0) {
        H5Gclose(h);
    }
    if (bad) {
        ARS_ERR(ARS_STATUS_EINPUT, "'%s': /hilbert attribute 'size' is missing or invalid", path);
        return ARS_STATUS_EINPUT;
    }
    return ARS_OK;
}

/* The site phases beta [size, local_size] into out. From a chain of another length L_f (size
 * transfer) they repeat with period L_f, beta[t] = beta_f[t mod L_f]: exact for every pattern
 * whose period divides L_f (the Marshall sign from an even L_f); the conv layers do not depend
 * on the length. */
static int load_site_phases(hid_t file, const char *path, const ars_phase_arch *a, double *out) {
    int64_t fsize = 0;
    if (file_chain_size(file, path, &fsize) != ARS_OK) {
        return ARS_STATUS_EINPUT;
    }
    const size_t D = (size_t)a->local_size;
    double *fb = malloc((size_t)fsize * D * sizeof *fb);
    if (fb == NULL) {
        return ARS_ERR(ARS_STATUS_ENOMEM, "out of memory loading '%s'", path);
    }
    hsize_t bd[2] = {(hsize_t)fsize, (hsize_t)D};
    int rc = read_variable(file, path, "/variables/phase/beta", 2, bd, fb);
    for (int t = 0; rc == ARS_OK && t < a->size; t++) {
        memcpy(out + (size_t)t * D, fb + (size_t)(t % fsize) * D, D * sizeof *fb);
    }
    free(fb);
    return rc;
}

/* The Jastrow weights w_1..w_R into out: the file's w_1..w_{R_f} where the file has the term
 * (from a chain of another length, the distances both have; the others 0), all 0 where it has
 * not (the file's state exactly). */
static int load_jastrow(hid_t file, const char *path, const ars_phase_arch *a, double *out) {
    const int R = ars_phase_jastrow_range(a);
    memset(out, 0, (size_t)R * sizeof *out);
    if (H5Lexists(file, "/variables/phase/jastrow", H5P_DEFAULT) <= 0) {
        return ARS_OK;
    }
    int64_t fsize = 0;
    if (file_chain_size(file, path, &fsize) != ARS_OK) {
        return ARS_STATUS_EINPUT;
    }
    ars_phase_arch fa = *a;
    fa.size = (int)fsize;
    const int Rf = ars_phase_jastrow_range(&fa);
    double *fw = malloc(((size_t)Rf + 1) * sizeof *fw);
    if (fw == NULL) {
        return ARS_ERR(ARS_STATUS_ENOMEM, "out of memory loading '%s'", path);
    }
    hsize_t jd[1] = {(hsize_t)Rf};
    const int rc = read_variable(file, path, "/variables/phase/jastrow", 1, jd, fw);
    for (int r = 0; rc == ARS_OK && r < R && r < Rf; r++) {
        out[r] = fw[r];
    }
    free(fw);
    return rc;
}

static int load_phase(const char *path, ars_phase *ph) {
    hid_t file = open_input(path);
    if (file < 0) {
        return ARS_STATUS_EINPUT;
    }
    hid_t d = H5I_INVALID_HID;
    double *tmp = NULL;
    int rc = check_format(file, path);
    if (rc == ARS_OK && H5Lexists(file, "phase", H5P_DEFAULT) <= 0) {
        rc = ARS_ERR(ARS_STATUS_EINPUT, "'%s' has no phase network (/phase)", path);
    }
    if (rc == ARS_OK && (d = H5Oopen(file, "phase", H5P_DEFAULT)) < 0) {
        rc = ARS_ERR(ARS_STATUS_EINPUT, "'%s': cannot open /phase", path);
    }
    if (rc == ARS_OK) {
        rc = check_phase_arch(d, path, ph);
    }
    tmp = malloc(ph->n_params * sizeof(double) + 1);
    if (rc == ARS_OK && tmp == NULL) {
        rc = ARS_ERR(ARS_STATUS_ENOMEM, "out of memory loading '%s'", path);
    }
    const ars_phase_arch *a = &ph->arch;
    for (int l = 0; rc == ARS_OK && tmp != NULL && l < a->layers; l++) {
        char name[96];
        hsize_t kd[3] = {(hsize_t)a->kernel_size, (hsize_t)ars_phase_arch_cin(a, l),
                         (hsize_t)ars_phase_arch_cout(a, l)};
        hsize_t bd[1] = {(hsize_t)ars_phase_arch_cout(a, l)};
        snprintf(name, sizeof name, "/variables/phase/layers_%d/kernel", l);
        rc = read_variable(file, path, name, 3, kd, tmp + (ph->kernel[l] - ph->params));
        snprintf(name, sizeof name, "/variables/phase/layers_%d/bias", l);
        if (rc == ARS_OK) {
            rc = read_variable(file, path, name, 1, bd, tmp + (ph->bias[l] - ph->params));
        }
    }
    if (rc == ARS_OK && tmp != NULL && ph->beta != NULL) {
        rc = load_site_phases(file, path, a, tmp + (ph->beta - ph->params));
    }
    if (rc == ARS_OK && tmp != NULL && ph->jastrow != NULL) {
        rc = load_jastrow(file, path, a, tmp + (ph->jastrow - ph->params));
    }
    if (rc == ARS_OK && tmp != NULL) {
        memcpy(ph->params, tmp, ph->n_params * sizeof(double));
    }
    free(tmp);
    if (d >= 0) {
        H5Oclose(d);
    }
    H5Fclose(file);
    return rc;
}

static int has_phase(const char *path) {
    hid_t file = open_input(path);
    if (file < 0) {
        return -1;
    }
    const int has = H5Lexists(file, "phase", H5P_DEFAULT) > 0;
    H5Fclose(file);
    return has;
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
    dset = ars_h5_open_dataset(file, path, "/samples", "");
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
        ars_h5_shape_text(space, shape, sizeof shape);
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
    if (ars_h5_read_dataset(dset, H5T_NATIVE_INT8, values, path, "/samples") != ARS_OK) {
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
        dset = ars_h5_open_dataset(file, path, "/log_prob", "");
        if (dset < 0) {
            goto done;
        }
        if ((space = H5Dget_space(dset)) < 0 || (type = H5Dget_type(dset)) < 0) {
            ARS_ERR(ARS_STATUS_EINPUT, "'%s': cannot open dataset /log_prob", path);
            goto done;
        }
        if (H5Tget_class(type) != H5T_FLOAT || H5Sget_simple_extent_ndims(space) != 1 ||
            H5Sget_simple_extent_dims(space, ld, NULL) != 1 || ld[0] != dims[0]) {
            ars_h5_shape_text(space, shape, sizeof shape);
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
        if (ars_h5_read_dataset(dset, H5T_NATIVE_DOUBLE, lp, path, "/log_prob") != ARS_OK) {
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

/* /optimizer/m or /optimizer/v: P finite entries (v >= 0). */
static int read_moment(hid_t file, const char *path, const char *name, double *out, size_t P,
                       const char *non_negative) {
    char why[160];
    snprintf(why, sizeof why,
             "the network of the config has %zu parameters: [model] differs from the run that "
             "wrote the file (see its /model)",
             P);
    int rc = ars_h5_read_vector(file, path, name, H5T_FLOAT, H5T_NATIVE_DOUBLE, out, P, why);
    if (rc != ARS_OK) {
        return rc;
    }
    long bad = ars_h5_first_non_finite(out, P);
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
    double *vec[ARS_OPT_MAX_VECTORS];  /* (P) the optimizer's state vectors */
    int64_t *iter;                     /* (done) */
    double *cols[ARS_VMC_LOG_COLUMNS]; /* (done) each, in the order of ars_vmc_log_columns */
} train_state;

static void train_state_free(train_state *t) {
    for (int k = 0; k < ARS_OPT_MAX_VECTORS; k++) {
        free(t->vec[k]);
    }
    free(t->iter);
    for (int i = 0; i < ARS_VMC_LOG_COLUMNS; i++) {
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
    if (ars_h5_attr_read_string(g, "type", type, sizeof type) != 0) {
        ARS_ERR(rc, "'%s': /optimizer attribute 'type' is missing or not a string", path);
    } else if (strcmp(type, want) != 0) {
        ARS_ERR(rc,
                "'%s': /optimizer was %s but [vmc] optimizer is %s; resume with the same "
                "optimizer",
                path, type, want);
    } else if (ars_h5_attr_read_i64(g, "step", &t->step, 1) != 0 || t->step < 0) {
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
    int got = ars_h5_attr_read_i64(g, "iterations_done", &t->done, 1);
    H5Gclose(g);
    if (got != 0) {
        return ARS_ERR(ARS_STATUS_EINPUT,
                       "'%s': /vmc attribute 'iterations_done' is missing or not an integer", path);
    }
    /* The length of /vmc/iteration bounds iterations_done before anything is allocated. */
    hsize_t len = 0;
    hid_t d = ars_h5_open_vector(file, path, "/vmc/iteration", H5T_INTEGER, &len);
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
    for (int i = 0; i < ARS_VMC_LOG_COLUMNS; i++) {
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
    int rc = ars_h5_read_vector(file, path, "/vmc/iteration", H5T_INTEGER, H5T_NATIVE_INT64,
                                t->iter, n, why);
    for (size_t i = 0; rc == ARS_OK && i < n; i++) {
        if (t->iter[i] != (int64_t)i) {
            rc = ARS_ERR(ARS_STATUS_EINPUT,
                         "'%s': dataset /vmc/iteration should be 0, 1, 2, ... but entry %zu is "
                         "%lld; the training log is inconsistent",
                         path, i, (long long)t->iter[i]);
        }
    }
    for (int i = 0; rc == ARS_OK && i < ARS_VMC_LOG_COLUMNS; i++) {
        char name[64];
        snprintf(name, sizeof name, "/vmc/%s", ars_vmc_log_columns[i].name);
        if (ars_vmc_log_columns[i].optional && H5Lexists(file, name, H5P_DEFAULT) <= 0) {
            memset(t->cols[i], 0, n * sizeof(double)); /* a file from before the column */
            continue;
        }
        rc = ars_h5_read_vector(file, path, name, H5T_FLOAT, H5T_NATIVE_DOUBLE, t->cols[i], n, why);
    }
    return rc;
}

/* Opens the file of --resume (reported once when it is missing or unreadable). */
static hid_t open_resume(const char *path) {
    ars_h5_silence();
    if (access(path, F_OK) != 0) {
        ARS_ERR(ARS_STATUS_EINPUT,
                "--resume: cannot read '%s': %s; there is nothing to resume (run without "
                "--resume to start a training)",
                path, strerror(errno));
        return H5I_INVALID_HID;
    }
    return open_input(path);
}

/* A file to resume has the groups a training run writes (/optimizer, /vmc). */
static int check_training_groups(hid_t file, const char *path) {
    const char *const groups[2] = {"optimizer", "vmc"};
    for (int i = 0; i < 2; i++) {
        if (H5Lexists(file, groups[i], H5P_DEFAULT) <= 0) {
            return ARS_ERR(ARS_STATUS_EINPUT,
                           "'%s' has no /%s group: it is not the output of a training run ([run] "
                           "mode = train), so there is nothing to resume",
                           path, groups[i]);
        }
    }
    return ARS_OK;
}

static int load_train(const char *path, ars_opt *opt, ars_vmc_log *log) {
    hid_t file = open_resume(path);
    if (file < 0) {
        return ARS_STATUS_EINPUT;
    }
    train_state t;
    memset(&t, 0, sizeof t);
    int rc = check_format(file, path);
    if (rc == ARS_OK) {
        rc = check_training_groups(file, path);
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
        for (int i = 0; i < ARS_VMC_LOG_COLUMNS && n > 0; i++) {
            memcpy(ars_vmc_log_data(log, i), t.cols[i], n * sizeof(double));
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
    hid_t file = open_resume(path);
    if (file < 0) {
        return ARS_STATUS_EINPUT;
    }
    ars_arch recorded;
    int rc = check_format(file, path);
    if (rc == ARS_OK) {
        rc = check_training_groups(file, path);
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
    ars_crash_guard_begin(path);
    return ars_crash_guard_end(read_arch_file(path, arch));
}

int ars_io_load_variables(const char *path, ars_arnn *net, int *gained) {
    if (gained != NULL) {
        *gained = 0;
    }
    ars_crash_guard_begin(path);
    return ars_crash_guard_end(load_variables(path, net, gained));
}

int ars_io_load_phase(const char *path, ars_phase *ph) {
    ars_crash_guard_begin(path);
    return ars_crash_guard_end(load_phase(path, ph));
}

static int read_size(const char *path, int *size) {
    hid_t file = open_input(path);
    if (file < 0) {
        return ARS_STATUS_EINPUT;
    }
    int64_t n = 0;
    const int rc = file_chain_size(file, path, &n);
    H5Fclose(file);
    if (rc == ARS_OK) {
        *size = (int)n;
    }
    return rc;
}

int ars_io_read_size(const char *path, int *size) {
    ars_crash_guard_begin(path);
    return ars_crash_guard_end(read_size(path, size));
}

int ars_io_has_phase(const char *path) {
    ars_crash_guard_begin(path);
    const int has = has_phase(path);
    (void)ars_crash_guard_end(ARS_OK);
    return has;
}

int ars_io_read_samples(const char *path, const ars_hilbert *h, uint8_t **cfg, double **log_prob,
                        size_t *n) {
    ars_crash_guard_begin(path);
    return ars_crash_guard_end(read_samples(path, h, cfg, log_prob, n));
}

int ars_io_load_train(const char *path, ars_opt *opt, ars_vmc_log *log) {
    ars_crash_guard_begin(path);
    return ars_crash_guard_end(load_train(path, opt, log));
}

int ars_io_check_resume(const char *path, const ars_arch *arch) {
    ars_crash_guard_begin(path);
    return ars_crash_guard_end(check_resume(path, arch));
}

/* A finite double attribute of /evolution into *v, or one message. */
static int evolution_attr_f64(hid_t g, const char *path, const char *name, double *v) {
    if (ars_h5_attr_read_f64(g, name, v) != 0 || !isfinite(*v)) {
        return ARS_ERR(ARS_STATUS_EINPUT,
                       "'%s': /evolution attribute '%s' is missing, not a number or not finite",
                       path, name);
    }
    return ARS_OK;
}

/* A non-negative integer attribute of /evolution into *v, or one message. */
static int evolution_attr_count(hid_t g, const char *path, const char *name, int64_t *v) {
    if (ars_h5_attr_read_i64(g, name, v, 1) != 0 || *v < 0) {
        return ARS_ERR(ARS_STATUS_EINPUT,
                       "'%s': /evolution attribute '%s' is missing or not a count >= 0", path,
                       name);
    }
    return ARS_OK;
}

/* Reads the finite vector `name` of exactly n doubles into a malloc'd *out. */
static int evolution_vector(hid_t file, const char *path, const char *name, size_t n,
                            const char *why, double **out) {
    *out = malloc((n > 0 ? n : 1) * sizeof(double));
    if (*out == NULL) {
        return ARS_ERR(ARS_STATUS_ENOMEM, "out of memory reading '%s'", path);
    }
    return ars_h5_read_vector(file, path, name, H5T_FLOAT, H5T_NATIVE_DOUBLE, *out, n, why);
}

/* /evolution/observables/NAME/{mean,error}: [M] or [M, w]; *width receives w (1 for [M]),
 * *scalar whether it is [M], and the values are malloc'd. */
static int evolution_observable(hid_t file, const char *path, const char *obs, size_t M, int *width,
                                int *scalar, double **mean, double **error) {
    char name[128];
    const char *const part[2] = {"mean", "error"};
    double **out[2] = {mean, error};
    hsize_t dims0[2] = {0, 1};
    for (int q = 0; q < 2; q++) {
        snprintf(name, sizeof name, "/evolution/observables/%s/%s", obs, part[q]);
        hid_t d = ars_h5_open_dataset(file, path, name, "a float64 dataset");
        if (d < 0) {
            return ARS_STATUS_EINPUT;
        }
        hid_t space = H5Dget_space(d);
        const int rank = space >= 0 ? H5Sget_simple_extent_ndims(space) : -1;
        hsize_t dims[2] = {0, 1};
        if (rank == 1 || rank == 2) {
            H5Sget_simple_extent_dims(space, dims, NULL);
        }
        if (space >= 0) {
            H5Sclose(space);
        }
        if ((rank != 1 && rank != 2) || dims[0] != M || dims[1] < 1 || dims[1] > (1u << 20) ||
            (q == 1 && (dims[1] != dims0[1] || (rank == 1) != *scalar))) {
            H5Dclose(d);
            return ARS_ERR(ARS_STATUS_EINPUT,
                           "'%s': dataset %s should have %zu rows (one per /evolution/time), "
                           "as its mean has",
                           path, name, M);
        }
        dims0[1] = dims[1];
        *scalar = rank == 1;
        *out[q] = malloc(M * dims[1] * sizeof(double) + 1);
        int rc = *out[q] == NULL ? ARS_ERR(ARS_STATUS_ENOMEM, "out of memory reading '%s'", path)
                                 : ars_h5_read_dataset(d, H5T_NATIVE_DOUBLE, *out[q], path, name);
        H5Dclose(d);
        if (rc != ARS_OK) {
            return rc;
        }
    }
    *width = (int)dims0[1];
    return ARS_OK;
}

/* Everything /evolution holds, read before the caller's state is touched. */
typedef struct evolution_state {
    double t, dt, k0_energy, k0_energy_error, k0_residual;
    int64_t n_eval, accepted, rejected;
    size_t M, S;
    int have_k0;
    double *k0;
    double *rec[ARS_EVOLVE_RECORD_COLUMNS];
    double *steps[ARS_EVOLVE_STEP_COLUMNS];
    int width[ARS_OBS_SLOTS], scalar[ARS_OBS_SLOTS];
    double *mean[ARS_OBS_SLOTS], *error[ARS_OBS_SLOTS];
} evolution_state;

static void evolution_state_free(evolution_state *s) {
    free(s->k0);
    for (int i = 0; i < ARS_EVOLVE_RECORD_COLUMNS; i++) {
        free(s->rec[i]);
    }
    for (int i = 0; i < ARS_EVOLVE_STEP_COLUMNS; i++) {
        free(s->steps[i]);
    }
    for (int k = 0; k < ARS_OBS_SLOTS; k++) {
        free(s->mean[k]);
        free(s->error[k]);
    }
}

static int read_evolution(hid_t file, const char *path, const ars_evolve *e, unsigned mask,
                          const ars_evolve_record *r, evolution_state *s) {
    hid_t g = H5Gopen2(file, "evolution", H5P_DEFAULT);
    char text[64] = "";
    int rc = ARS_OK;
    int64_t imaginary = -1;
    if (ars_h5_attr_read_string(g, "integrator", text, sizeof text) != 0 ||
        strcmp(text, e->set.integrator->name) != 0) {
        rc = ARS_ERR(ARS_STATUS_EINPUT,
                     "'%s': /evolution was integrated with '%s', this run uses [evolve] "
                     "integrator = %s: resume with the same integrator",
                     path, text, e->set.integrator->name);
    } else if (ars_h5_attr_read_i64(g, "imaginary", &imaginary, 1) != 0 ||
               imaginary != e->set.imaginary) {
        rc = ARS_ERR(ARS_STATUS_EINPUT,
                     "'%s': /evolution attribute 'imaginary' is not this run's [evolve] "
                     "imaginary = %s",
                     path, e->set.imaginary ? "true" : "false");
    }
    const struct {
        const char *name;
        double *v;
    } f64[] = {{"t", &s->t},
               {"dt", &s->dt},
               {"k0_energy", &s->k0_energy},
               {"k0_energy_error", &s->k0_energy_error},
               {"k0_residual", &s->k0_residual}};
    for (size_t i = 0; i < sizeof f64 / sizeof f64[0] && rc == ARS_OK; i++) {
        rc = evolution_attr_f64(g, path, f64[i].name, f64[i].v);
    }
    if (rc == ARS_OK) {
        rc = evolution_attr_count(g, path, "n_evaluations", &s->n_eval);
    }
    if (rc == ARS_OK) {
        rc = evolution_attr_count(g, path, "steps_accepted", &s->accepted);
    }
    if (rc == ARS_OK) {
        rc = evolution_attr_count(g, path, "steps_rejected", &s->rejected);
    }
    H5Gclose(g);
    if (rc == ARS_OK && (s->dt <= 0.0 || s->t < 0.0)) {
        rc = ARS_ERR(ARS_STATUS_EINPUT, "'%s': /evolution has t = %g and dt = %g (dt must be > 0)",
                     path, s->t, s->dt);
    }
    hsize_t len = 0;
    if (rc == ARS_OK) {
        hid_t d = ars_h5_open_vector(file, path, "/evolution/k0", H5T_FLOAT, &len);
        rc = d < 0 ? ARS_STATUS_EINPUT : ARS_OK;
        if (d >= 0) {
            H5Dclose(d);
        }
        if (rc == ARS_OK && len != 0 && len != e->P) {
            rc = ARS_ERR(ARS_STATUS_EINPUT,
                         "'%s': dataset /evolution/k0 has %llu entries; this network has %zu "
                         "parameters (or 0 entries: none kept)",
                         path, (unsigned long long)len, e->P);
        }
        s->have_k0 = len == e->P;
    }
    if (rc == ARS_OK) {
        rc = evolution_vector(file, path, "/evolution/k0", (size_t)len, "the parameter count",
                              &s->k0);
    }
    if (rc == ARS_OK && ars_h5_first_non_finite(s->k0, (size_t)len) >= 0) {
        rc = ARS_ERR(ARS_STATUS_EINPUT, "'%s': dataset /evolution/k0 is not finite", path);
    }
    /* The measurement grid's length is /evolution/time's; the step log's /evolution/steps/t's. */
    char name[128];
    for (int part = 0; part < 2 && rc == ARS_OK; part++) {
        const char *first = part == 0 ? "/evolution/time" : "/evolution/steps/t";
        hid_t d = ars_h5_open_vector(file, path, first, H5T_FLOAT, &len);
        if (d < 0) {
            rc = ARS_STATUS_EINPUT;
            break;
        }
        H5Dclose(d);
        const int n = part == 0 ? ARS_EVOLVE_RECORD_COLUMNS : ARS_EVOLVE_STEP_COLUMNS;
        *(part == 0 ? &s->M : &s->S) = (size_t)len;
        for (int i = 0; i < n && rc == ARS_OK; i++) {
            snprintf(name, sizeof name, part == 0 ? "/evolution/%s" : "/evolution/steps/%s",
                     part == 0 ? ars_evolve_record_columns[i].name
                               : ars_evolve_step_columns[i].name);
            rc = evolution_vector(file, path, name, (size_t)len, first,
                                  part == 0 ? &s->rec[i] : &s->steps[i]);
        }
    }
    /* The built-in kinds of mask, then the record's operators; nothing else may be there. */
    const int has_group = H5Lexists(file, "/evolution/observables", H5P_DEFAULT) > 0;
    hsize_t expected = 0;
    for (int k = 0; k < ARS_OBS_COUNT + r->n_ops && rc == ARS_OK; k++) {
        const char *obs = ars_evolve_record_slot_name(r, k);
        snprintf(name, sizeof name, "/evolution/observables/%s", obs);
        const int has = has_group && H5Lexists(file, name, H5P_DEFAULT) > 0;
        const int wanted = k >= ARS_OBS_COUNT || ((mask >> k) & 1u);
        expected += (hsize_t)wanted;
        if (has != wanted) {
            rc = ARS_ERR(ARS_STATUS_EINPUT,
                         "'%s': %s %s, but this run's [observables] %s it: resume with the same "
                         "[observables]",
                         path, name, has ? "exists" : "is missing",
                         has ? "does not measure" : "measures");
        } else if (has) {
            rc = evolution_observable(file, path, obs, s->M, &s->width[k], &s->scalar[k],
                                      &s->mean[k], &s->error[k]);
        }
    }
    H5G_info_t info = {0};
    hid_t og = rc == ARS_OK && has_group ? H5Gopen2(file, "/evolution/observables", H5P_DEFAULT)
                                         : H5I_INVALID_HID;
    if (og >= 0 && H5Gget_info(og, &info) >= 0 && info.nlinks > expected) {
        rc = ARS_ERR(ARS_STATUS_EINPUT,
                     "'%s': /evolution/observables holds %llu observables, this run's "
                     "[observables] measures %llu: resume with the same [observables]",
                     path, (unsigned long long)info.nlinks, (unsigned long long)expected);
    }
    if (og >= 0) {
        H5Gclose(og);
    }
    return rc;
}

static int load_evolution(const char *path, const ars_arch *arch, ars_evolve *e,
                          ars_evolve_record *r, unsigned mask) {
    hid_t file = open_resume(path);
    if (file < 0) {
        return ARS_STATUS_EINPUT;
    }
    int rc = check_format(file, path);
    if (rc == ARS_OK && H5Lexists(file, "evolution", H5P_DEFAULT) <= 0) {
        rc = ARS_ERR(ARS_STATUS_EINPUT,
                     "'%s' has no /evolution group: it is not the output of a time evolution "
                     "([run] mode = evolve), so there is nothing to resume",
                     path);
    }
    ars_arch recorded;
    if (rc == ARS_OK) {
        rc = read_arch_from(file, path, &recorded);
    }
    if (rc == ARS_OK) {
        rc = compare_arch(&recorded, arch, path, 1);
    }
    evolution_state s;
    memset(&s, 0, sizeof s);
    if (rc == ARS_OK) {
        rc = read_evolution(file, path, e, mask, r, &s);
    }
    H5Fclose(file);
    if (rc == ARS_OK && (ars_evolve_steps_reserve(&e->steps, s.S + 1) != ARS_OK ||
                         ars_evolve_record_reserve(r, mask, s.width, s.M + 1) != ARS_OK)) {
        rc = ARS_STATUS_ENOMEM;
    }
    if (rc == ARS_OK) {
        /* Everything is valid: only now is the caller's state changed. */
        e->t = s.t;
        e->dt = s.dt;
        e->n_eval = s.n_eval;
        e->n_accepted = s.accepted;
        e->n_rejected = s.rejected;
        e->have_k0 = s.have_k0;
        e->k0_info.estimate.energy = s.k0_energy;
        e->k0_info.estimate.energy_error = s.k0_energy_error;
        e->k0_info.residual = s.k0_residual;
        if (s.have_k0) {
            memcpy(e->k, s.k0, e->P * sizeof(double));
        }
        for (int i = 0; i < ARS_EVOLVE_STEP_COLUMNS; i++) {
            memcpy(ars_evolve_steps_data(&e->steps, i), s.steps[i], s.S * sizeof(double));
        }
        e->steps.len = s.S;
        for (int i = 0; i < ARS_EVOLVE_RECORD_COLUMNS; i++) {
            memcpy(ars_evolve_record_data(r, i), s.rec[i], s.M * sizeof(double));
        }
        for (int k = 0; k < ARS_OBS_SLOTS; k++) {
            r->scalar[k] = s.scalar[k];
            if (s.width[k] > 0) {
                memcpy(r->mean[k], s.mean[k], s.M * (size_t)s.width[k] * sizeof(double));
                memcpy(r->error[k], s.error[k], s.M * (size_t)s.width[k] * sizeof(double));
            }
        }
        r->len = s.M;
    }
    evolution_state_free(&s);
    return rc;
}

int ars_io_load_evolution(const char *path, const ars_arch *arch, ars_evolve *e,
                          ars_evolve_record *r, unsigned mask) {
    ars_crash_guard_begin(path);
    return ars_crash_guard_end(load_evolution(path, arch, e, r, mask));
}
