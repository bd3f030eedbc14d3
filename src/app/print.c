/*
 * print: the messages of a run (see print.h). Every wording here is part of the interface
 * (README.md and the e2e tests quote it).
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/print.h"
#include "app/setup.h"
#include "core/ars_common.h"
#include "nn/activation.h"
#include "opt/optimizer.h"
#include "sample/sampler.h"

/* "s" for a count other than 1 ("1 thread", "2 threads"). */
static const char *plural(int count) {
    return count == 1 ? "" : "s";
}

const char *ars_print_sector_text(const ars_arch *a, char *buf, size_t len) {
    int n = 0;
    buf[0] = '\0';
    if (a->hilbert.constrained) {
        n = snprintf(buf, len, ", total_sz %g", 0.5 * a->hilbert.two_m);
    }
    if (a->symmetry != ARS_SYM_NONE && n >= 0 && (size_t)n < len) {
        snprintf(buf + n, len - (size_t)n, ", symmetrised (%s)", ars_sym_name(a->symmetry));
    }
    return buf;
}

int ars_print_receptive_field(const ars_arch *arch, int quiet) {
    const int L = arch->hilbert.size;
    uint8_t *dep = calloc(2 * (size_t)L, 1);
    if (dep == NULL) {
        return ARS_ERR(ARS_STATUS_ENOMEM, "out of memory");
    }
    long reach = ars_arch_receptive_field(arch, dep);
    long reachable = reach < L - 1 ? reach : L - 1;
    int count = 0, first_gap = 0;
    for (long r = 1; r <= reachable; r++) {
        count += dep[r];
        if (!dep[r] && first_gap == 0) {
            first_gap = (int)r;
        }
    }
    if (!quiet) {
        printf("receptive field: site t depends on %d of the %ld sites t-1 .. t-%ld "
               "(the network reaches back %ld sites; the chain has %d)\n",
               count, reachable, reachable, reach, L);
    }
    if (first_gap != 0) {
        ars_warn("the last site depends on only %d of the %ld earlier sites within its reach "
                 "(the first one missing is %d sites back): with one dilation d > 1 for all "
                 "layers every offset is a multiple of d and the chain splits into independent "
                 "sublattices; use per-layer dilations such as 1, 2, 4",
                 count, reachable, first_gap);
    }
    if (reach < L - 1) {
        ars_warn("the receptive field reaches back %ld sites, fewer than size - 1 = %d: sites "
                 "further apart are sampled independently of each other",
                 reach, L - 1);
    }
    free(dep);
    return ARS_OK;
}

/* The phase network's line of the headers. */
static void print_phase(const ars_phase *ph) {
    if (ph == NULL) {
        return;
    }
    const ars_phase_arch *a = &ph->arch;
    int left, right;
    ars_phase_reach(ph, &left, &right);
    printf("phase: %s, %d layers of %d features, kernel_size %d, dilations", ph->type->name,
           a->layers, a->features, a->kernel_size);
    for (int l = 0; l < a->layers; l++) {
        printf(" %d", a->dilation[l]);
    }
    printf(", %s%s%s, reach %d + %d sites, %zu parameters\n", ars_activation_name(a->activation),
           a->site_phase ? ", site phases" : "", a->jastrow ? ", Jastrow" : "", left, right,
           ph->n_params);
}

void ars_print_sample_header(const ars_config *cfg, const ars_arch *arch, const ars_arnn *net,
                             const ars_phase *phase, int threads) {
    char sect[96];
    printf("arsampler %s: %s\n", ARS_VERSION, cfg->source);
    printf("system: %d sites of spin %g (local_size %d)%s\n", arch->hilbert.size,
           0.5 * arch->hilbert.two_s, arch->hilbert.local_size,
           ars_print_sector_text(arch, sect, sizeof sect));
    printf("model: %d masked conv layers, features", arch->layers);
    for (int l = 0; l < arch->layers; l++) {
        printf(" %d", arch->features[l]);
    }
    printf(", kernel_size %d, dilations", arch->kernel_size);
    for (int l = 0; l < arch->layers; l++) {
        printf(" %d", arch->dilation[l]);
    }
    char sub[48] = "";
    if (arch->sublattice > 1) {
        snprintf(sub, sizeof sub, " with sublattice %d", arch->sublattice);
    }
    printf(", %s, %s input%s, %zu parameters (%s)\n", ars_activation_name(arch->activation),
           ars_input_name(arch->input), sub, net->n_params,
           strcmp(cfg->init, "random") == 0 ? "random init" : cfg->init);
    print_phase(phase);
    printf("sampling: %zu samples in chunks of %d, seed %" PRIu64 ", %s algorithm, %s, %d "
           "thread%s\n",
           (size_t)cfg->n_samples, cfg->chunk_size, cfg->seed,
           cfg->algorithm == ARS_SAMPLER_FULL ? "full" : "cached",
           cfg->dtype == ARS_DTYPE_FLOAT32 ? "float32" : "float64", threads, plural(threads));
}

void ars_print_train_header(const ars_config *cfg, const ars_arch *arch, const ars_arnn *net,
                            const ars_phase *phase, const ars_ham *H, double exact,
                            const char *method, int threads, int64_t resumed_after) {
    char sect[96];
    const size_t n = (size_t)cfg->n_samples;
    printf("arsampler %s: %s (train)\n", ARS_VERSION, cfg->source);
    printf("system: %d sites of spin %g%s; model: %d layers, %zu parameters\n", arch->hilbert.size,
           0.5 * arch->hilbert.two_s, ars_print_sector_text(arch, sect, sizeof sect), arch->layers,
           net->n_params);
    print_phase(phase);
    ars_setup_print_hamiltonian(H, exact, method);
    const ars_opt_type *opt = ars_opt_types[cfg->optimizer];
    char momentum[48] = "";
    if (ars_opt_type_reads(opt, ARS_OPT_MOMENTUM)) {
        snprintf(momentum, sizeof momentum, " (momentum %g)", cfg->opt_hyper[ARS_OPT_MOMENTUM]);
    }
    char trust[320] = "";
    if (cfg->max_step > 0.0) {
        snprintf(trust, sizeof trust, ", steps at most %g long", cfg->max_step);
    }
    if (cfg->eloc_dtype == ARS_DTYPE_FLOAT32) {
        const size_t used = strlen(trust);
        snprintf(trust + used, sizeof trust - used, ", float32 local energies");
    }
    if (phase != NULL && cfg->phase_lr_factor != 1.0) {
        const size_t used = strlen(trust);
        snprintf(trust + used, sizeof trust - used, ", phase steps %g times as long",
                 cfg->phase_lr_factor);
    }
    if (cfg->projection) {
        const size_t used = strlen(trust);
        snprintf(trust + used, sizeof trust - used,
                 ", the state projected onto the symmetric states of %s (importance weights)",
                 ars_sym_name((ars_sym)cfg->symmetrize));
    }
    if (cfg->sym_penalty > 0.0) {
        const size_t used = strlen(trust);
        snprintf(trust + used, sizeof trust - used, ", symmetry penalty %g (1 - <P_G>), G: %s",
                 cfg->sym_penalty, ars_sym_name((ars_sym)cfg->sym_penalty_group));
    }
    if (cfg->iterations == 0) {
        /* A loaded state's final estimate alone: the optimiser never runs. */
        printf("vmc: 0 iterations: the final estimate of %" PRId64 " samples only; %d thread%s\n",
               cfg->final_samples, threads, plural(threads));
    } else {
        printf("vmc: %d iterations of %zu samples, %s%s, lr %g%s, %s%s%s%s; %d thread%s\n",
               cfg->iterations, n, opt->name, momentum, cfg->learning_rate,
               cfg->lr_schedule == ARS_SCHEDULE_EXPONENTIAL ? " (exponential)" : "",
               cfg->sr ? "SR" : "no SR",
               cfg->sr ? (n < net->n_params ? " in sample space" : " in parameter space") : "",
               cfg->sr && cfg->sr_dtype == ARS_DTYPE_FLOAT32 ? " (float32 products)" : "", trust,
               threads, plural(threads));
    }
    if (resumed_after >= 0) {
        printf("resuming after iteration %lld from %s\n", (long long)resumed_after, cfg->file);
    }
}

void ars_print_train_progress(const ars_vmc *v, int total, int64_t first, double t_start,
                              double *t_last, int force) {
    const ars_vmc_log *log = &v->log;
    const size_t i = log->len - 1;
    const double now = ars_wtime();
    const int tty = isatty(fileno(stderr));
    if (!force && !tty && now - *t_last < 10.0) {
        return;
    }
    *t_last = now;
    /* Per iteration of this process: after --resume, `first` is not 0. */
    const double per = (now - t_start) / (double)(v->iteration > first ? v->iteration - first : 1);
    fprintf(stderr, "%siter %lld/%d  E = %.8f +- %.2g", tty ? "\r" : "", (long long)v->iteration,
            total, log->energy[i], log->energy_error[i]);
    if (!isnan(log->relative_error[i])) {
        fprintf(stderr, "  rel.err %.2e", log->relative_error[i]);
    }
    if (v->phase != NULL) {
        fprintf(stderr, "  Im %.1e +- %.1e", log->energy_imag[i], log->energy_imag_error[i]);
    }
    fprintf(stderr, "  var %.3g  %.3g s/it  ETA %.0f s%s", log->energy_variance[i], per,
            per * (double)(total - v->iteration), tty && !force ? "\033[K" : "\n");
    fflush(stderr);
}

void ars_print_evolve_header(const ars_config *cfg, const ars_arch *arch, const ars_arnn *net,
                             const ars_phase *phase, const ars_ham *H, int threads,
                             double resumed_at) {
    char sect[96];
    printf("arsampler %s: %s (evolve)\n", ARS_VERSION, cfg->source);
    printf("system: %d sites of spin %g%s; model: %d layers, %zu parameters\n", arch->hilbert.size,
           0.5 * arch->hilbert.two_s, ars_print_sector_text(arch, sect, sizeof sect), arch->layers,
           net->n_params);
    print_phase(phase);
    ars_setup_print_hamiltonian(H, (double)NAN, "unknown");
    const ars_integrator_type *T = ars_integrator_types[cfg->evo_integrator];
    printf("evolve: %s time to t = %g, %s (order %d), ", cfg->evo_imaginary ? "imaginary" : "real",
           cfg->evo_t_end, T->name, T->order);
    if (cfg->evo_adaptive) {
        printf("adaptive steps from dt %g (tolerance %g)", cfg->evo_dt, cfg->evo_tolerance);
    } else {
        printf("fixed steps of dt %g", cfg->evo_dt);
    }
    printf(", %lld samples per evaluation%s, diag_shift %g", (long long)cfg->n_samples,
           cfg->evo_common_samples ? " (common to a step's stages)"
           : cfg->evo_reweight     ? " (a step's stages reweight its first)"
                                   : "",
           cfg->evo_diag_shift);
    if (cfg->evo_regularization == 1) {
        printf(", SNR cut-off %g, pinv cut-off %g", cfg->evo_snr_tolerance,
               cfg->evo_pinv_tolerance);
    }
    printf("; measured every %g; %d thread%s\n", cfg->evo_measure_every, threads, plural(threads));
    if (resumed_at >= 0.0) {
        printf("resuming at t = %g from %s\n", resumed_at, cfg->file);
    }
}

void ars_print_evolve_progress(const ars_evolve *e, const ars_evolve_record *r, double t_first,
                               double seconds) {
    const size_t i = r->len - 1;
    fprintf(stderr, "t %.4f/%g  dt %.2e  E = %.6f +- %.1e", r->time[i], e->set.t_end, e->dt,
            r->energy[i], r->energy_error[i]);
    if (!e->set.imaginary && i > 0) {
        const double drift = (r->energy[i] - r->energy[0]) / fabs(r->energy[0]);
        const double err = hypot(r->energy_error[i], r->energy_error[0]) / fabs(r->energy[0]);
        fprintf(stderr, "  drift %.1e +- %.1e", drift, err);
    }
    if (e->steps.len > 0) {
        fprintf(stderr, "  r2 %.2e", e->steps.residual[e->steps.len - 1]);
    }
    const double done = r->time[i] - t_first;
    fprintf(stderr, "  steps %lld (%lld rejected)  %.0f s  ETA %.0f s\n", (long long)e->n_accepted,
            (long long)e->n_rejected, seconds,
            done > 0.0 ? seconds / done * (e->set.t_end - r->time[i]) : 0.0);
    fflush(stderr);
}

void ars_print_memory(double need, double share, const char *what) {
    const double gib = (double)(1u << 30);
    if (need < gib) {
        printf("memory: at least %.0f MiB per process for %s", ceil(need * 1024.0 / gib), what);
    } else {
        printf("memory: at least %.2f GiB per process for %s", need / gib, what);
    }
    if (share > 0.0) {
        printf(" (%.2g%% of the %.1f GiB a process may use)", 100.0 * need / share, share / gib);
    }
    printf("\n");
}

void ars_print_train_final(const ars_vmc_estimate *est, size_t n, int complex_wf) {
    printf("final: E = %.10f +- %.2g from %zu samples", est->energy, est->energy_error, n);
    if (complex_wf) {
        printf(" (Im %.2g +- %.2g)", est->energy_imag, est->energy_imag_error);
    }
    if (!isnan(est->relative_error)) {
        printf(", relative error %.3e", est->relative_error);
    }
    printf(", variance %.4g, V-score %.3g\n", est->energy_variance, est->vscore);
    if (!isnan(est->projected_energy)) {
        printf("final, projected onto the symmetric states: E = %.10f +- %.2g",
               est->projected_energy, est->projected_energy_error);
        if (!isnan(est->projected_relative_error)) {
            printf(", relative error %.3e", est->projected_relative_error);
        }
        printf(" (<P_G> = %.4f +- %.2g)\n", est->overlap, est->overlap_error);
    }
}

void ars_print_train_phases(const ars_vmc *v, double io_seconds, int io_writes) {
    double total = 0.0;
    for (int p = 0; p < ARS_VMC_N_PHASES; p++) {
        total += v->phase_seconds[p];
    }
    const double n = (double)v->timed_steps;
    printf("time per iteration: %.3g s =", total / n);
    for (int p = 0; p < ARS_VMC_N_PHASES; p++) {
        printf("%s %s %.3g s (%.0f%%)", p > 0 ? "," : "", ars_vmc_phase_names[p],
               v->phase_seconds[p] / n, total > 0.0 ? 100.0 * v->phase_seconds[p] / total : 0.0);
    }
    if (io_writes > 0) {
        printf("; checkpoint %.3g s per write", io_seconds / io_writes);
    }
    printf("\n");
}

/* Values of an array observable on one line: all of them up to 16, else the first 12. */
static void print_array(const char *name, const ars_obs_value *v) {
    const int shown = v->len <= 16 ? v->len : 12;
    double worst = 0.0;
    for (int i = 0; i < v->len; i++) {
        worst = v->error[i] > worst ? v->error[i] : worst;
    }
    printf("  %-24s", name);
    for (int i = 0; i < shown; i++) {
        printf(" %.5f", v->mean[i]);
    }
    printf("%s  (errors <= %.2g)\n", shown < v->len ? " ..." : "", worst);
}

void ars_print_observables(const ars_obs_result *res, size_t n, double seconds, double exact) {
    printf("observables from %zu samples (%.2f s):\n", n, seconds);
    for (int k = 0; k < ARS_OBS_COUNT; k++) {
        const ars_obs_value *v = &res->v[k];
        if (!(res->mask & (1u << k))) {
            continue;
        }
        if (k == ARS_OBS_RENYI2) {
            printf("  %-24s", "renyi2");
            for (int c = 0; c < v->len; c++) {
                printf(" S2(%lld) = %.6f +- %.2g", (long long)v->coord[c], v->mean[c], v->error[c]);
            }
            printf("  (%lld pairs)\n", (long long)v->n_samples);
        } else if (v->len > 0) {
            print_array(ars_obs_names[k], v);
        } else {
            printf(k == ARS_OBS_ENERGY ? "  %-24s %.10f +- %.2g" : "  %-24s %.8g +- %.2g",
                   ars_obs_names[k], v->mean[0], v->error[0]);
            if (k == ARS_OBS_ENERGY) {
                printf("  variance %.4g", v->variance);
                if (!isnan(exact)) {
                    printf("  relative error %.3e", fabs(v->mean[0] - exact) / fabs(exact));
                }
            }
            printf("\n");
        }
    }
    for (int k = 0; k < res->n_ops; k++) {
        printf("  %-24s %.10g +- %.2g  variance %.4g  (operator)\n", res->op_name[k],
               res->op_v[k].mean[0], res->op_v[k].error[0], res->op_v[k].variance);
    }
}
