/*
 * Specification of the Hamiltonians and local energies: the matrix elements are those of the
 * dense Hamiltonian built here from Kronecker products of Pauli matrices (every type, open and
 * periodic, with and without Marshall sign); the fast (window) local energies equal a full
 * recomputation to 1e-12 for several architectures; the mean local energy over the exact
 * distribution equals <psi|H|psi>/<psi|psi>; invalid Hamiltonians are config errors.
 */
#include "test_util.h"

#include <complex.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ars_common.h"
#include "ops/hamiltonian.h"

/* ---- the dense Hamiltonian from Pauli matrices, written independently of the library ----- */

typedef double complex cplx;

/* 2x2 matrices in the local basis (index 0 = down = -1, index 1 = up = +1), row-major:
 * sz = diag(-1, +1), sx|d> = |u>, sy|u> = i|d>, sy|d> = -i|u>. */
static const cplx PAULI_I[4] = {1, 0, 0, 1};
static const cplx PAULI_X[4] = {0, 1, 1, 0};
static const cplx PAULI_Y[4] = {0, I, -I, 0};
static const cplx PAULI_Z[4] = {-1, 0, 0, 1};

/* out (2^L x 2^L) += coef * op[0] (x) op[1] (x) ... (x) op[L-1]; site 0 is the most significant
 * digit of the basis index, as in ars_hilbert_config. */
static void add_kron(cplx *out, const cplx *const *op, int L, cplx coef) {
    size_t n = 1;
    cplx *acc = malloc(sizeof(cplx)), *tmp = NULL;
    assert_non_null(acc);
    acc[0] = coef;
    for (int t = 0; t < L; t++) {
        const size_t m = 2 * n;
        tmp = malloc(m * m * sizeof(cplx));
        assert_non_null(tmp);
        for (size_t i = 0; i < n; i++) {
            for (size_t j = 0; j < n; j++) {
                for (int a = 0; a < 2; a++) {
                    for (int b = 0; b < 2; b++) {
                        tmp[(2 * i + a) * m + 2 * j + b] = acc[i * n + j] * op[t][2 * a + b];
                    }
                }
            }
        }
        free(acc);
        acc = tmp;
        n = m;
    }
    for (size_t k = 0; k < n * n; k++) {
        out[k] += acc[k];
    }
    free(acc);
}

/* coef * A_i B_j (i != j). */
static void add_two_site(cplx *out, int L, const cplx *A, int i, const cplx *B, int j, cplx coef) {
    const cplx *op[32];
    for (int t = 0; t < L; t++) {
        op[t] = PAULI_I;
    }
    op[i] = A;
    op[j] = B;
    add_kron(out, op, L, coef);
}

/* Bonds at distance d as listed in docs/hamiltonians.md. */
static int test_bonds(int L, int d, int pbc, int (*bond)[2]) {
    int n = 0;
    for (int i = 0; i + d < L; i++) {
        bond[n][0] = i;
        bond[n++][1] = i + d;
    }
    if (pbc) {
        for (int i = L - d; i < L; i++) {
            bond[n][0] = i;
            bond[n++][1] = i + d - L;
        }
    }
    return n;
}

/* The real dense matrix (2^L x 2^L) of H; with `marshall`, S H S with S = (-1)^(ups on odd
 * sites). */
static double *dense_hamiltonian(const ars_ham *H, int marshall) {
    const int L = H->size;
    const size_t dim = (size_t)1 << L;
    cplx *M = calloc(dim * dim, sizeof(cplx));
    assert_non_null(M);
    int bond[64][2];
    int nb = test_bonds(L, 1, H->pbc, bond);
    for (int k = 0; k < nb; k++) {
        const int i = bond[k][0], j = bond[k][1];
        if (H->type == ARS_HAM_TFIM) {
            add_two_site(M, L, PAULI_Z, i, PAULI_Z, j, -H->J);
            continue;
        }
        const double zz = H->type == ARS_HAM_XXZ ? H->Delta : 1.0;
        add_two_site(M, L, PAULI_X, i, PAULI_X, j, H->J);
        add_two_site(M, L, PAULI_Y, i, PAULI_Y, j, H->J);
        add_two_site(M, L, PAULI_Z, i, PAULI_Z, j, H->J * zz);
    }
    if (H->type == ARS_HAM_TFIM) {
        for (int i = 0; i < L; i++) {
            const cplx *op[32];
            for (int t = 0; t < L; t++) {
                op[t] = t == i ? PAULI_X : PAULI_I;
            }
            add_kron(M, op, L, -H->h);
        }
    }
    if (H->type == ARS_HAM_J1J2) {
        nb = test_bonds(L, 2, H->pbc, bond);
        for (int k = 0; k < nb; k++) {
            add_two_site(M, L, PAULI_X, bond[k][0], PAULI_X, bond[k][1], H->J2);
            add_two_site(M, L, PAULI_Y, bond[k][0], PAULI_Y, bond[k][1], H->J2);
            add_two_site(M, L, PAULI_Z, bond[k][0], PAULI_Z, bond[k][1], H->J2);
        }
    }
    double *R = malloc(dim * dim * sizeof(double));
    assert_non_null(R);
    for (size_t x = 0; x < dim; x++) {
        for (size_t y = 0; y < dim; y++) {
            cplx v = M[x * dim + y];
            assert_true(fabs(cimag(v)) < 1e-14);
            double sign = 1.0;
            if (marshall) {
                for (int t = 1; t < L; t += 2) {
                    const size_t bit = (size_t)1 << (L - 1 - t);
                    sign *= ((x & bit) ? -1.0 : 1.0) * ((y & bit) ? -1.0 : 1.0);
                }
            }
            R[x * dim + y] = sign * creal(v);
        }
    }
    free(M);
    return R;
}

static size_t cfg_index(const uint8_t *s, int L) {
    size_t k = 0;
    for (int t = 0; t < L; t++) {
        k = 2 * k + s[t];
    }
    return k;
}

static ars_ham make_ham(ars_ham_type type, int L, int pbc, int marshall) {
    ars_ham H;
    /* Couplings away from 1 so that every term is told apart. */
    assert_int_equal(
        ars_ham_init(&H, ARS_TEST_PRESET(type, 0.9, 0.7, 1.3, 0.45, pbc, marshall), L, 1), ARS_OK);
    return H;
}

static int valid(ars_ham_type type, int L, int pbc, int marshall) {
    if (marshall && pbc && L % 2 != 0) {
        return 0;
    }
    return !(type == ARS_HAM_J1J2 && pbc && L < 5);
}

#define NO_SECTOR (-1000)

static const ars_ham_type TYPES[] = {ARS_HAM_TFIM, ARS_HAM_XXZ, ARS_HAM_HEISENBERG, ARS_HAM_J1J2};
#define N_TYPES (sizeof TYPES / sizeof TYPES[0])

/* ---- (a) matrix elements ----------------------------------------------------------------- */

static void test_matrix_elements_reproduce_the_dense_pauli_hamiltonian(void **state) {
    (void)state;
    int cases = 0;
    for (size_t ty = 0; ty < N_TYPES; ty++) {
        for (int L = 4; L <= 6; L++) {
            for (int pbc = 0; pbc <= 1; pbc++) {
                for (int marshall = 0; marshall <= 1; marshall++) {
                    if (!valid(TYPES[ty], L, pbc, marshall)) {
                        continue;
                    }
                    ars_ham H = make_ham(TYPES[ty], L, pbc, marshall);
                    double *ref = dense_hamiltonian(&H, marshall);
                    const size_t dim = (size_t)1 << L;
                    double *got = calloc(dim * dim, sizeof(double));
                    ars_change fl[64];
                    double mel[64], diag;
                    uint8_t s[32], x[32];
                    ars_hilbert hil;
                    ars_hilbert_init(&hil, L, 1);
                    for (size_t y = 0; y < dim; y++) {
                        ars_hilbert_config(&hil, s, y);
                        const int n = ars_test_ham_connections(&H, s, &diag, fl, mel, 64);
                        got[y * dim + y] += diag;
                        for (int k = 0; k < n; k++) {
                            memcpy(x, s, (size_t)L);
                            assert_true(fl[k].n >= 1 && fl[k].n <= 2);
                            assert_true(fl[k].n == 1 || fl[k].site[0] < fl[k].site[1]);
                            for (int j = 0; j < fl[k].n; j++) {
                                assert_true(fl[k].site[j] >= 0 && fl[k].site[j] < L);
                                assert_true(fl[k].value[j] == 1 - s[fl[k].site[j]]);
                                x[fl[k].site[j]] = fl[k].value[j];
                            }
                            got[cfg_index(x, L) * dim + y] += mel[k];
                        }
                    }
                    assert_allclose(got, ref, dim * dim, 1e-14, 0.0);
                    free(got);
                    free(ref);
                    cases++;
                }
            }
        }
    }
    assert_int_equal(cases, 42);
}

/* Marshall sign ratios of the spec: -1 for a nearest-neighbour exchange, +1 for next-nearest. */
static void
test_marshall_sign_ratio_is_minus_one_on_nearest_and_plus_one_on_next_nearest(void **state) {
    (void)state;
    ars_ham H;
    assert_int_equal(
        ars_ham_init(&H, ARS_TEST_PRESET(ARS_HAM_J1J2, 1.0, 0.0, 1.0, 0.5, 1, 1), 6, 1), ARS_OK);
    const uint8_t neel[6] = {1, 0, 1, 0, 1, 0};
    ars_change fl[64];
    double mel[64], diag;
    const int n = ars_test_ham_connections(&H, neel, &diag, fl, mel, 64);
    assert_int_equal(n, 6); /* six antiparallel nearest bonds; next-nearest bonds are parallel */
    for (int k = 0; k < n; k++) {
        assert_true(mel[k] == -2.0);
    }
    const uint8_t dimer[6] = {1, 1, 0, 0, 1, 1};
    const int m = ars_test_ham_connections(&H, dimer, &diag, fl, mel, 64);
    int nn = 0, nnn = 0;
    for (int k = 0; k < m; k++) {
        assert_int_equal(fl[k].n, 2);
        int d = fl[k].site[1] - fl[k].site[0];
        if (d == 1 || d == 5) {
            assert_true(mel[k] == -2.0);
            nn++;
        } else {
            assert_true(d == 2 || d == 4);
            assert_true(mel[k] == 1.0);
            nnn++;
        }
    }
    assert_int_equal(nn, 2);
    assert_int_equal(nnn, 4);
}

/* ---- (b) fast local energies ------------------------------------------------------------- */

typedef struct net_case {
    int size, layers, features, kernel_size, dil[4], groups, bias;
    ars_activation act;
    ars_input input;
} net_case;

static const net_case NETS[] = {
    {16, 3, 6, 3, {1, 2, 1}, 1, 1, ARS_ACTIVATION_SELU, ARS_INPUT_VALUE},     /* R 8 */
    {16, 2, 4, 2, {1, 1}, 1, 0, ARS_ACTIVATION_TANH, ARS_INPUT_ONEHOT},       /* R 2 */
    {20, 1, 2, 2, {1}, 1, 1, ARS_ACTIVATION_SELU, ARS_INPUT_VALUE},           /* R 1 */
    {24, 3, 4, 4, {1, 1, 1}, 2, 1, ARS_ACTIVATION_RELU, ARS_INPUT_VALUE},     /* R 9 */
    {18, 4, 6, 3, {1, 2, 4, 1}, 2, 1, ARS_ACTIVATION_GELU, ARS_INPUT_ONEHOT}, /* R 16 */
    {12, 2, 3, 5, {3, 1}, 1, 1, ARS_ACTIVATION_IDENTITY, ARS_INPUT_VALUE},    /* R 16 > L */
    {22, 2, 4, 3, {5, 1}, 1, 1, ARS_ACTIVATION_TANH, ARS_INPUT_ONEHOT},       /* R 12 */
};
#define N_NETS (sizeof NETS / sizeof NETS[0])

static ars_arnn *case_net(const net_case *c, uint64_t seed) {
    ars_arch a = ars_test_arch(c->size, 1, c->layers, c->features, c->kernel_size, c->dil,
                               c->groups, c->bias, c->act, c->input);
    return ars_test_random_net(&a, seed, 0.5);
}

/* n random configurations followed by the special ones: all down, all up, both Neel states,
 * domains touching each end, single flipped spins at both ends. Returns the count. */
static int test_configs(uint8_t *cfg, int L, int n_random, uint64_t seed) {
    gsl_rng *r = ars_rng_alloc();
    ars_rng_seed(r, seed);
    int b = 0;
    for (; b < n_random; b++) {
        for (int t = 0; t < L; t++) {
            cfg[(size_t)b * L + t] = (uint8_t)(gsl_rng_uniform(r) < 0.5);
        }
    }
    gsl_rng_free(r);
    for (int kind = 0; kind < 8; kind++, b++) {
        uint8_t *s = cfg + (size_t)b * L;
        for (int t = 0; t < L; t++) {
            switch (kind) {
                case 0:
                    s[t] = 0;
                    break;
                case 1:
                    s[t] = 1;
                    break;
                case 2:
                    s[t] = (uint8_t)(t % 2);
                    break;
                case 3:
                    s[t] = (uint8_t)(1 - t % 2);
                    break;
                case 4:
                    s[t] = (uint8_t)(t < 2);
                    break;
                case 5:
                    s[t] = (uint8_t)(t >= L - 2);
                    break;
                case 6:
                    s[t] = (uint8_t)(t == 0 || t == L - 1);
                    break;
                default:
                    s[t] = (uint8_t)(t != 1 && t != L - 2);
                    break;
            }
        }
    }
    return b;
}

static void test_fast_local_energies_equal_full_recomputation(void **state) {
    (void)state;
    double worst_abs = 0.0, worst_rel = 0.0;
    int cases = 0;
    for (size_t nc = 0; nc < N_NETS; nc++) {
        const int L = NETS[nc].size;
        ars_arnn *net = case_net(&NETS[nc], 100 + nc);
        ars_arnn *net2 = case_net(&NETS[nc], 200 + nc);
        uint8_t *cfg = malloc((size_t)64 * L);
        const int B = test_configs(cfg, L, 33, 7 + nc);
        double fast[64], slow[64];
        for (size_t ty = 0; ty < N_TYPES; ty++) {
            for (int pbc = 0; pbc <= 1; pbc++) {
                for (int marshall = 0; marshall <= 1; marshall++) {
                    if (!valid(TYPES[ty], L, pbc, marshall)) {
                        continue;
                    }
                    ars_ham H = make_ham(TYPES[ty], L, pbc, marshall);
                    /* One chunk of all samples (window batches overflow and flush), then one
                     * sample at a time in a workspace for one (the smallest window batch). */
                    ars_test_ham_ws *ws = ars_test_ham_ws_alloc(&H, net, 64);
                    ars_test_ham_ws *ws1 = ars_test_ham_ws_alloc(&H, net, 1);
                    assert_non_null(ws);
                    assert_non_null(ws1);
                    const int R = ars_test_ham_ws_reach(ws), W = ars_test_ham_ws_window(ws);
                    assert_true(W <= 3 * R + 2 && W <= L);
                    for (int pass = 0; pass < 2; pass++) {
                        const ars_arnn *nt = pass == 0 ? net : net2; /* same shape, new params */
                        ars_test_ham_local_energy_slow(slow, cfg, &H, nt, B);
                        assert_int_equal(ars_test_ham_local_energy(fast, cfg, &H, nt, ws, B), 0);
                        assert_allclose(fast, slow, (size_t)B, 1e-12, 1e-12);
                        for (int b = 0; b < B; b++) {
                            double d = fabs(fast[b] - slow[b]);
                            worst_abs = fmax(worst_abs, d);
                            worst_rel = fmax(worst_rel, d / fmax(1.0, fabs(slow[b])));
                        }
                        for (int b = 0; b < B; b++) {
                            assert_int_equal(ars_test_ham_local_energy(
                                                 fast + b, cfg + (size_t)b * L, &H, nt, ws1, 1),
                                             0);
                        }
                        assert_allclose(fast, slow, (size_t)B, 1e-12, 1e-12);
                    }
                    ars_test_ham_ws_free(ws1);
                    ars_test_ham_ws_free(ws);
                    cases++;
                }
            }
        }
        free(cfg);
        ars_arnn_free(net2);
        ars_arnn_free(net);
    }
    print_message("fast vs slow local energies, %d cases: max |diff| %.2e, max relative %.2e\n",
                  cases, worst_abs, worst_rel);
}

/* ---- (b') sectors and symmetrised states ------------------------------------------------- */

/* n_random configurations of the sector with n_up up spins, then the domains (downs then ups,
 * ups then downs: the mask binds over half the chain), a Neel-like and a blocky one. */
static int sector_configs(uint8_t *cfg, int L, int n_up, int n_random, uint64_t seed) {
    gsl_rng *r = ars_rng_alloc();
    ars_rng_seed(r, seed);
    int b = 0;
    for (; b < n_random; b++) {
        uint8_t *s = cfg + (size_t)b * L;
        memset(s, 0, (size_t)L);
        for (int placed = 0; placed < n_up;) {
            const int t = (int)gsl_rng_uniform_int(r, (unsigned long)L);
            placed += s[t] == 0;
            s[t] = 1;
        }
    }
    gsl_rng_free(r);
    for (int kind = 0; kind < 4; kind++, b++) {
        uint8_t *s = cfg + (size_t)b * L;
        for (int t = 0; t < L; t++) {
            const int rank = kind == 0   ? t >= L - n_up
                             : kind == 1 ? t < n_up
                             : kind == 2 ? (t % 2 == 0 && t / 2 < n_up) || (2 * n_up - L > t / 2)
                                         : (t / 3) % 2 == 0;
            s[t] = (uint8_t)rank;
        }
        /* Fix the count (kinds 2 and 3 are only roughly right): set or clear from the end. */
        int up = 0;
        for (int t = 0; t < L; t++) {
            up += s[t];
        }
        for (int t = L - 1; t >= 0 && up != n_up; t--) {
            if (up < n_up && s[t] == 0) {
                s[t] = 1;
                up++;
            } else if (up > n_up && s[t] == 1) {
                s[t] = 0;
                up--;
            }
        }
    }
    return b;
}

static ars_arnn *sector_net(const net_case *c, int two_m, ars_sym sym, uint64_t seed) {
    ars_arch a = ars_test_arch(c->size, 1, c->layers, c->features, c->kernel_size, c->dil,
                               c->groups, c->bias, c->act, c->input);
    if (two_m != NO_SECTOR) {
        ars_hilbert_set_sector(&a.hilbert, two_m);
    }
    a.symmetry = sym;
    return ars_test_random_net(&a, seed, 0.5);
}

/* In a sector the windows apply the chain's mask, flips that leave the sector give psi = 0, and
 * a pair flip (i, j) far apart (the periodic bond (0, L-1)) moves the prefix sums of every site
 * between its windows; symmetrised states combine the ratios of all g s. Every local energy
 * equals the full recomputation (ars_arnn_log_psi of each connected configuration) to 1e-12,
 * and so does every ratio of arbitrary single and pair flips, near and far. */
static void test_sector_and_symmetrised_local_energies_equal_full_recomputation(void **state) {
    (void)state;
    const ars_sym syms[] = {ARS_SYM_NONE, ARS_SYM_REFLECTION,  ARS_SYM_SPIN_FLIP,
                            ARS_SYM_BOTH, ARS_SYM_TRANSLATION, ARS_SYM_ALL};
    /* the 32 elements of ALL on 8 sites: in the normal build only */
    const size_t n_syms = sizeof syms / sizeof syms[0] - (ARS_TEST_SHORT ? 1 : 0);
    const int sectors[] = {0, 2, -4, NO_SECTOR};
    double worst = 0.0;
    int cases = 0;
    for (size_t nc = 0; nc < N_NETS; nc++) {
        const int L = NETS[nc].size;
        for (size_t si = 0; si < 4; si++) {
            for (size_t yi = 0; yi < n_syms; yi++) {
                const int M = sectors[si];
                if ((syms[yi] & ARS_SYM_SPIN_FLIP) && M != 0 && M != NO_SECTOR) {
                    continue;
                }
                if (M == NO_SECTOR && syms[yi] == ARS_SYM_NONE) {
                    continue; /* the plain case is the test above */
                }
                ars_arnn *net = sector_net(&NETS[nc], M, syms[yi], 1000 + 16 * nc + 4 * si + yi);
                uint8_t *cfg = malloc((size_t)64 * L);
                const int n_up = M == NO_SECTOR ? L / 2 : (L + M) / 2;
                const int B = sector_configs(cfg, L, n_up, 6, 50 + nc);
                double fast[64], slow[64];
                for (size_t ty = 0; ty < N_TYPES; ty++) {
                    if (M != NO_SECTOR && TYPES[ty] == ARS_HAM_TFIM) {
                        continue; /* tfim changes total Sz: no sector state */
                    }
                    for (int pbc = 0; pbc <= 1; pbc++) {
                        const int marshall = TYPES[ty] != ARS_HAM_TFIM;
                        if (!valid(TYPES[ty], L, pbc, marshall)) {
                            continue;
                        }
                        ars_ham H = make_ham(TYPES[ty], L, pbc, marshall);
                        ars_test_ham_ws *ws = ars_test_ham_ws_alloc(&H, net, 64);
                        assert_non_null(ws);
                        ars_test_ham_local_energy_slow(slow, cfg, &H, net, B);
                        assert_int_equal(ars_test_ham_local_energy(fast, cfg, &H, net, ws, B), 0);
                        for (int b = 0; b < B; b++) {
                            if (!(fabs(fast[b] - slow[b]) <= 1e-12 * fmax(1.0, fabs(slow[b])))) {
                                fail_msg("net %zu (R %d) M %d sym %s %s pbc %d sample %d: fast "
                                         "%.17g, full %.17g",
                                         nc, ars_test_ham_ws_reach(ws), M, ars_sym_name(syms[yi]),
                                         ars_ham_type_name(H.type), pbc, b, fast[b], slow[b]);
                            }
                        }
                        for (int b = 0; b < B; b++) {
                            worst = fmax(worst, fabs(fast[b] - slow[b]) / fmax(1.0, fabs(slow[b])));
                        }
                        ars_test_ham_ws_free(ws);
                        cases++;
                    }
                }
                /* Ratios of flips (0, L-1), (0, L/2), (1, L-2), (i, i+1), single flips, and the
                 * longest merged pair (2, 2 + R + 1). */
                enum { NF = 7 };
                ars_ratio_ws *ws = ars_ratio_ws_alloc(net, B, NF, 2);
                const int R = ars_ratio_ws_reach(ws), far = 2 + R + 1 < L ? 2 + R + 1 : L - 1;
                ars_change *fl = malloc((size_t)B * NF * sizeof *fl);
                int *nfl = malloc((size_t)B * sizeof *nfl);
                double *dlog = malloc((size_t)B * NF * sizeof(double));
                for (int b = 0; b < B; b++) {
                    const uint8_t *sb = cfg + (size_t)b * L;
                    const int pairs[NF][2] = {
                        {0, L - 1},  {0, L / 2},  {1, L - 2}, {b % (L - 1), b % (L - 1) + 1},
                        {b % L, -1}, {L - 1, -1}, {2, far}};
                    for (int k = 0; k < NF; k++) {
                        fl[(size_t)b * NF + k] = ars_test_flip(sb, pairs[k][0], pairs[k][1]);
                    }
                    nfl[b] = NF;
                }
                ars_ratio_log(dlog, cfg, fl, nfl, NF, net, ws, B);
                ars_arnn_ws *aws = ars_arnn_ws_alloc(net, 1);
                for (int b = 0; b < B; b++) {
                    uint8_t x[64];
                    double lp0, lp1;
                    ars_arnn_log_psi(&lp0, cfg + (size_t)b * L, net, aws, 1);
                    for (int k = 0; k < NF; k++) {
                        const ars_change *f = &fl[(size_t)b * NF + k];
                        memcpy(x, cfg + (size_t)b * L, (size_t)L);
                        for (int j = 0; j < f->n; j++) {
                            x[f->site[j]] = f->value[j];
                        }
                        ars_arnn_log_psi(&lp1, x, net, aws, 1);
                        const double want = lp1 - lp0, got = dlog[(size_t)b * NF + k];
                        if (isinf(want) || isinf(got)) {
                            if (!(isinf(want) && isinf(got) && want < 0 && got < 0)) {
                                fail_msg("net %zu M %d sym %s: flip (%d, %d): ratio %g, full %g",
                                         nc, M, ars_sym_name(syms[yi]), f->site[0],
                                         f->n > 1 ? f->site[1] : -1, got, want);
                            }
                        } else if (fabs(got - want) > 1e-12 * fmax(1.0, fabs(want))) {
                            fail_msg("net %zu M %d sym %s: flip (%d, %d): ratio %.17g, full %.17g",
                                     nc, M, ars_sym_name(syms[yi]), f->site[0],
                                     f->n > 1 ? f->site[1] : -1, got, want);
                        }
                    }
                }
                ars_arnn_ws_free(aws);
                ars_ratio_ws_free(ws);
                free(nfl);
                free(fl);
                free(dlog);
                free(cfg);
                ars_arnn_free(net);
            }
        }
    }
    print_message("sector/symmetrised fast vs slow local energies, %d cases: max relative %.2e\n",
                  cases, worst);
}

/* sum_s p(s) E_loc(s) over the configurations with p(s) > 0 (local energies in chunks of 100)
 * against <psi|H|psi> / <psi|psi> with Hd, the dense sign-free Pauli matrix of H
 * (dense_hamiltonian of H without the Marshall sign), psi(s) = sign(s) exp(log psi(s)) (sign:
 * the Marshall sign when H has it). Fails above a relative 1e-10; returns the relative
 * difference. */
static double check_mean_local_energy(const ars_arnn *net, const ars_ham *H, const double *Hd,
                                      const char *what) {
    const int L = H->size;
    const size_t dim = (size_t)1 << L;
    ars_hilbert hil;
    ars_hilbert_init(&hil, L, 1);
    uint8_t *cfg = malloc(dim * (size_t)L), *live = malloc(dim * (size_t)L);
    double *lp = malloc(dim * sizeof(double)), *eloc = calloc(dim, sizeof(double));
    double *psi = malloc(dim * sizeof(double));
    for (size_t k = 0; k < dim; k++) {
        ars_hilbert_config(&hil, cfg + k * (size_t)L, k);
    }
    ars_arnn_ws *aws = ars_arnn_ws_alloc(net, (int)dim);
    ars_arnn_log_psi(lp, cfg, net, aws, (int)dim);
    ars_arnn_ws_free(aws);
    /* The configurations with p > 0 (all but those outside a sector), in order. */
    size_t n = 0;
    for (size_t k = 0; k < dim; k++) {
        if (!isinf(lp[k])) {
            memcpy(live + n++ * (size_t)L, cfg + k * (size_t)L, (size_t)L);
        }
    }
    const int chunk = 100;
    ars_test_ham_ws *ws = ars_test_ham_ws_alloc(H, net, chunk);
    for (size_t k = 0; k < n; k += chunk) {
        const int m = n - k < (size_t)chunk ? (int)(n - k) : chunk;
        assert_int_equal(ars_test_ham_local_energy(eloc + k, live + k * (size_t)L, H, net, ws, m),
                         0);
    }
    ars_test_ham_ws_free(ws);
    double norm = 0.0, mean = 0.0;
    for (size_t k = 0, j = 0; k < dim; k++) {
        int odd_up = 0;
        for (int t = 1; t < L; t += 2) {
            odd_up += cfg[k * (size_t)L + t];
        }
        psi[k] = (H->marshall_sign && odd_up % 2 ? -1.0 : 1.0) * exp(lp[k]);
        if (!isinf(lp[k])) {
            norm += exp(2.0 * lp[k]);
            mean += exp(2.0 * lp[k]) * eloc[j++];
        }
    }
    double num = 0.0, den = 0.0;
    for (size_t x = 0; x < dim; x++) {
        double hx = 0.0;
        for (size_t y = 0; y < dim; y++) {
            hx += Hd[x * dim + y] * psi[y];
        }
        num += psi[x] * hx;
        den += psi[x] * psi[x];
    }
    const double exact = num / den, rel = fabs(mean - exact) / fmax(1.0, fabs(exact));
    assert_true(fabs(norm - 1.0) < 1e-12);
    if (!(rel <= 1e-10)) {
        fail_msg("%s: %s L=%d pbc=%d marshall=%d: mean E_loc %.15f, <H> %.15f", what,
                 ars_ham_type_name(H->type), L, H->pbc, H->marshall_sign, mean, exact);
    }
    free(psi);
    free(eloc);
    free(lp);
    free(live);
    free(cfg);
    return rel;
}

/* The energy of a symmetrised state in a sector, with the Marshall sign: sum_s p_sym(s) E_loc(s)
 * over the sector equals <psi|H|psi> / <psi|psi> with psi(s) = sign(s) exp(log psi_sym(s)) and
 * the dense Pauli matrix. */
static void test_sector_symmetrised_energy_equals_dense_expectation(void **state) {
    (void)state;
    const net_case nc = {8, 3, 5, 3, {1, 2, 1}, 1, 1, ARS_ACTIVATION_SELU, ARS_INPUT_VALUE};
    const struct {
        int two_m;
        ars_sym sym;
    } st[] = {{0, ARS_SYM_BOTH}, {2, ARS_SYM_REFLECTION}, {NO_SECTOR, ARS_SYM_SPIN_FLIP}};
    for (size_t c = 0; c < 3; c++) {
        ars_arnn *net = sector_net(&nc, st[c].two_m, st[c].sym, 77 + c);
        for (size_t ty = 0; ty < N_TYPES; ty++) {
            if (st[c].two_m != NO_SECTOR && TYPES[ty] == ARS_HAM_TFIM) {
                continue;
            }
            ars_ham H = make_ham(TYPES[ty], 8, 1, TYPES[ty] != ARS_HAM_TFIM);
            double *Hd = dense_hamiltonian(&H, 0); /* sign-free: the builder ignores the flag */
            check_mean_local_energy(net, &H, Hd, ars_sym_name(st[c].sym));
            free(Hd);
        }
        ars_arnn_free(net);
    }
}

/* Extreme weights (logits of order 1e3-1e4, where exp overflows): the ratios are differences of
 * log-amplitudes, so every one is finite and equals the full recomputation to 1e-12 of the
 * log-amplitudes' size; exp of a very negative difference is 0, never NaN. */
static void test_extreme_weights_give_finite_ratios(void **state) {
    (void)state;
    const double scales[] = {30.0, 300.0, 3000.0};
    for (size_t nc = 0; nc < 3; nc++) {
        for (int si = 0; si < 3; si++) {
            const int L = NETS[nc].size;
            ars_arch a = ars_test_arch(L, 1, NETS[nc].layers, NETS[nc].features,
                                       NETS[nc].kernel_size, NETS[nc].dil, NETS[nc].groups,
                                       NETS[nc].bias, NETS[nc].act, NETS[nc].input);
            ars_arnn *net = ars_test_random_net(&a, 900 + nc, scales[si]);
            uint8_t *cfg = malloc((size_t)64 * L);
            const int B = test_configs(cfg, L, 8, 3 + nc);
            ars_ratio_ws *ws = ars_ratio_ws_alloc(net, B, L, 1);
            ars_change *fl = malloc((size_t)B * L * sizeof *fl);
            int *nfl = malloc((size_t)B * sizeof *nfl);
            double *dlog = malloc((size_t)B * L * sizeof(double));
            for (int b = 0; b < B; b++) {
                for (int i = 0; i < L; i++) {
                    fl[(size_t)b * L + i] = ars_test_flip(cfg + (size_t)b * L, i, -1);
                }
                nfl[b] = L;
            }
            ars_ratio_log(dlog, cfg, fl, nfl, (size_t)L, net, ws, B);
            ars_arnn_ws *aws = ars_arnn_ws_alloc(net, 1);
            for (int b = 0; b < B; b++) {
                double lp0, lp1;
                uint8_t x[64];
                ars_arnn_log_psi(&lp0, cfg + (size_t)b * L, net, aws, 1);
                for (int i = 0; i < L; i++) {
                    memcpy(x, cfg + (size_t)b * L, (size_t)L);
                    x[i] ^= 1;
                    ars_arnn_log_psi(&lp1, x, net, aws, 1);
                    const double got = dlog[(size_t)b * L + i];
                    if (!isfinite(got) || !isfinite(lp0) || !isfinite(lp1) ||
                        fabs(got - (lp1 - lp0)) > 1e-12 * fmax(1.0, fmax(fabs(lp0), fabs(lp1)))) {
                        fail_msg("scale %g, net %zu, sample %d, flip %d: ratio %.17g, full %.17g",
                                 scales[si], nc, b, i, got, lp1 - lp0);
                    }
                    const double ratio = exp(got);
                    assert_false(isnan(ratio));
                }
            }
            ars_arnn_ws_free(aws);
            ars_ratio_ws_free(ws);
            free(nfl);
            free(fl);
            free(dlog);
            free(cfg);
            ars_arnn_free(net);
        }
    }
}

/* ---- (c) the mean local energy is the exact energy --------------------------------------- */

static void test_mean_local_energy_over_exact_distribution_equals_dense_expectation(void **state) {
    (void)state;
    const net_case nets[] = {
        {8, 3, 5, 3, {1, 2, 1}, 1, 1, ARS_ACTIVATION_SELU, ARS_INPUT_VALUE},
        {10, 2, 4, 2, {1, 2}, 1, 1, ARS_ACTIVATION_TANH, ARS_INPUT_ONEHOT},
    };
    double worst = 0.0;
    for (size_t nc = 0; nc < (ARS_TEST_SHORT ? 1 : 2); nc++) { /* 10 sites: normal build only */
        ars_arnn *net = case_net(&nets[nc], 300 + nc);
        for (size_t ty = 0; ty < N_TYPES; ty++) {
            for (int pbc = 0; pbc <= 1; pbc++) {
                ars_ham H0 = make_ham(TYPES[ty], nets[nc].size, pbc, 0);
                double *Hd = dense_hamiltonian(&H0, 0); /* the physical (sign-free) matrix */
                for (int marshall = 0; marshall <= 1; marshall++) {
                    ars_ham H = make_ham(TYPES[ty], nets[nc].size, pbc, marshall);
                    worst = fmax(worst, check_mean_local_energy(net, &H, Hd, "plain network"));
                }
                free(Hd);
            }
        }
        ars_arnn_free(net);
    }
    print_message("sum_s p(s) E_loc(s) vs <psi|H|psi>/<psi|psi>: max relative diff %.2e\n", worst);
}

/* ---- (d) errors and names ---------------------------------------------------------------- */

static void test_init_rejects_invalid_hamiltonians_as_config_errors(void **state) {
    (void)state;
    ars_ham H;
    /* tfim for spin 1; blbq for spin 1/2 (heisenberg takes any spin) */
    assert_int_equal(ars_ham_init(&H, ARS_TEST_PRESET(ARS_HAM_TFIM, 1, 1, 0, 0, 1, 0), 8, 2),
                     ARS_STATUS_ECONFIG);
    assert_int_equal(ars_ham_init(&H, ARS_TEST_PRESET(ARS_HAM_BLBQ, 1, 0, 1, 0, 1, 0), 8, 1),
                     ARS_STATUS_ECONFIG);
    assert_int_equal(ars_ham_init(&H, ARS_TEST_PRESET(ARS_HAM_HEISENBERG, 1, 0, 1, 0, 1, 0), 8, 2),
                     ARS_OK);
    /* periodic, odd size, Marshall sign */
    assert_int_equal(ars_ham_init(&H, ARS_TEST_PRESET(ARS_HAM_XXZ, 1, 0, 1, 0, 1, 1), 7, 1),
                     ARS_STATUS_ECONFIG);
    assert_int_equal(ars_ham_init(&H, ARS_TEST_PRESET(ARS_HAM_TFIM, 1, 1, 0, 0, 0, 0), 1, 1),
                     ARS_STATUS_ECONFIG);
    assert_int_equal(ars_ham_init(&H, ARS_TEST_PRESET(ARS_HAM_TFIM, 1, 1, 0, 0, 1, 0), 2, 1),
                     ARS_STATUS_ECONFIG);
    assert_int_equal(ars_ham_init(&H, ARS_TEST_PRESET(ARS_HAM_J1J2, 1, 0, 1, 0.5, 0, 0), 2, 1),
                     ARS_STATUS_ECONFIG);
    assert_int_equal(ars_ham_init(&H, ARS_TEST_PRESET(ARS_HAM_J1J2, 1, 0, 1, 0.5, 1, 0), 4, 1),
                     ARS_STATUS_ECONFIG);
    assert_int_equal(ars_ham_init(&H, ARS_TEST_PRESET(ARS_HAM_XXZ, 1, 0, NAN, 0, 0, 0), 8, 1),
                     ARS_STATUS_ECONFIG);
    assert_int_equal(ars_ham_init(&H, ARS_TEST_PRESET((ars_ham_type)17, 1, 0, 1, 0, 0, 0), 8, 1),
                     ARS_STATUS_ECONFIG);
    /* Valid neighbours of those: odd periodic without the sign, odd open with it. */
    assert_int_equal(ars_ham_init(&H, ARS_TEST_PRESET(ARS_HAM_XXZ, 1, 0, 1, 0, 1, 0), 7, 1),
                     ARS_OK);
    assert_int_equal(ars_ham_init(&H, ARS_TEST_PRESET(ARS_HAM_XXZ, 1, 0, 1, 0, 0, 1), 7, 1),
                     ARS_OK);
    /* Unused couplings are normalised. */
    assert_int_equal(
        ars_ham_init(&H, ARS_TEST_PRESET(ARS_HAM_HEISENBERG, 1, 0.3, 0.2, 0.4, 0, 0), 6, 1),
        ARS_OK);
    assert_true(H.Delta == 1.0 && H.h == 0.0 && H.J2 == 0.0);
}

static void test_type_names_round_trip(void **state) {
    (void)state;
    for (size_t ty = 0; ty < N_TYPES; ty++) {
        ars_ham_type back;
        assert_int_equal(ars_ham_type_parse(ars_ham_type_name(TYPES[ty]), &back), 0);
        assert_int_equal(back, TYPES[ty]);
    }
    ars_ham_type t;
    assert_int_equal(ars_ham_type_parse("ising", &t), -1);
    assert_null(ars_ham_type_name((ars_ham_type)17));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matrix_elements_reproduce_the_dense_pauli_hamiltonian),
        cmocka_unit_test(
            test_marshall_sign_ratio_is_minus_one_on_nearest_and_plus_one_on_next_nearest),
        cmocka_unit_test(test_fast_local_energies_equal_full_recomputation),
        cmocka_unit_test(test_sector_and_symmetrised_local_energies_equal_full_recomputation),
        cmocka_unit_test(test_sector_symmetrised_energy_equals_dense_expectation),
        cmocka_unit_test(test_extreme_weights_give_finite_ratios),
        cmocka_unit_test(test_mean_local_energy_over_exact_distribution_equals_dense_expectation),
        cmocka_unit_test(test_init_rejects_invalid_hamiltonians_as_config_errors),
        cmocka_unit_test(test_type_names_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
