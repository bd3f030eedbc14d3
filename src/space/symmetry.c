/* symmetry: spin flip, reflection and translations as elements; see symmetry.h for the group
 * and the symmetrised state. */
#include "space/symmetry.h"

#include <math.h>
#include <string.h>

#include "core/ars_common.h"

const char *const ars_sym_generator_names[] = {"spin_flip", "reflection", "translation", NULL};

/* Canonical names by bit mask: the config dump's text (the generators in bit order, "both" for
 * spin_flip and reflection). */
static const char *const sym_names[ARS_SYM_ALL + 1] = {"none",
                                                       "spin_flip",
                                                       "reflection",
                                                       "both",
                                                       "translation",
                                                       "spin_flip, translation",
                                                       "reflection, translation",
                                                       "spin_flip, reflection, translation"};

#define SYM_FR 3u   /* the flip and reflection bits of an element */
#define SYM_SHIFT 2 /* the shift starts at this bit */

const char *ars_sym_name(ars_sym sym) {
    return (unsigned)sym <= ARS_SYM_ALL ? sym_names[sym] : NULL;
}

int ars_sym_parse(const char *name, ars_sym *sym) {
    for (int k = 0; k <= ARS_SYM_ALL; k++) {
        if (strcmp(name, sym_names[k]) == 0) {
            *sym = (ars_sym)k;
            return 0;
        }
    }
    return -1;
}

/* n_FR: the elements of the flip and reflection part (1, 2 or 4). */
static int fr_order(ars_sym sym) {
    return 1 << ((sym & 1u) + ((sym >> 1) & 1u));
}

int ars_sym_order(ars_sym sym, int L) {
    ARS_ASSERT((unsigned)sym <= ARS_SYM_ALL && L >= 1, "symmetry %d, %d sites", (int)sym, L);
    return fr_order(sym) * ((sym & ARS_SYM_TRANSLATION) ? L : 1);
}

unsigned ars_sym_element(ars_sym sym, int L, int k) {
    ARS_ASSERT(k >= 0 && k < ars_sym_order(sym, L), "element %d of %s", k, ars_sym_name(sym));
    const int nfr = fr_order(sym);
    const unsigned low = (unsigned)(k % nfr);
    unsigned g = 0;
    int bit = 0;
    for (unsigned gen = 1; gen <= 2; gen <<= 1) {
        if (sym & gen) {
            g |= (low >> bit & 1u) ? gen : 0u;
            bit++;
        }
    }
    return g | (unsigned)(k / nfr) << SYM_SHIFT;
}

int ars_sym_index(ars_sym sym, int L, unsigned g) {
    const unsigned shift = g >> SYM_SHIFT;
    ARS_ASSERT((g & SYM_FR & ~(unsigned)sym) == 0 &&
                   (shift == 0 || ((sym & ARS_SYM_TRANSLATION) && shift < (unsigned)L)),
               "element %u is not in %s", g, ars_sym_name(sym));
    int k = 0, bit = 0;
    for (unsigned gen = 1; gen <= 2; gen <<= 1) {
        if (sym & gen) {
            k |= (g & gen) ? 1 << bit : 0;
            bit++;
        }
    }
    return k + fr_order(sym) * (int)shift;
}

/* sigma_g(t) = a t + c mod L: a = -1 with the reflection (c = L - 1 + shift), else 1. */
static long site_offset(unsigned g, int L) {
    return (g & 2u) ? (long)L - 1 + (long)(g >> SYM_SHIFT) : (long)(g >> SYM_SHIFT);
}

unsigned ars_sym_compose(unsigned g, unsigned h, int L) {
    const int ag = (g & 2u) ? -1 : 1;
    const unsigned refl = (g ^ h) & 2u;
    long c = ((long)ag * site_offset(h, L) + site_offset(g, L)) % L;
    c = refl ? c - (L - 1) : c;
    c = ((c % L) + L) % L;
    return ((g ^ h) & SYM_FR) | (unsigned)c << SYM_SHIFT;
}

static void reverse(uint8_t *x, int n) {
    for (int i = 0, j = n - 1; i < j; i++, j--) {
        const uint8_t t = x[i];
        x[i] = x[j];
        x[j] = t;
    }
}

void ars_sym_apply(uint8_t *out, const uint8_t *in, size_t n, int L, int D, unsigned g) {
    const uint8_t top = (uint8_t)(D - 1);
    const int k = (int)(g >> SYM_SHIFT);
    for (size_t b = 0; b < n; b++) {
        const uint8_t *s = in + b * (size_t)L;
        uint8_t *o = out + b * (size_t)L;
        if (o != s) {
            memcpy(o, s, (size_t)L);
        }
        if (g & 2u) {
            reverse(o, L); /* o[L-1-t] = s[t] */
        }
        if (k != 0) {
            /* Rotate right by k in place (three reversals): o[(u + k) mod L] = o[u]. */
            reverse(o, L);
            reverse(o, k);
            reverse(o + k, L - k);
        }
        if (g & 1u) {
            for (int t = 0; t < L; t++) {
                o[t] = (uint8_t)(top - o[t]);
            }
        }
    }
}

int ars_sym_site(unsigned g, int L, int t) {
    const int u = (g & 2u) ? L - 1 - t : t;
    const int k = (int)(g >> SYM_SHIFT);
    return u + k < L ? u + k : u + k - L;
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

double ars_logsumexp_scaled(const double *x, int n, size_t stride, double scale) {
    const double minus_inf = -(double)INFINITY;
    double mx = minus_inf;
    for (int k = 0; k < n; k++) {
        mx = scale * x[(size_t)k * stride] > mx ? scale * x[(size_t)k * stride] : mx;
    }
    if (mx == minus_inf) {
        return minus_inf;
    }
    double sum = exp(scale * x[0] - mx); /* n >= 1 here: mx is finite */
    for (int k = 1; k < n; k++) {
        sum += exp(scale * x[(size_t)k * stride] - mx);
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
