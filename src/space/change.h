/*
 * change: one move s -> s' of a configuration, as the sites whose local index changes and their
 * new indices. Operators produce changes (their off-diagonal connections, ops/operator.h), and
 * the wavefunction turns them into amplitude ratios psi(s')/psi(s) (wf/ratio.h).
 */
#ifndef ARS_CHANGE_H
#define ARS_CHANGE_H

#include <stdint.h>

/* Most distinct sites one change (one operator term) can touch. */
#define ARS_CHANGE_MAX_SITES 4

typedef struct ars_change {
    int n;                               /* sites changed, 0 <= n <= ARS_CHANGE_MAX_SITES */
    int site[ARS_CHANGE_MAX_SITES];      /* ascending, distinct */
    uint8_t value[ARS_CHANGE_MAX_SITES]; /* new local index at site[k] */
} ars_change;

/* 1 if change c moves site `site`, else 0. */
static inline int ars_change_touches(const ars_change *c, int site) {
    for (int k = 0; k < c->n; k++) {
        if (c->site[k] == site) {
            return 1;
        }
    }
    return 0;
}

/* The Marshall sign ratio sign(s') / sign(s) of change c of configuration s (L local indices),
 * sign(s) = (-1)^(sum over odd sites t of s_t): for spin 1/2 (-1)^(up spins on odd sites), for
 * spin S (-1)^(sum_odd (S + m_t)). +1 or -1. */
static inline double ars_change_marshall_ratio(const uint8_t *s, const ars_change *c) {
    int d = 0;
    for (int k = 0; k < c->n; k++) {
        d += (c->site[k] & 1) ? (int)c->value[k] - (int)s[c->site[k]] : 0;
    }
    return (d & 1) ? -1.0 : 1.0;
}

#endif
