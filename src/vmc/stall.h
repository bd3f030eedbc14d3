/*
 * stall: recognises a stalled training run from its log, so that the program can say what
 * usually helps. It only reads the log; it never changes the run.
 *
 * Two signs, judged once the log holds at least 2 * window iterations, on its last `window`
 * iterations split into halves A (older) and B (newer), h = window / 2 entries each:
 *   plateau   the energy is flat far above the ground state:
 *               far:  with a reference, the mean relative error of B exceeds rel_error;
 *                     without one, the mean V-score of B exceeds vscore;
 *               flat: drop = mean E(A) - mean E(B) < max(3 se, 0.05 gap), where
 *                     se = sqrt(var E(A) / h + var E(B) / h) (the energies' scatter within each
 *                     half) and gap = mean E(B) - E_exact (0 without a reference): over h
 *                     iterations the run closed less than 5% of its gap, or nothing beyond noise.
 *   collapse  the last iteration's fraction of distinct samples is below
 *             distinct * max_distinct, where max_distinct = min(1, states / n_samples) is the
 *             largest fraction possible (a 8-site chain has only 256 states).
 */
#ifndef ARS_STALL_H
#define ARS_STALL_H

#include <stdint.h>

#include "vmc/vmc.h"

typedef enum ars_stall_kind {
    ARS_STALL_NONE = 0,
    ARS_STALL_PLATEAU,
    ARS_STALL_COLLAPSE
} ars_stall_kind;

typedef struct ars_stall_settings {
    int window;          /* >= 2: iterations judged */
    double rel_error;    /* plateau with a reference; 0 turns it off */
    double vscore;       /* plateau without a reference; 0 turns it off */
    double distinct;     /* collapse, relative to max_distinct; 0 turns it off */
    double max_distinct; /* min(1, number of states / n_samples) */
} ars_stall_settings;

typedef struct ars_stall_report {
    ars_stall_kind kind;
    int64_t iteration; /* the last iteration of the log */
    double level;      /* plateau: mean relative error (or V-score) of B; collapse: the fraction */
    double drop;       /* plateau: mean E(A) - mean E(B) */
    double gap;        /* plateau: mean E(B) - E_exact (NaN without a reference) */
} ars_stall_report;

/* The default settings: window 50, rel_error and distinct as given, vscore 0.05. */
ars_stall_settings ars_stall_defaults(double rel_error, double distinct, double max_distinct);

/* The sign the log shows now (collapse before plateau), with its figures in *r. Pure: the same
 * log gives the same answer. exact is the reference energy, NaN if unknown. */
ars_stall_kind ars_stall_check(const ars_vmc_log *log, double exact, const ars_stall_settings *s,
                               ars_stall_report *r);

/* A third sign, judged once at the end: the final state on a spike. Rare batches of samples
 * with large local energies (heavy tails: docs/results.md, "A trust region for the
 * Majumdar-Ghosh ring") make SR take a long step now and then, and the variance jumps by 10-100x
 * for a few iterations. If the last step was one, the final estimate measures that state, not
 * the run's typical one. Returns final_variance / the mean of the log's last `window` energy
 * variances, or NaN when the log holds fewer than 10 iterations or the mean is not positive.
 * The mean, not the median: with heavy tails most small batches miss the rare large local
 * energies, so the median of their variances is far below the state's variance that the final
 * estimate's many samples see (0.003 against 0.03-0.04 in that section's runs). Pure. */
double ars_stall_final_ratio(const ars_vmc_log *log, int window, double final_variance);

/* "plateau", "collapse" or "none". */
const char *ars_stall_name(ars_stall_kind kind);

#endif
