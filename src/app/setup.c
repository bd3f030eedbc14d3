/*
 * setup: the Hamiltonian, its exact reference and the network of a run (see setup.h).
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/output.h"
#include "app/setup.h"
#include "est/projector.h"
#include "config/config_key.h"
#include "core/ars_common.h"
#include "ops/exact.h"

int ars_setup_hamiltonian(const ars_config *cfg, ars_ham *H) {
    ars_terms T;
    ars_terms_init(&T);
    int rc = cfg->ham_type == ARS_HAM_TERMS ? ars_ham_config_terms(cfg, &T) : ARS_OK;
    if (rc == ARS_OK) {
        const ars_ham_preset p = {.type = (ars_ham_type)cfg->ham_type,
                                  .J = cfg->ham_J,
                                  .h = cfg->ham_h,
                                  .Delta = cfg->ham_Delta,
                                  .J2 = cfg->ham_J2,
                                  .pbc = cfg->ham_pbc,
                                  .marshall_sign = cfg->ham_marshall,
                                  .D = cfg->ham_D,
                                  .hz = cfg->ham_hz,
                                  .hx = cfg->ham_hx,
                                  .J_bq = cfg->ham_Jbq,
                                  .terms = &T,
                                  .dm = cfg->ham_dm,
                                  .gamma = cfg->ham_gamma};
        rc = ars_ham_init(H, &p, cfg->size, cfg->two_s);
    } else {
        memset(H, 0, sizeof *H);
    }
    ars_terms_free(&T);
    return rc;
}

int ars_setup_check_projection(const ars_config *cfg, const ars_ham *H) {
    if (cfg->mode != ARS_MODE_TRAIN || (cfg->projected_group == ARS_SYM_NONE && !cfg->projection)) {
        return ARS_OK;
    }
    const int model = cfg->projection;
    const ars_sym group = (ars_sym)(model ? cfg->symmetrize : cfg->projected_group);
    ars_op *op = ars_ham_operator(H);
    if (op == NULL) {
        return ARS_STATUS_ENOMEM;
    }
    const char *bad = NULL;
    const int inv = ars_proj_op_invariant(op, group, &bad);
    ars_op_free(op);
    if (inv < 0) {
        return ARS_STATUS_ENOMEM;
    }
    if (inv == 0) {
        return ars_ini_error(ars_config_key_where(cfg, model ? "model" : "vmc",
                                                  model ? "projection" : "projected_estimate"),
                             "[%s] %s: the Hamiltonian is not invariant under %s (H(g s, g s') != "
                             "H(s, s')), so the projector does not commute with it and %s would "
                             "not be the projected state's energy (got %s)",
                             model ? "model" : "vmc", model ? "projection" : "projected_estimate",
                             bad, model ? "E_P,loc" : "the estimate", ars_sym_name(group));
    }
    return ARS_OK;
}

/* Lanczos for the reference: the configured sector, else every sector (or the full space). */
static double lanczos_reference(const ars_config *cfg, const ars_ham *H, size_t max_states,
                                const char **method) {
    ars_op *op = ars_ham_operator(H);
    if (op == NULL) {
        return NAN;
    }
    const int sector = cfg->two_m != ARS_CONFIG_NO_SECTOR && ars_op_conserves_sz(op);
    const int two_m = sector ? cfg->two_m : ARS_EXACT_ANY_SECTOR;
    double e0 = NAN;
    ars_exact_result res;
    if (ars_exact_lanczos_states(op, two_m, NULL) <= max_states &&
        ars_exact_lanczos(op, two_m, 5000, 1e-12, &res) == ARS_OK) {
        e0 = res.energy;
        /* The state lives in the configured sector: its lowest energy is the reference. */
        *method = sector           ? "Lanczos in the [system] total_sz sector"
                  : !res.in_sector ? "Lanczos, full space"
                  : res.two_m == 0 ? "Lanczos, total Sz = 0"
                                   : "Lanczos, lowest over the total Sz sectors";
    }
    ars_op_free(op);
    return e0;
}

double ars_setup_exact_reference(const ars_config *cfg, const ars_ham *H, size_t max_states,
                                 const char **method) {
    if (!isnan(cfg->ham_exact)) {
        *method = "[hamiltonian] exact_energy";
        return cfg->ham_exact;
    }
    double e0 = ars_ham_closed_form(
        H, cfg->two_m != ARS_CONFIG_NO_SECTOR ? cfg->two_m : ARS_EXACT_ANY_SECTOR, method);
    if (isnan(e0)) {
        e0 = lanczos_reference(cfg, H, max_states, method);
    }
    if (isnan(e0)) {
        *method = "unknown";
    }
    return e0;
}

int ars_setup_exact_energy(const ars_config *cfg, const ars_ham *H, double *e0,
                           const char **method) {
    *e0 = ars_setup_exact_reference(cfg, H, ARS_EXACT_LANCZOS_MAX_STATES, method);
    if (isnan(*e0)) {
        return ARS_ERR(ARS_STATUS_ECONFIG,
                       "%s: [run] mode = exact: no exact method for %s with %d sites (Lanczos "
                       "works up to %zu states in one S^z sector, or in the full space when the "
                       "operator does not conserve S^z)",
                       cfg->source, ars_ham_type_name(H->type), H->size,
                       ARS_EXACT_LANCZOS_MAX_STATES);
    }
    return ARS_OK;
}

void ars_setup_print_hamiltonian(const ars_ham *H, double exact, const char *method) {
    printf("hamiltonian: %s", ars_ham_type_name(H->type));
    if (H->type != ARS_HAM_TERMS) {
        printf(", J %g", H->J);
    }
    if (H->type == ARS_HAM_TFIM) {
        printf(", h %g", H->h);
    } else if (H->type == ARS_HAM_XXZ) {
        printf(", Delta %g", H->Delta);
    } else if (H->type == ARS_HAM_J1J2) {
        printf(", J2 %g", H->J2);
    } else if (H->type == ARS_HAM_BLBQ) {
        printf(", J_bq %g", H->J_bq);
    }
    const double extra[5] = {H->gamma, H->dm, H->D, H->hz, H->hx};
    const char *const extra_name[5] = {"gamma", "dm", "D", "hz", "hx"};
    for (int k = 0; k < 5; k++) {
        if (extra[k] != 0.0) {
            printf(", %s %g", extra_name[k], extra[k]);
        }
    }
    printf(", %s%s; exact energy %.10f (%s)\n", H->pbc ? "periodic" : "open",
           H->marshall_sign ? ", Marshall sign" : "", exact, method);
}

/* How many expanded terms are shown at start for type = terms. */
#define SHOWN_TERMS 4

int ars_setup_check_operator(const ars_config *cfg, const ars_ham *H, int quiet) {
    ars_terms T;
    ars_terms_init(&T);
    int rc = ars_ham_term_list(H, &T);
    ars_op *op = rc == ARS_OK ? ars_terms_operator(&T, H->size, H->two_s, H->pbc, &rc) : NULL;
    if (op == NULL) {
        ars_terms_free(&T);
        return rc != ARS_OK ? rc : ARS_STATUS_ENOMEM;
    }
    int F = 0;
    const size_t n = ars_terms_expanded_count(&T, H->size, H->pbc, &F);
    const int conserves = ars_op_conserves_sz(op);
    const int stoq = ars_op_stoquastic(op, 0);
    const int stoq_m = H->marshall_sign ? ars_op_stoquastic(op, 1) : stoq;
    if (stoq < 0 || stoq_m < 0) {
        rc = ARS_STATUS_ENOMEM;
    }
    if (!quiet && rc == ARS_OK) {
        printf("operator: %d terms, %zu on the chain, at most %d connections per configuration; "
               "total S^z %s; %s in the S^z basis%s\n",
               T.n, n, ars_op_max_connections(op), conserves ? "conserved" : "not conserved",
               stoq ? "stoquastic" : "not stoquastic",
               H->marshall_sign ? (stoq_m ? ", stoquastic with the Marshall sign"
                                          : ", not stoquastic with the Marshall sign either")
                                : "");
        if (H->type == ARS_HAM_TERMS && n > 0 && F > 0) {
            const size_t show = n < SHOWN_TERMS ? n : SHOWN_TERMS;
            double *c = malloc(n * sizeof *c);
            int *nf = malloc(n * sizeof *nf), *o = malloc(n * (size_t)F * sizeof *o);
            int *st = malloc(n * (size_t)F * sizeof *st);
            if (c != NULL && nf != NULL && o != NULL && st != NULL) {
                ars_terms_expand(&T, H->size, H->pbc, F, c, nf, o, st);
                for (size_t e = 0; e < show; e++) {
                    printf("  %.10g", c[e]);
                    for (int j = 0; j < nf[e]; j++) {
                        printf(" %s(%d)",
                               ars_site_op_name((ars_site_op)o[e * (size_t)F + (size_t)j]),
                               st[e * (size_t)F + (size_t)j]);
                    }
                    printf("\n");
                }
                if (n > show) {
                    printf("  ... (%zu more; /hamiltonian/term_* in the output has them all)\n",
                           n - show);
                }
            }
            free(c);
            free(nf);
            free(o);
            free(st);
        }
    }
    if (rc == ARS_OK && cfg->mode == ARS_MODE_TRAIN) {
        if (conserves && cfg->two_m == ARS_CONFIG_NO_SECTOR) {
            ars_warn("the Hamiltonian conserves total S^z but [system] total_sz = none: the "
                     "network samples every sector; total_sz = M samples only that one, which is "
                     "usually far more accurate (a 16-site Heisenberg chain: relative error "
                     "3.4e-2 without, 5e-3 with total_sz = 0)");
        }
        if (!conserves && cfg->two_m != ARS_CONFIG_NO_SECTOR) {
            ars_warn("[system] total_sz restricts the network to one S^z sector, but the "
                     "Hamiltonian does not conserve total S^z: its ground state spreads over "
                     "sectors, so the energy stays above it (set total_sz = none)");
        }
        if (!stoq_m && cfg->phase_type == 0) {
            ars_warn("the Hamiltonian is not stoquastic in the S^z basis%s: its ground state "
                     "may carry signs, which a positive network cannot represent%s",
                     H->marshall_sign ? ", even with the Marshall sign" : "",
                     H->marshall_sign ? " (try [phase] type = conv)"
                                      : " (try marshall_sign = true, or [phase] type = conv)");
        }
    }
    ars_op_free(op);
    ars_terms_free(&T);
    return rc;
}

void ars_setup_check_model(const ars_config *cfg) {
    if (cfg->mode == ARS_MODE_TRAIN && cfg->two_s % 2 == 0 && cfg->input == ARS_INPUT_VALUE) {
        ars_warn("[model] input = value encodes m = 0 as 0, the same as the zero padding before "
                 "the first site, so the network cannot tell them apart: for integer spins use "
                 "input = onehot (a spin-1 Heisenberg ring of 6 sites: relative error 7e-3 with "
                 "value, 2e-5 with onehot)");
    }
}

/* Rank 0's variables: random, or from the init file (with its phase network, if any). */
static int setup_variables(const ars_config *cfg, ars_arnn *net, ars_phase *phase) {
    ARS_ASSERT(net != NULL, "no network");
    if (!ars_config_init_from_file(cfg)) {
        int rc = ars_arnn_init_random(net, cfg->seed);
        if (rc == ARS_OK && phase != NULL) {
            rc = ars_phase_init_random(phase, cfg->seed);
        }
        if (rc == ARS_OK && strcmp(cfg->init, ARS_INIT_X_POLARIZED) == 0) {
            /* Uniform conditionals and phase 0: exactly |+x>^N (the checks of
             * ars_arnn_config_check_arch exclude a sector and the Marshall sign). */
            ars_arnn_zero_last_layer(net);
            if (phase != NULL) {
                ars_phase_zero(phase);
            }
        }
        return rc;
    }
    int gained = 0;
    int rc = ars_io_load_variables(cfg->init, net, &gained);
    const int has = rc == ARS_OK ? ars_io_has_phase(cfg->init) : 0;
    int fsize = 0;
    if (rc == ARS_OK && has >= 0) {
        rc = ars_io_read_size(cfg->init, &fsize);
    }
    if (rc == ARS_OK && gained > 0) {
        printf("init: '%s' has no sublattice channels; the first layer's kernel gained %d zero "
               "input channels for [model] sublattice = %d (the file's state, exactly)\n",
               cfg->init, gained, ars_arch_sublattice(&net->arch));
    }
    if (rc != ARS_OK || has < 0) {
        return rc != ARS_OK ? rc : ARS_STATUS_EINPUT;
    }
    if (phase == NULL && has) {
        char where[ARS_PATH_MAX + 64];
        ars_config_where(cfg, "phase", "type", where, sizeof where);
        return ARS_ERR(ARS_STATUS_ECONFIG,
                       "%s: [phase] type: none, but the init file '%s' holds a phase network; "
                       "set [phase] to that network (its /phase attributes) to keep it",
                       where, cfg->init);
    }
    if (phase != NULL) {
        rc = ars_phase_init_random(phase, cfg->seed);
        if (rc == ARS_OK && has) {
            rc = ars_io_load_phase(cfg->init, phase);
        } else if (rc == ARS_OK) {
            /* The file's state exactly: phase 0 (a stationary point for a real Hamiltonian). */
            ars_phase_zero(phase);
            printf("init: '%s' has no phase network; the phase network starts at phase 0 (the "
                   "file's real state)\n",
                   cfg->init);
        }
    }
    if (rc == ARS_OK && cfg->init_output_scale != 1.0) {
        ars_arnn_scale_last_layer(net, cfg->init_output_scale);
        printf("init: the last layer of '%s' scaled by %g: every conditional is p^%g, "
               "renormalised\n",
               cfg->init, cfg->init_output_scale, cfg->init_output_scale);
    }
    if (rc == ARS_OK && fsize != cfg->size) {
        /* Size transfer: say what came from the shorter (or longer) chain. */
        printf("init: '%s' is a chain of %d sites, this run has %d: transferred the modulus "
               "network's %zu parameters (they do not depend on the length)",
               cfg->init, fsize, cfg->size, net->n_params);
        if (phase != NULL && has) {
            printf(" and the phase network's %zu", phase->n_params);
        }
        if (phase != NULL && has && phase->beta != NULL) {
            printf(", its site phases repeated with period %d", fsize);
        }
        printf("\n");
    }
    return rc;
}

int ars_setup_network(const ars_config *cfg, const ars_comm *comm, ars_arch *arch, ars_arnn **net,
                      ars_phase **phase, int later) {
    ars_config_arch(cfg, arch);
    /* Rank 0 checks the output and reads files; the others get its status and variables. */
    int rc = comm->rank == 0 ? ars_output_check(cfg) : ARS_OK;
    *net = ars_arnn_alloc(arch);
    *phase = NULL;
    const ars_phase_type *ptype = ars_config_phase_type(cfg);
    if (ptype != NULL) {
        ars_phase_arch parch;
        ars_config_phase_arch(cfg, &parch);
        *phase = ars_phase_alloc(ptype, &parch);
    }
    if (rc == ARS_OK && (*net == NULL || (ptype != NULL && *phase == NULL))) {
        rc = ARS_ERR(ARS_STATUS_ENOMEM, "out of memory allocating the network");
    }
    if (rc == ARS_OK && !later && comm->rank == 0) {
        rc = setup_variables(cfg, *net, *phase);
    }
    const int failed_here = rc != ARS_OK;
    ars_comm_bcast(comm, &rc, sizeof rc); /* rank 0's status (it printed the message) */
    if (ars_comm_max_int(comm, failed_here) && rc == ARS_OK) {
        rc = ARS_STATUS_ENOMEM; /* another rank could not allocate (it said so) */
    }
    if (rc == ARS_OK && !later && *net != NULL) {
        ars_comm_bcast(comm, (*net)->params, (*net)->n_params * sizeof(double));
        if (*phase != NULL) {
            ars_comm_bcast(comm, (*phase)->params, (*phase)->n_params * sizeof(double));
        }
    }
    return rc;
}

int ars_setup_sample_phases(double *phi, const uint8_t *cfg, size_t n, const ars_wf *wf,
                            int chunk_size) {
    ars_wf_ws *ws = ars_wf_ws_alloc(wf, chunk_size);
    if (!ars_wf_is_real(wf) && ws == NULL) {
        return ARS_ERR(ARS_STATUS_ENOMEM, "out of memory for the samples' phases");
    }
    const size_t L = (size_t)wf->net->arch.hilbert.size, cs = (size_t)chunk_size;
    for (size_t start = 0; start < n; start += cs) {
        const int B = (int)(n - start < cs ? n - start : cs);
        ars_wf_phase(phi + start, cfg + start * L, wf, ws, B);
    }
    ars_wf_ws_free(ws);
    return ARS_OK;
}

int ars_setup_check_memory(const ars_config *cfg, const ars_comm *comm, double need,
                           const char *what, double *share) {
    const double gib = (double)(1u << 30), have = ars_memory_bytes();
    const int ranks_here = ars_comm_node_size(comm);
    /* The smallest share over the ranks, as minus the largest of minus it (unknown: no bound). */
    const double mine = have > 0.0 ? have / (double)ranks_here : (double)INFINITY;
    const double least = -ars_comm_max_double(comm, -mine);
    *share = isfinite(least) ? least : 0.0;
    if (need > least) {
        return ars_ini_error(ars_config_key_where(cfg, "sampler", "n_samples"),
                             "[sampler] n_samples: %s needs at least %.1f GiB per process for "
                             "%" PRId64 " samples (their gradients, the SR matrices and the "
                             "sampler's workspaces), more than the %.1f GiB a process may use "
                             "(the memory of its machine or cgroup, shared by the ranks on it); "
                             "use fewer samples, a smaller chunk_size or network, or fewer ranks "
                             "per machine",
                             what, need / gib, cfg->n_samples, least / gib);
    }
    return ARS_OK;
}
