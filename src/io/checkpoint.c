/*
 * checkpoint (writer): the layout of arsampler's HDF5 files, written through h5.h's helpers into
 * an in-memory image (h5_image.h) that is committed atomically; see checkpoint.h and
 * docs/hdf5-format.md. The readers are in checkpoint_read.c.
 */
#include "io/checkpoint.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hdf5.h>

#include "core/ars_common.h"
#include "io/h5.h"
#include "io/h5_image.h"

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
    if (g < 0 || ars_h5_attr_i64(g, "size", a->hilbert.size) < 0 ||
        ars_h5_attr_i64(g, "local_size", a->hilbert.local_size) < 0 ||
        ars_h5_attr_write(g, "spin", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 0, NULL, &spin) < 0 ||
        ars_h5_write_dataset(g, "local_states", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, dims, states,
                             0) < 0) {
        goto done;
    }
    const double total_sz = 0.5 * a->hilbert.two_m;
    if (a->hilbert.constrained && ars_h5_attr_write(g, "total_sz", H5T_IEEE_F64LE,
                                                    H5T_NATIVE_DOUBLE, 0, NULL, &total_sz) < 0) {
        goto done;
    }
    H5Gclose(g);
    g = H5Gcreate2(file, "model", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0 || ars_h5_attr_i64(g, "layers", a->layers) < 0 ||
        ars_h5_attr_i64_array(g, "features", a->features, a->layers) < 0 ||
        ars_h5_attr_i64(g, "kernel_size", a->kernel_size) < 0 ||
        ars_h5_attr_i64_array(g, "kernel_dilation", a->dilation, a->layers) < 0 ||
        ars_h5_attr_string(g, "activation", ars_activation_name(a->activation)) < 0 ||
        ars_h5_attr_string(g, "input", ars_input_name(a->input)) < 0 ||
        ars_h5_attr_i64(g, "use_bias", a->use_bias) < 0 ||
        ars_h5_attr_i64(g, "feature_group_count", a->feature_group_count) < 0 ||
        ars_h5_attr_i64(g, "machine_pow", ARS_MACHINE_POW) < 0 ||
        ars_h5_attr_string(g, "symmetrize", ars_sym_name(a->symmetry)) < 0 ||
        ars_h5_attr_string(g, "dtype", dtype != NULL ? dtype : "float64") < 0 ||
        (a->sublattice > 1 && ars_h5_attr_i64(g, "sublattice", a->sublattice) < 0)) {
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
        herr_t e = ars_h5_write_dataset(lg, "kernel", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 3, kd,
                                        c->kernel, 0);
        if (e >= 0 && c->bias != NULL) {
            e = ars_h5_write_dataset(lg, "bias", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, bd, c->bias,
                                     0);
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

/* /phase (the samples' phases, with the architecture as attributes) and /variables/phase. */
static herr_t write_phase(hid_t file, const ars_phase *ph, const double *phi, size_t n) {
    const ars_phase_arch *a = &ph->arch;
    hid_t d = H5I_INVALID_HID, g = H5I_INVALID_HID;
    herr_t rc = -1;
    hsize_t nd[1] = {(hsize_t)n};
    d = ars_h5_create_dataset(file, "phase", H5T_IEEE_F64LE, 1, nd, n > 0);
    if (d < 0 ||
        (n > 0 && H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, phi) < 0) ||
        ars_h5_attr_string(d, "type", ph->type->name) < 0 ||
        ars_h5_attr_i64(d, "layers", a->layers) < 0 ||
        ars_h5_attr_i64(d, "features", a->features) < 0 ||
        ars_h5_attr_i64(d, "kernel_size", a->kernel_size) < 0 ||
        ars_h5_attr_i64_array(d, "kernel_dilation", a->dilation, a->layers) < 0 ||
        ars_h5_attr_string(d, "activation", ars_activation_name(a->activation)) < 0 ||
        ars_h5_attr_i64(d, "site_phase", a->site_phase) < 0 ||
        ars_h5_attr_i64(d, "jastrow", a->jastrow) < 0 || ars_h5_attr_i64(d, "pbc", a->pbc) < 0) {
        goto done;
    }
    g = H5Gcreate2(file, "variables/phase", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0) {
        goto done;
    }
    for (int l = 0; l < a->layers; l++) {
        char name[64];
        snprintf(name, sizeof name, "layers_%d", l);
        hid_t lg = H5Gcreate2(g, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        if (lg < 0) {
            goto done;
        }
        const int cin = ars_phase_arch_cin(a, l), cout = ars_phase_arch_cout(a, l);
        hsize_t kd[3] = {(hsize_t)a->kernel_size, (hsize_t)cin, (hsize_t)cout};
        hsize_t bd[1] = {(hsize_t)cout};
        herr_t e = ars_h5_write_dataset(lg, "kernel", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 3, kd,
                                        ph->kernel[l], 0);
        if (e >= 0) {
            e = ars_h5_write_dataset(lg, "bias", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, bd,
                                     ph->bias[l], 0);
        }
        H5Gclose(lg);
        if (e < 0) {
            goto done;
        }
    }
    if (ph->beta != NULL) {
        hsize_t bd[2] = {(hsize_t)a->size, (hsize_t)a->local_size};
        if (ars_h5_write_dataset(g, "beta", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 2, bd, ph->beta, 0) <
            0) {
            goto done;
        }
    }
    if (ph->jastrow != NULL) {
        hsize_t jd[1] = {(hsize_t)ars_phase_jastrow_range(a)};
        if (ars_h5_write_dataset(g, "jastrow", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, jd,
                                 ph->jastrow, 0) < 0) {
            goto done;
        }
    }
    rc = 0;
done:
    if (g >= 0) {
        H5Gclose(g);
    }
    if (d >= 0) {
        H5Dclose(d);
    }
    return rc;
}

/* The root attributes every arsampler file has. */
static herr_t write_root_attributes(hid_t file, const ars_io_meta *meta) {
    if (ars_h5_attr_string(file, "format", ARS_FORMAT_NAME) < 0 ||
        ars_h5_attr_i64(file, "format_version", ARS_FORMAT_VERSION) < 0 ||
        ars_h5_attr_string(file, "arsampler_version", ARS_VERSION) < 0 ||
        ars_h5_attr_string(file, "blas", ars_blas_config()) < 0 ||
        ars_h5_attr_string(file, "config", meta->config_text != NULL ? meta->config_text : "") <
            0 ||
        ars_h5_attr_write(file, "seed", H5T_STD_U64LE, H5T_NATIVE_UINT64, 0, NULL, &meta->seed) <
            0) {
        return -1;
    }
    return 0;
}

/* Bytes of one operator name in /hamiltonian/term_op ("S+" and its padding). */
#define ARS_IO_OP_NAME 3

/* The expanded term list (ops/terms.h): coupling, factor count, operator names and sites. */
static herr_t write_terms(hid_t g, const ars_ham *H) {
    ars_terms T;
    ars_terms_init(&T);
    if (ars_ham_term_list(H, &T) != ARS_OK) {
        return -1;
    }
    int F = 0;
    const size_t n = ars_terms_expanded_count(&T, H->size, H->pbc, &F);
    const size_t nn = n > 0 ? n : 1, nf = nn * (size_t)(F > 0 ? F : 1);
    double *coupling = malloc(nn * sizeof *coupling);
    int *nfac = malloc(nn * sizeof *nfac), *op = malloc(nf * sizeof *op);
    int *site = malloc(nf * sizeof *site);
    char(*name)[ARS_IO_OP_NAME] = calloc(nf, sizeof *name);
    herr_t rc = -1;
    if (coupling != NULL && nfac != NULL && op != NULL && site != NULL && name != NULL) {
        ars_terms_expand(&T, H->size, H->pbc, F, coupling, nfac, op, site);
        for (size_t e = 0; e < n * (size_t)F; e++) {
            if (op[e] >= 0) {
                snprintf(name[e], sizeof name[e], "%s", ars_site_op_name((ars_site_op)op[e]));
            }
        }
        const hsize_t d1[1] = {n}, d2[2] = {n, (hsize_t)F};
        hid_t st = H5Tcopy(H5T_C_S1);
        if (st >= 0 && H5Tset_size(st, ARS_IO_OP_NAME) >= 0 &&
            H5Tset_strpad(st, H5T_STR_NULLPAD) >= 0 &&
            ars_h5_write_dataset(g, "term_coupling", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, d1,
                                 coupling, 0) >= 0 &&
            ars_h5_write_dataset(g, "term_n_factors", H5T_STD_I32LE, H5T_NATIVE_INT, 1, d1, nfac,
                                 0) >= 0 &&
            ars_h5_write_dataset(g, "term_op", st, st, 2, d2, name, 0) >= 0 &&
            ars_h5_write_dataset(g, "term_site", H5T_STD_I32LE, H5T_NATIVE_INT, 2, d2, site, 0) >=
                0) {
            rc = 0;
        }
        if (st >= 0) {
            H5Tclose(st);
        }
    }
    free(coupling);
    free(nfac);
    free(op);
    free(site);
    free(name);
    ars_terms_free(&T);
    return rc;
}

/* /hamiltonian: its type, the numbers ars_ham_fields lists, and the expanded term list. */
static herr_t write_hamiltonian(hid_t file, const ars_ham *H) {
    hid_t g = H5Gcreate2(file, "hamiltonian", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    herr_t rc = g >= 0 && ars_h5_attr_string(g, "type", ars_ham_type_name(H->type)) >= 0 ? 0 : -1;
    for (int k = 0; k < ARS_HAM_N_FIELDS && rc >= 0; k++) {
        const ars_ham_field *f = &ars_ham_fields[k];
        const char *at = (const char *)H + f->offset;
        if (f->is_int) {
            int v;
            memcpy(&v, at, sizeof v);
            rc = ars_h5_attr_i64(g, f->name, v);
        } else {
            double v;
            memcpy(&v, at, sizeof v);
            rc = ars_h5_attr_write(g, f->name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 0, NULL, &v);
        }
    }
    if (rc >= 0) {
        rc = write_terms(g, H);
    }
    if (g >= 0) {
        H5Gclose(g);
    }
    return rc < 0 ? -1 : 0;
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
            (method == NULL || ars_h5_attr_string(d, "method", method) >= 0)) {
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

static herr_t write_train(hid_t file, const ars_io_train *tr, size_t P) {
    hid_t g = H5I_INVALID_HID;
    herr_t rc = -1;
    const ars_opt *o = tr->opt;
    const ars_vmc_log *log = tr->log;
    hsize_t pd[1] = {(hsize_t)P}, ld[1] = {(hsize_t)log->len};
    if (write_hamiltonian(file, tr->H) < 0) {
        return -1;
    }
    if (!isnan(tr->exact_energy) && write_reference(file, tr->exact_energy, NULL) < 0) {
        return -1;
    }
    g = H5Gcreate2(file, "optimizer", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    /* The optimizer's type, step count, every hyperparameter and its named state vectors. */
    if (g < 0 || ars_h5_attr_string(g, "type", o->type->name) < 0 ||
        ars_h5_attr_i64(g, "step", o->step) < 0) {
        goto done;
    }
    for (int h = 0; h < ARS_OPT_N_HYPER; h++) {
        if (ars_h5_attr_write(g, ars_opt_hyper_names[h], H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 0, NULL,
                              &o->hyper[h]) < 0) {
            goto done;
        }
    }
    for (int k = 0; k < o->type->n_vectors; k++) {
        if (ars_h5_write_dataset(g, o->type->vectors[k].name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1,
                                 pd, o->vec[k], 0) < 0) {
            goto done;
        }
    }
    H5Gclose(g);
    g = H5Gcreate2(file, "vmc", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0 || ars_h5_attr_i64(g, "iterations_done", (int64_t)log->len) < 0 ||
        ars_h5_write_dataset(g, "iteration", H5T_STD_I64LE, H5T_NATIVE_INT64, 1, ld, log->iteration,
                             0) < 0) {
        goto done;
    }
    for (int i = 0; i < ARS_VMC_LOG_COLUMNS; i++) {
        if (ars_h5_write_dataset(g, ars_vmc_log_columns[i].name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE,
                                 1, ld, ars_vmc_log_data(log, i), 0) < 0) {
            goto done;
        }
    }
    if (tr->final != NULL) {
        const ars_vmc_estimate *e = tr->final;
        if (ars_h5_attr_write(g, "final_energy", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 0, NULL,
                              &e->energy) < 0 ||
            ars_h5_attr_write(g, "final_energy_error", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 0, NULL,
                              &e->energy_error) < 0 ||
            ars_h5_attr_write(g, "final_energy_variance", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 0,
                              NULL, &e->energy_variance) < 0 ||
            ars_h5_attr_write(g, "final_vscore", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 0, NULL,
                              &e->vscore) < 0 ||
            ars_h5_attr_write(g, "final_relative_error", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 0, NULL,
                              &e->relative_error) < 0 ||
            ars_h5_attr_i64(g, "final_samples", (int64_t)e->n_samples) < 0) {
            goto done;
        }
        if (!isnan(e->projected_energy) &&
            (ars_h5_attr_write(g, "final_projected_energy", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 0,
                               NULL, &e->projected_energy) < 0 ||
             ars_h5_attr_write(g, "final_projected_energy_error", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE,
                               0, NULL, &e->projected_energy_error) < 0 ||
             ars_h5_attr_write(g, "final_projected_relative_error", H5T_IEEE_F64LE,
                               H5T_NATIVE_DOUBLE, 0, NULL, &e->projected_relative_error) < 0 ||
             ars_h5_attr_write(g, "final_symmetry_overlap", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 0,
                               NULL, &e->overlap) < 0 ||
             ars_h5_attr_write(g, "final_symmetry_overlap_error", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE,
                               0, NULL, &e->overlap_error) < 0)) {
            goto done;
        }
        if (tr->complex_wf &&
            (ars_h5_attr_write(g, "final_energy_imag", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 0, NULL,
                               &e->energy_imag) < 0 ||
             ars_h5_attr_write(g, "final_energy_imag_error", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 0,
                               NULL, &e->energy_imag_error) < 0)) {
            goto done;
        }
    }
    if (tr->final != NULL && tr->phase_seconds != NULL && tr->timed_steps > 0) {
        for (int p = 0; p < ARS_VMC_N_PHASES; p++) {
            char name[64];
            snprintf(name, sizeof name, "seconds_%s", ars_vmc_phase_names[p]);
            const double s = tr->phase_seconds[p] / (double)tr->timed_steps;
            if (ars_h5_attr_write(g, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 0, NULL, &s) < 0) {
                goto done;
            }
        }
        const double su = (double)tr->eloc_sites_useful / (double)tr->timed_steps;
        const double sc = (double)tr->eloc_sites_computed / (double)tr->timed_steps;
        if (ars_h5_attr_write(g, "local_energy_sites_useful", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 0,
                              NULL, &su) < 0 ||
            ars_h5_attr_write(g, "local_energy_sites_computed", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE,
                              0, NULL, &sc) < 0 ||
            ars_h5_attr_write(g, "seconds_checkpoint", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 0, NULL,
                              &tr->checkpoint_seconds) < 0) {
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

/* /observables/NAME/{mean, error, n_samples, ...} of one measured observable: built-in kind k,
 * or a user operator (k = -1, named `name`, its terms in the attribute definition). */
static herr_t write_observable(hid_t parent, int k, const char *name, const char *definition,
                               const ars_obs_value *v) {
    hid_t g =
        H5Gcreate2(parent, k >= 0 ? ars_obs_names[k] : name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0) {
        return -1;
    }
    herr_t rc = ars_h5_attr_string(g, "description",
                                   k >= 0 ? ars_obs_description((ars_obs_kind)k)
                                          : ARS_OBS_OPERATOR_DESCRIPTION);
    if (rc >= 0 && k < 0) {
        rc = ars_h5_attr_string(g, "definition", definition);
    }
    hsize_t dims[1] = {(hsize_t)v->len};
    if (rc >= 0 && v->len > 0) {
        rc =
            ars_h5_write_dataset(g, "mean", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, dims, v->mean, 0);
        if (rc >= 0) {
            rc = ars_h5_write_dataset(g, "error", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, dims,
                                      v->error, 0);
        }
    } else if (rc >= 0) {
        rc = ars_h5_write_scalar(g, "mean", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, v->mean);
        if (rc >= 0) {
            rc = ars_h5_write_scalar(g, "error", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, v->error);
        }
    }
    if (rc >= 0) {
        rc = ars_h5_write_scalar(g, "n_samples", H5T_STD_I64LE, H5T_NATIVE_INT64, &v->n_samples);
    }
    if (rc >= 0 && (k == ARS_OBS_ENERGY || k < 0)) {
        rc = ars_h5_write_scalar(g, "variance", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &v->variance);
    }
    if (rc >= 0 && v->coord != NULL) {
        rc = ars_h5_write_dataset(g, k == ARS_OBS_RENYI2 ? "cuts" : "distance", H5T_STD_I64LE,
                                  H5T_NATIVE_INT64, 1, dims, v->coord, 0);
        if (rc >= 0 && k != ARS_OBS_RENYI2) {
            rc = ars_h5_attr_i64(g, "centre", v->centre);
        }
    }
    if (rc >= 0 && v->k != NULL) {
        rc = ars_h5_write_dataset(g, "k", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, dims, v->k, 0);
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
    herr_t rc = ars_h5_attr_i64(g, "n_samples", obs->n_samples);
    if (rc >= 0) {
        rc = ars_h5_attr_i64(g, "pbc", obs->pbc);
    }
    if (rc >= 0) {
        rc = ars_h5_attr_i64(g, "marshall_sign", obs->marshall_sign);
    }
    if (rc >= 0) {
        rc = ars_h5_attr_string(g, "source", source != NULL ? source : "samples");
    }
    for (int k = 0; k < ARS_OBS_COUNT && rc >= 0; k++) {
        if (obs->mask & (1u << k)) {
            rc = write_observable(g, k, NULL, NULL, &obs->v[k]);
        }
    }
    for (int k = 0; k < obs->n_ops && rc >= 0; k++) {
        rc = write_observable(g, -1, obs->op_name[k], obs->op_definition[k], &obs->op_v[k]);
    }
    if (H5Gclose(g) < 0) {
        rc = -1;
    }
    return rc;
}

/* /evolution: the stepper's state (attributes and k0), the measurements on the time grid and the
 * step log (checkpoint.h). */
static herr_t write_evolution(hid_t file, const ars_evolve *e, const ars_evolve_record *r) {
    hid_t g = H5Gcreate2(file, "evolution", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0) {
        return -1;
    }
    const hsize_t md[2] = {(hsize_t)r->len, 0}, sd[1] = {(hsize_t)e->steps.len};
    const hsize_t kd[1] = {e->have_k0 ? (hsize_t)e->P : 0};
    const double attr_f64[] = {e->t,
                               e->dt,
                               e->k0_info.estimate.energy,
                               e->k0_info.estimate.energy_error,
                               e->k0_info.residual,
                               e->set.t_end,
                               e->set.tolerance};
    const char *const attr_f64_names[] = {"t",           "dt",    "k0_energy", "k0_energy_error",
                                          "k0_residual", "t_end", "tolerance"};
    herr_t rc = ars_h5_attr_string(g, "integrator", e->set.integrator->name);
    for (size_t i = 0; i < sizeof attr_f64 / sizeof attr_f64[0] && rc >= 0; i++) {
        rc = ars_h5_attr_write(g, attr_f64_names[i], H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 0, NULL,
                               &attr_f64[i]);
    }
    if (rc >= 0) {
        rc = ars_h5_attr_i64(g, "imaginary", e->set.imaginary);
    }
    if (rc >= 0) {
        rc = ars_h5_attr_i64(g, "n_evaluations", e->n_eval);
    }
    if (rc >= 0) {
        rc = ars_h5_attr_i64(g, "steps_accepted", e->n_accepted);
    }
    if (rc >= 0) {
        rc = ars_h5_attr_i64(g, "steps_rejected", e->n_rejected);
    }
    if (rc >= 0) {
        rc = ars_h5_write_dataset(g, "k0", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, kd, e->k, 0);
    }
    for (int i = 0; i < ARS_EVOLVE_RECORD_COLUMNS && rc >= 0; i++) {
        rc = ars_h5_write_dataset(g, ars_evolve_record_columns[i].name, H5T_IEEE_F64LE,
                                  H5T_NATIVE_DOUBLE, 1, md, ars_evolve_record_data(r, i), 0);
    }
    hid_t og = rc >= 0 ? H5Gcreate2(g, "observables", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)
                       : H5I_INVALID_HID;
    rc = og < 0 ? -1 : rc;
    for (int k = 0; k < ARS_OBS_SLOTS && rc >= 0; k++) {
        if (r->width[k] == 0) {
            continue;
        }
        hid_t kg = H5Gcreate2(og, ars_evolve_record_slot_name(r, k), H5P_DEFAULT, H5P_DEFAULT,
                              H5P_DEFAULT);
        /* (times) for a scalar, (times, len) otherwise */
        const int scalar = r->scalar[k];
        const hsize_t od[2] = {(hsize_t)r->len, (hsize_t)r->width[k]};
        rc = kg < 0 ? -1
                    : ars_h5_attr_string(kg, "description",
                                         k < ARS_OBS_COUNT ? ars_obs_description((ars_obs_kind)k)
                                                           : ARS_OBS_OPERATOR_DESCRIPTION);
        if (rc >= 0) {
            rc = ars_h5_write_dataset(kg, "mean", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, scalar ? 1 : 2,
                                      od, r->mean[k], 0);
        }
        if (rc >= 0) {
            rc = ars_h5_write_dataset(kg, "error", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE,
                                      scalar ? 1 : 2, od, r->error[k], 0);
        }
        if (kg >= 0 && H5Gclose(kg) < 0) {
            rc = -1;
        }
    }
    if (og >= 0 && H5Gclose(og) < 0) {
        rc = -1;
    }
    hid_t sg =
        rc >= 0 ? H5Gcreate2(g, "steps", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT) : H5I_INVALID_HID;
    rc = sg < 0 ? -1 : rc;
    for (int i = 0; i < ARS_EVOLVE_STEP_COLUMNS && rc >= 0; i++) {
        rc = ars_h5_write_dataset(sg, ars_evolve_step_columns[i].name, H5T_IEEE_F64LE,
                                  H5T_NATIVE_DOUBLE, 1, sd, ars_evolve_steps_data(&e->steps, i), 0);
    }
    if (sg >= 0 && H5Gclose(sg) < 0) {
        rc = -1;
    }
    if (H5Gclose(g) < 0) {
        rc = -1;
    }
    return rc;
}

int ars_io_write(const char *path, const ars_io_meta *meta, const ars_arnn *net, const uint8_t *cfg,
                 const double *log_prob, size_t n, const ars_io_train *train) {
    ars_h5_out o;
    int8_t *values = NULL;
    const char *what = "write the root attributes";
    const int opened = ars_h5_out_open(&o, path);
    if (opened != 0) {
        return ars_h5_out_open_failed(&o, path, opened);
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
        if (ars_h5_write_dataset(o.id, "samples", H5T_STD_I8LE, H5T_NATIVE_INT8, 2, sd, values, 1) <
            0) {
            goto fail;
        }
        free(values);
        values = NULL;
        what = "write /log_prob";
        hsize_t ld[1] = {(hsize_t)n};
        if (ars_h5_write_dataset(o.id, "log_prob", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, ld,
                                 log_prob, 1) < 0) {
            goto fail;
        }
        what = "write /local_energy";
        if (meta->sample_eloc != NULL &&
            (ars_h5_write_dataset(o.id, "local_energy", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, ld,
                                  meta->sample_eloc, 1) < 0 ||
             (meta->phase != NULL &&
              ars_h5_write_dataset(o.id, "local_energy_imag", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1,
                                   ld, meta->sample_eloc + n, 1) < 0))) {
            goto fail;
        }
        what = "write /importance_weight";
        if (meta->sample_weight != NULL &&
            ars_h5_write_dataset(o.id, "importance_weight", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1,
                                 ld, meta->sample_weight, 1) < 0) {
            goto fail;
        }
    }
    if (meta->phase != NULL) {
        what = "write /phase and /variables/phase";
        if (write_phase(o.id, meta->phase, meta->sample_phase, n) < 0) {
            goto fail;
        }
    }
    if (train != NULL) {
        what = "write the training state (/hamiltonian, /optimizer, /vmc)";
        const size_t P = net->n_params + (meta->phase != NULL ? meta->phase->n_params : 0);
        if (write_train(o.id, train, P) < 0) {
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
    if (meta->evolve != NULL) {
        what = "write /evolution";
        if (write_evolution(o.id, meta->evolve, meta->record) < 0) {
            goto fail;
        }
    }
    if (meta->obs != NULL) {
        what = "write /observables";
        if (write_observables(o.id, meta->obs, meta->obs_source) < 0) {
            goto fail;
        }
    }
    return ars_h5_out_commit(&o, path, 1, NULL);
fail:
    free(values);
    return ars_h5_out_commit(&o, path, 0, what);
}

int ars_io_write_exact(const char *path, const ars_io_meta *meta, const ars_hilbert *h,
                       const ars_ham *H, double energy, const char *method) {
    ars_h5_out o;
    const int opened = ars_h5_out_open(&o, path);
    if (opened != 0) {
        return ars_h5_out_open_failed(&o, path, opened);
    }
    int ok = write_root_attributes(o.id, meta) >= 0;
    if (ok) {
        const double spin = 0.5 * h->two_s;
        hid_t g = H5Gcreate2(o.id, "hilbert", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        ok = g >= 0 && ars_h5_attr_i64(g, "size", h->size) >= 0 &&
             ars_h5_attr_i64(g, "local_size", h->local_size) >= 0 &&
             ars_h5_attr_write(g, "spin", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 0, NULL, &spin) >= 0;
        if (g >= 0) {
            H5Gclose(g);
        }
    }
    ok = ok && write_hamiltonian(o.id, H) >= 0 && write_reference(o.id, energy, method) >= 0;
    return ars_h5_out_commit(&o, path, ok,
                             "write the root attributes, /hilbert, /hamiltonian and /reference");
}
