/*
 * test_operator: single-site spin matrices and operators as sums of products of them
 * (ops/site_op.h, ops/operator.h), against the spin algebra and a dense reference built here by
 * multiplying embedded single-site matrices (no grouping, no merging: independent of how
 * ars_op_apply organises its work).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

#include "core/ars_common.h"
#include "ops/hamiltonian.h"
#include "ops/operator.h"
#include "ops/site_op.h"
#include "space/hilbert.h"

enum { MAXD = 6 };

/* The complex matrix of op: re + i im (D x D). */
static void site_matrix(double *re, double *im, ars_site_op op, int two_s) {
    const int D = two_s + 1;
    double R[MAXD * MAXD];
    const int p = ars_site_op_matrix(R, op, two_s);
    for (int k = 0; k < D * D; k++) {
        /* i^p R: p = 0 -> R; p = 3 -> -i R */
        re[k] = p == 0 ? R[k] : 0.0;
        im[k] = p == 0 ? 0.0 : -R[k];
    }
}

/* c = a b for complex D x D matrices. */
static void cmul(double *cr, double *ci, const double *ar, const double *ai, const double *br,
                 const double *bi, int D) {
    for (int r = 0; r < D; r++) {
        for (int c = 0; c < D; c++) {
            double sr = 0.0, si = 0.0;
            for (int k = 0; k < D; k++) {
                sr += ar[r * D + k] * br[k * D + c] - ai[r * D + k] * bi[k * D + c];
                si += ar[r * D + k] * bi[k * D + c] + ai[r * D + k] * br[k * D + c];
            }
            cr[r * D + c] = sr;
            ci[r * D + c] = si;
        }
    }
}

/* The spin algebra for S = 1/2 .. 5/2: [Sx, Sy] = i Sz, S.S = S(S+1), S+ = Sx + i Sy,
 * S- = Sx - i Sy, and the Pauli matrices are twice the spin-1/2 ones. */
static void test_site_matrices_satisfy_the_spin_algebra(void **state) {
    (void)state;
    for (int two_s = 1; two_s <= 5; two_s++) {
        const int D = two_s + 1;
        const double S = 0.5 * two_s;
        double xr[MAXD * MAXD], xi[MAXD * MAXD], yr[MAXD * MAXD], yi[MAXD * MAXD];
        double zr[MAXD * MAXD], zi[MAXD * MAXD], pr[MAXD * MAXD], pi[MAXD * MAXD];
        double mr[MAXD * MAXD], mi[MAXD * MAXD], ar[MAXD * MAXD], ai[MAXD * MAXD];
        double br[MAXD * MAXD], bi[MAXD * MAXD];
        site_matrix(xr, xi, ARS_SITE_OP_SX, two_s);
        site_matrix(yr, yi, ARS_SITE_OP_SY, two_s);
        site_matrix(zr, zi, ARS_SITE_OP_SZ, two_s);
        site_matrix(pr, pi, ARS_SITE_OP_SP, two_s);
        site_matrix(mr, mi, ARS_SITE_OP_SM, two_s);
        /* [Sx, Sy] - i Sz = 0 */
        cmul(ar, ai, xr, xi, yr, yi, D);
        cmul(br, bi, yr, yi, xr, xi, D);
        for (int k = 0; k < D * D; k++) {
            assert_true(fabs(ar[k] - br[k]) < 1e-14);
            assert_true(fabs(ai[k] - bi[k] - zr[k]) < 1e-14);
        }
        /* Sx^2 + Sy^2 + Sz^2 = S(S+1) */
        double cr[MAXD * MAXD], ci[MAXD * MAXD];
        cmul(ar, ai, xr, xi, xr, xi, D);
        cmul(br, bi, yr, yi, yr, yi, D);
        cmul(cr, ci, zr, zi, zr, zi, D);
        for (int r = 0; r < D; r++) {
            for (int c = 0; c < D; c++) {
                const int k = r * D + c;
                assert_true(fabs(ar[k] + br[k] + cr[k] - (r == c ? S * (S + 1) : 0.0)) < 1e-13);
                assert_true(fabs(ai[k] + bi[k] + ci[k]) < 1e-14);
            }
        }
        /* S+- = Sx +- i Sy; Sz = diag(-S..S) (index 0 is m = -S) */
        for (int k = 0; k < D * D; k++) {
            assert_true(fabs(pr[k] - (xr[k] - yi[k])) < 1e-14 && fabs(pi[k]) == 0.0);
            assert_true(fabs(mr[k] - (xr[k] + yi[k])) < 1e-14 && fabs(mi[k]) == 0.0);
        }
        assert_true(zr[0] == -S && zr[D * D - 1] == S);
        assert_int_equal(ars_site_op_allowed(ARS_SITE_OP_X, two_s), two_s == 1);
    }
    double a[4], b[4], c[4], d[4];
    const ars_site_op pauli[3] = {ARS_SITE_OP_X, ARS_SITE_OP_Y, ARS_SITE_OP_Z};
    const ars_site_op spin[3] = {ARS_SITE_OP_SX, ARS_SITE_OP_SY, ARS_SITE_OP_SZ};
    for (int k = 0; k < 3; k++) {
        site_matrix(a, b, pauli[k], 1);
        site_matrix(c, d, spin[k], 1);
        for (int e = 0; e < 4; e++) {
            assert_true(a[e] == 2.0 * c[e] && b[e] == 2.0 * d[e]);
        }
    }
}

static void test_site_operator_names_round_trip(void **state) {
    (void)state;
    for (int k = 0; k < ARS_SITE_OP_COUNT; k++) {
        ars_site_op op;
        assert_int_equal(ars_site_op_parse(ars_site_op_name((ars_site_op)k), &op), 0);
        assert_int_equal(op, k);
    }
    ars_site_op op;
    assert_int_equal(ars_site_op_parse("Sq", &op), -1);
    assert_int_equal(ars_site_op_parse("S", &op), -1);
}

/* One random term for the dense comparison. */
typedef struct test_term {
    double c;
    int nf;
    ars_op_factor f[4];
} test_term;

/* Dense H (dim x dim, real part; the imaginary part is checked to vanish) by embedding each
 * factor on its site and multiplying full matrices, instance by instance. */
static double *dense_reference(const test_term *terms, int nt, int L, int two_s, int pbc) {
    const int D = two_s + 1;
    size_t dim = 1;
    for (int t = 0; t < L; t++) {
        dim *= (size_t)D;
    }
    double *H = calloc(dim * dim, sizeof *H);
    double *Hi = calloc(dim * dim, sizeof *Hi);
    double *Pr = malloc(dim * dim * sizeof *Pr), *Pi = malloc(dim * dim * sizeof *Pi);
    double *Qr = malloc(dim * dim * sizeof *Qr), *Qi = malloc(dim * dim * sizeof *Qi);
    assert_true(H && Hi && Pr && Pi && Qr && Qi);
    ars_hilbert hil;
    ars_hilbert_init(&hil, L, two_s);
    uint8_t row[16], col[16];
    for (int k = 0; k < nt; k++) {
        const test_term *tt = &terms[k];
        const int relative = tt->f[0].relative;
        for (int i = 0; i < (relative ? L : 1); i++) {
            int sites[4], ok = 1;
            for (int j = 0; j < tt->nf; j++) {
                int s = relative ? i + tt->f[j].site : tt->f[j].site;
                if (s < 0 || s >= L) {
                    ok = pbc;
                    s = ((s % L) + L) % L;
                }
                sites[j] = s;
            }
            if (!ok) {
                continue;
            }
            /* P = prod_j O_j(site_j), in factor order, as full matrices. */
            for (size_t e = 0; e < dim * dim; e++) {
                Pr[e] = (e / dim == e % dim) ? 1.0 : 0.0;
                Pi[e] = 0.0;
            }
            for (int j = 0; j < tt->nf; j++) {
                double orr[MAXD * MAXD], oi[MAXD * MAXD];
                site_matrix(orr, oi, tt->f[j].op, two_s);
                /* Q = P * embed(O_j) */
                for (size_t r = 0; r < dim; r++) {
                    for (size_t c = 0; c < dim; c++) {
                        ars_hilbert_config(&hil, col, c);
                        double sr = 0.0, si = 0.0;
                        for (int v = 0; v < D; v++) {
                            memcpy(row, col, (size_t)L);
                            row[sites[j]] = (uint8_t)v;
                            size_t m = 0;
                            for (int t = 0; t < L; t++) {
                                m = m * (size_t)D + row[t];
                            }
                            const double er = orr[v * D + col[sites[j]]];
                            const double ei = oi[v * D + col[sites[j]]];
                            sr += Pr[r * dim + m] * er - Pi[r * dim + m] * ei;
                            si += Pr[r * dim + m] * ei + Pi[r * dim + m] * er;
                        }
                        Qr[r * dim + c] = sr;
                        Qi[r * dim + c] = si;
                    }
                }
                memcpy(Pr, Qr, dim * dim * sizeof *Pr);
                memcpy(Pi, Qi, dim * dim * sizeof *Pi);
            }
            for (size_t e = 0; e < dim * dim; e++) {
                H[e] += tt->c * Pr[e];
                Hi[e] += tt->c * Pi[e];
            }
        }
    }
    for (size_t e = 0; e < dim * dim; e++) {
        assert_true(fabs(Hi[e]) < 1e-12);
    }
    free(Hi);
    free(Pr);
    free(Pi);
    free(Qr);
    free(Qi);
    return H;
}

/* The matrix that ars_op_apply describes: H[s', s] from the connections, H[s, s] = diag. */
static double *apply_matrix(const ars_op *op, int L, int two_s) {
    const int D = two_s + 1;
    size_t dim = 1;
    for (int t = 0; t < L; t++) {
        dim *= (size_t)D;
    }
    double *H = calloc(dim * dim, sizeof *H);
    const int mc = ars_op_max_connections(op) + 1;
    ars_change *ch = malloc((size_t)mc * sizeof *ch);
    double *mel = malloc((size_t)mc * sizeof *mel);
    assert_true(H && ch && mel);
    ars_hilbert hil;
    ars_hilbert_init(&hil, L, two_s);
    uint8_t s[16], x[16];
    for (size_t c = 0; c < dim; c++) {
        ars_hilbert_config(&hil, s, c);
        double diag;
        const int n = ars_op_apply(op, s, &diag, ch, mel);
        assert_true(n <= ars_op_max_connections(op));
        assert_true(diag == ars_op_diagonal(op, s));
        H[c * dim + c] += diag;
        for (int k = 0; k < n; k++) {
            assert_true(mel[k] != 0.0);
            assert_true(ch[k].n >= 1 && ch[k].n <= ARS_CHANGE_MAX_SITES);
            memcpy(x, s, (size_t)L);
            for (int j = 0; j < ch[k].n; j++) {
                assert_true(j == 0 || ch[k].site[j] > ch[k].site[j - 1]);
                assert_true(ch[k].value[j] != s[ch[k].site[j]]);
                x[ch[k].site[j]] = ch[k].value[j];
            }
            size_t r = 0;
            for (int t = 0; t < L; t++) {
                r = r * (size_t)D + x[t];
            }
            H[r * dim + c] += mel[k];
        }
    }
    free(ch);
    free(mel);
    return H;
}

static ars_op_factor fac(ars_site_op op, int site, int relative) {
    ars_op_factor f = {op, site, relative};
    return f;
}

/* Random real terms (an even number of Sy), 1 to 4 factors on up to 4 sites, i-relative or
 * fixed, for spin 1/2 and spin 1, open and periodic chains: ars_op_apply reproduces the dense
 * matrix to 1e-13. */
static void test_apply_reproduces_the_dense_operator_of_random_terms(void **state) {
    (void)state;
    gsl_rng *r = ars_rng_alloc();
    ars_rng_seed(r, 4242);
    int cases = 0;
    for (int two_s = 1; two_s <= 2; two_s++) {
        const int L = two_s == 1 ? 6 : 4;
        const ars_site_op ops[] = {ARS_SITE_OP_ID, ARS_SITE_OP_SX, ARS_SITE_OP_SY,
                                   ARS_SITE_OP_SZ, ARS_SITE_OP_SP, ARS_SITE_OP_SM};
        for (int pbc = 0; pbc <= 1; pbc++) {
            for (int rep = 0; rep < 6; rep++) {
                test_term terms[8];
                const int nt = 3 + (int)gsl_rng_uniform_int(r, 6);
                ars_op *op = ars_op_alloc(L, two_s, pbc);
                assert_non_null(op);
                for (int k = 0; k < nt; k++) {
                    test_term *tt = &terms[k];
                    int ny;
                    do {
                        tt->nf = 1 + (int)gsl_rng_uniform_int(r, 4);
                        tt->c = 2.0 * gsl_rng_uniform(r) - 1.0;
                        const int relative = gsl_rng_uniform(r) < 0.6;
                        ny = 0;
                        for (int j = 0; j < tt->nf; j++) {
                            const int site = relative
                                                 ? (int)gsl_rng_uniform_int(r, 3) - 1
                                                 : (int)gsl_rng_uniform_int(r, (unsigned long)L);
                            tt->f[j] = fac(ops[gsl_rng_uniform_int(r, 6)], site, relative);
                            ny += tt->f[j].op == ARS_SITE_OP_SY;
                        }
                    } while (ny % 2 != 0);
                    assert_int_equal(ars_op_add_term(op, tt->c, tt->f, tt->nf, "test"), ARS_OK);
                }
                double *ref = dense_reference(terms, nt, L, two_s, pbc);
                double *got = apply_matrix(op, L, two_s);
                size_t dim = 1;
                for (int t = 0; t < L; t++) {
                    dim *= (size_t)(two_s + 1);
                }
                assert_allclose(got, ref, dim * dim, 1e-13, 0.0);
                free(ref);
                free(got);
                ars_op_free(op);
                cases++;
            }
        }
    }
    gsl_rng_free(r);
    assert_int_equal(cases, 24);
}

/* X X + Y Y on a bond merges into one exchange element 2J between antiparallel spins, and
 * cancels to no connection between parallel ones; a long-range fixed-site exchange reaches
 * across the chain. */
static void test_connections_of_one_bond_merge_and_cancel(void **state) {
    (void)state;
    ars_op *op = ars_op_alloc(8, 1, 0);
    const ars_op_factor xx[2] = {fac(ARS_SITE_OP_X, 0, 1), fac(ARS_SITE_OP_X, 1, 1)};
    const ars_op_factor yy[2] = {fac(ARS_SITE_OP_Y, 0, 1), fac(ARS_SITE_OP_Y, 1, 1)};
    const ars_op_factor pm[2] = {fac(ARS_SITE_OP_SP, 0, 0), fac(ARS_SITE_OP_SM, 7, 0)};
    assert_int_equal(ars_op_add_term(op, 0.75, xx, 2, "xx"), ARS_OK);
    assert_int_equal(ars_op_add_term(op, 0.75, yy, 2, "yy"), ARS_OK);
    assert_int_equal(ars_op_add_term(op, 0.3, pm, 2, "pm"), ARS_OK);
    assert_int_equal(ars_op_max_sites(op), 2);
    ars_change ch[64];
    double mel[64], diag;
    const uint8_t neel[8] = {0, 1, 0, 1, 0, 1, 0, 1};
    int n = ars_op_apply(op, neel, &diag, ch, mel);
    assert_int_equal(n, 8); /* 7 open bonds + S+(0) S-(7) */
    for (int k = 0; k < 7; k++) {
        assert_true(mel[k] == 1.5);
        assert_int_equal(ch[k].n, 2);
        assert_int_equal(ch[k].site[1] - ch[k].site[0], 1);
    }
    assert_true(fabs(mel[7] - 0.3) < 1e-15);
    assert_true(ch[7].site[0] == 0 && ch[7].value[0] == 1 && ch[7].site[1] == 7 &&
                ch[7].value[1] == 0);
    assert_true(diag == 0.0);
    const uint8_t up[8] = {1, 1, 1, 1, 1, 1, 1, 1};
    n = ars_op_apply(op, up, &diag, ch, mel);
    assert_int_equal(n, 0);
    ars_op_free(op);
}

/* A single-ion anisotropy D Sz(i) Sz(i) is diagonal with D m^2 on spin 1. */
static void test_products_on_one_site_multiply_in_order(void **state) {
    (void)state;
    ars_op *op = ars_op_alloc(3, 2, 1);
    const ars_op_factor zz[2] = {fac(ARS_SITE_OP_SZ, 0, 1), fac(ARS_SITE_OP_SZ, 0, 1)};
    assert_int_equal(ars_op_add_term(op, 0.5, zz, 2, "D"), ARS_OK);
    assert_int_equal(ars_op_max_connections(op), 0);
    const uint8_t s[3] = {0, 1, 2}; /* m = -1, 0, 1 */
    assert_true(ars_op_diagonal(op, s) == 1.0);
    /* S+ S- on one site: diagonal S(S+1) - m(m-1) */
    ars_op *op2 = ars_op_alloc(3, 2, 1);
    const ars_op_factor pm[2] = {fac(ARS_SITE_OP_SP, 1, 0), fac(ARS_SITE_OP_SM, 1, 0)};
    assert_int_equal(ars_op_add_term(op2, 1.0, pm, 2, "pm"), ARS_OK);
    ars_change ch[8];
    double mel[8], diag;
    const uint8_t low[3] = {0, 0, 0};
    assert_int_equal(ars_op_apply(op2, low, &diag, ch, mel), 0);
    assert_true(fabs(diag - 0.0) < 1e-15); /* m = -1: 2 - 2 */
    assert_int_equal(ars_op_apply(op2, s, &diag, ch, mel), 0);
    assert_true(fabs(diag - 2.0) < 1e-15); /* m = 0: 2 - 0 */
    ars_op_free(op);
    ars_op_free(op2);
}

/* A complex operator's elements are the row of s, H(s, s') = <s|H|s'>, which the local estimators
 * sum: for the spin current Sx_0 Sy_1 - Sy_0 Sx_1 on two spins 1/2, written out by hand from
 * Sy = (S+ - S-)/(2i), H|dn up> = (i/4 + i/4)|up dn>, so <up dn|H|dn up> = +i/2, and the row of
 * up dn holds +i/2 (its column, <dn up|H|up dn>, is -i/2). */
static void test_complex_elements_are_the_row_of_s(void **state) {
    (void)state;
    ars_op *op = ars_op_alloc(2, 1, 0);
    const ars_op_factor xy[2] = {fac(ARS_SITE_OP_SX, 0, 0), fac(ARS_SITE_OP_SY, 1, 0)};
    const ars_op_factor yx[2] = {fac(ARS_SITE_OP_SY, 0, 0), fac(ARS_SITE_OP_SX, 1, 0)};
    assert_int_equal(ars_op_add_term(op, 1.0, xy, 2, "xy"), ARS_OK);
    assert_int_equal(ars_op_add_term(op, -1.0, yx, 2, "yx"), ARS_OK);
    int bad = -1;
    assert_int_equal(ars_op_hermitian(op, &bad), 1);
    assert_int_equal(ars_op_is_complex(op), 1);
    const uint8_t up_dn[2] = {1, 0}, dn_up[2] = {0, 1}; /* local index 1: m = +1/2 */
    ars_change ch[8];
    double mel[8], mel_im[8], diag = 1.0;
    assert_int_equal(ars_op_apply_complex(op, up_dn, &diag, ch, mel, mel_im), 1);
    assert_int_equal(ch[0].n, 2);
    assert_true(fabs(diag) < 1e-15 && fabs(mel[0]) < 1e-15 && fabs(mel_im[0] - 0.5) < 1e-15);
    assert_int_equal(ars_op_apply_complex(op, dn_up, &diag, ch, mel, mel_im), 1);
    assert_true(fabs(mel[0]) < 1e-15 && fabs(mel_im[0] + 0.5) < 1e-15);
    ars_op_free(op);
}

static void test_invalid_terms_are_config_errors(void **state) {
    (void)state;
    ars_op *op = ars_op_alloc(6, 1, 1);
    /* Y X on one site is -i Z: diagonal and imaginary, never part of a Hermitian sum alone. */
    const ars_op_factor y1[2] = {fac(ARS_SITE_OP_Y, 0, 1), fac(ARS_SITE_OP_X, 0, 1)};
    assert_int_equal(ars_op_add_term(op, 1.0, y1, 2, "line 3"), ARS_STATUS_ECONFIG);
    const ars_op_factor out[1] = {fac(ARS_SITE_OP_Z, 6, 0)};
    assert_int_equal(ars_op_add_term(op, 1.0, out, 1, "line 4"), ARS_STATUS_ECONFIG);
    const ars_op_factor five[5] = {fac(ARS_SITE_OP_Z, 0, 1), fac(ARS_SITE_OP_Z, 1, 1),
                                   fac(ARS_SITE_OP_Z, 2, 1), fac(ARS_SITE_OP_Z, 3, 1),
                                   fac(ARS_SITE_OP_Z, 4, 1)};
    assert_int_equal(ars_op_add_term(op, 1.0, five, 5, "line 5"), ARS_STATUS_ECONFIG);
    const ars_op_factor mixed[2] = {fac(ARS_SITE_OP_Z, 0, 1), fac(ARS_SITE_OP_Z, 2, 0)};
    assert_int_equal(ars_op_add_term(op, 1.0, mixed, 2, "line 6"), ARS_STATUS_ECONFIG);
    const ars_op_factor wide[2] = {fac(ARS_SITE_OP_Z, 0, 1), fac(ARS_SITE_OP_Z, 6, 1)};
    assert_int_equal(ars_op_add_term(op, 1.0, wide, 2, "line 7"), ARS_STATUS_ECONFIG);
    const ars_op_factor z[1] = {fac(ARS_SITE_OP_Z, 0, 1)};
    assert_int_equal(ars_op_add_term(op, NAN, z, 1, "line 8"), ARS_STATUS_ECONFIG);
    assert_int_equal(ars_op_add_term(op, 1.0, z, 0, "line 9"), ARS_STATUS_ECONFIG);
    assert_int_equal(ars_op_n_terms(op), 0);
    ars_op *spin1 = ars_op_alloc(4, 2, 0);
    assert_int_equal(ars_op_add_term(spin1, 1.0, z, 1, "line 10"), ARS_STATUS_ECONFIG);
    ars_op_free(spin1);
    ars_op_free(op);
}

/* The Marshall sign makes the antiferromagnetic Heisenberg chain of every spin stoquastic (the
 * rule (-1)^(sum_odd (S - m)) for spin S), and not the frustrated J1-J2 chain; a ferromagnet
 * needs no sign, and the AKLT chain is not stoquastic with it (its (S.S)^2 moves m by 2 on a
 * site). Conservation and the flip symmetry are read off the same elements. */
static void test_stoquasticity_and_symmetries_of_the_presets(void **state) {
    (void)state;
    for (int two_s = 1; two_s <= 4; two_s++) {
        ars_ham H;
        assert_int_equal(
            ars_ham_init(&H, ARS_TEST_PRESET(ARS_HAM_HEISENBERG, 1.0, 0, 1, 0, 1, 1), 8, two_s),
            ARS_OK);
        ars_op *op = ars_ham_operator(&H);
        assert_int_equal(ars_op_stoquastic(op, 0), 0);
        assert_int_equal(ars_op_stoquastic(op, 1), 1);
        assert_int_equal(ars_op_conserves_sz(op), 1);
        assert_int_equal(ars_op_commutes_with_flip(op), 1);
        ars_op_free(op);
        assert_int_equal(
            ars_ham_init(&H, ARS_TEST_PRESET(ARS_HAM_HEISENBERG, -1.0, 0, 1, 0, 1, 0), 8, two_s),
            ARS_OK);
        op = ars_ham_operator(&H);
        assert_int_equal(ars_op_stoquastic(op, 0), 1);
        ars_op_free(op);
        assert_int_equal(
            ars_ham_init(&H, ARS_TEST_PRESET(ARS_HAM_J1J2, 1.0, 0, 1, 0.4, 1, 1), 8, two_s),
            ARS_OK);
        op = ars_ham_operator(&H);
        assert_int_equal(ars_op_stoquastic(op, 1), 0);
        ars_op_free(op);
    }
    ars_ham A;
    ars_ham_preset p = {.type = ARS_HAM_BLBQ, .J = 1.0, .J_bq = 1.0 / 3.0, .pbc = 1};
    assert_int_equal(ars_ham_init(&A, &p, 8, 2), ARS_OK);
    ars_op *op = ars_ham_operator(&A);
    assert_int_equal(ars_op_stoquastic(op, 1), 0);
    assert_int_equal(ars_op_conserves_sz(op), 1);
    ars_op_free(op);
    /* A field breaks the flip symmetry, a transverse one the conservation. */
    p = (ars_ham_preset){.type = ARS_HAM_XXZ, .J = 1.0, .Delta = 0.5, .hz = 0.3, .pbc = 1};
    assert_int_equal(ars_ham_init(&A, &p, 8, 2), ARS_OK);
    op = ars_ham_operator(&A);
    assert_int_equal(ars_op_commutes_with_flip(op), 0);
    assert_int_equal(ars_op_conserves_sz(op), 1);
    ars_op_free(op);
    p.hz = 0.0;
    p.hx = 0.3;
    assert_int_equal(ars_ham_init(&A, &p, 8, 2), ARS_OK);
    op = ars_ham_operator(&A);
    assert_int_equal(ars_op_commutes_with_flip(op), 1);
    assert_int_equal(ars_op_conserves_sz(op), 0);
    ars_op_free(op);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_site_matrices_satisfy_the_spin_algebra),
        cmocka_unit_test(test_site_operator_names_round_trip),
        cmocka_unit_test(test_apply_reproduces_the_dense_operator_of_random_terms),
        cmocka_unit_test(test_connections_of_one_bond_merge_and_cancel),
        cmocka_unit_test(test_products_on_one_site_multiply_in_order),
        cmocka_unit_test(test_complex_elements_are_the_row_of_s),
        cmocka_unit_test(test_invalid_terms_are_config_errors),
        cmocka_unit_test(test_stoquasticity_and_symmetries_of_the_presets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
