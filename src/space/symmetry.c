/* symmetry: spin flip and reflection as bit masks; see symmetry.h for the symmetrised state. */
#include "space/symmetry.h"

#include <math.h>
#include <string.h>

#include "core/ars_common.h"

const char *const ars_sym_names[] = {"none", "spin_flip", "reflection", "both", NULL};

const char *ars_sym_name(ars_sym sym) {
    return (unsigned)sym < 4 ? ars_sym_names[sym] : NULL;
}

int ars_sym_parse(const char *name, ars_sym *sym) {
    for (int k = 0; k < 4; k++) {
        if (strcmp(name, ars_sym_names[k]) == 0) {
            *sym = (ars_sym)k;
            return 0;
        }
    }
    return -1;
}

int ars_sym_order(ars_sym sym) {
    ARS_ASSERT((unsigned)sym < 4, "symmetry %d", (int)sym);
    return 1 << ((sym & 1u) + ((sym >> 1) & 1u));
}

unsigned ars_sym_element(ars_sym sym, int k) {
    ARS_ASSERT(k >= 0 && k < ars_sym_order(sym), "element %d of %s", k, ars_sym_name(sym));
    unsigned g = 0;
    int bit = 0;
    for (unsigned gen = 1; gen <= 2; gen <<= 1) {
        if (sym & gen) {
            g |= ((unsigned)k >> bit & 1u) ? gen : 0u;
            bit++;
        }
    }
    return g;
}

int ars_sym_index(ars_sym sym, unsigned g) {
    ARS_ASSERT((g & ~(unsigned)sym) == 0, "element %u is not in %s", g, ars_sym_name(sym));
    int k = 0, bit = 0;
    for (unsigned gen = 1; gen <= 2; gen <<= 1) {
        if (sym & gen) {
            k |= (g & gen) ? 1 << bit : 0;
            bit++;
        }
    }
    return k;
}

void ars_sym_apply(uint8_t *out, const uint8_t *in, size_t n, int L, int D, unsigned g) {
    const uint8_t top = (uint8_t)(D - 1);
    for (size_t b = 0; b < n; b++) {
        const uint8_t *s = in + b * (size_t)L;
        uint8_t *o = out + b * (size_t)L;
        if (g & 2u) {
            /* Pairwise swap, so that out == in works. */
            for (int t = 0; t < L - 1 - t; t++) {
                const uint8_t x = s[t], y = s[L - 1 - t];
                o[t] = y;
                o[L - 1 - t] = x;
            }
            if (L % 2 == 1) {
                o[L / 2] = s[L / 2];
            }
        } else if (o != s) {
            memcpy(o, s, (size_t)L);
        }
        if (g & 1u) {
            for (int t = 0; t < L; t++) {
                o[t] = (uint8_t)(top - o[t]);
            }
        }
    }
}

int ars_sym_site(unsigned g, int L, int t) {
    return (g & 2u) ? L - 1 - t : t;
}

int ars_sym_value(unsigned g, int D, int v) {
    return (g & 1u) ? D - 1 - v : v;
}

double ars_logsumexp(const double *x, int n, size_t stride) {
    const double minus_inf = -(double)INFINITY;
    double mx = minus_inf;
    for (int k = 0; k < n; k++) {
        mx = x[(size_t)k * stride] > mx ? x[(size_t)k * stride] : mx;
    }
    if (mx == minus_inf) {
        return minus_inf;
    }
    double sum = exp(x[0] - mx); /* n >= 1 here: mx is finite */
    for (int k = 1; k < n; k++) {
        sum += exp(x[(size_t)k * stride] - mx);
    }
    return mx + log(sum);
}

void ars_sym_change(ars_change *gc, const ars_change *c, unsigned g, int L, int D) {
    gc->n = c->n;
    for (int k = 0; k < c->n; k++) {
        const int t = ars_sym_site(g, L, c->site[k]);
        const uint8_t v = (uint8_t)ars_sym_value(g, D, c->value[k]);
        int j = k;
        for (; j > 0 && gc->site[j - 1] > t; j--) {
            gc->site[j] = gc->site[j - 1];
            gc->value[j] = gc->value[j - 1];
        }
        gc->site[j] = t;
        gc->value[j] = v;
    }
}
