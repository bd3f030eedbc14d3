/*
 * Specification of the exact references: the free-fermion TFIM energies reproduce the published
 * values and dense diagonalisation, Lanczos reproduces dense diagonalisation for every
 * Sz-conserving type and the Heisenberg ring of 20 sites, and all of them reproduce the
 * independent numpy/scipy values of data/ref_energies.csv (scripts/ref_energies.py).
 */
#include "test_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ars_common.h"
#include "ops/bethe.h"
#include "ops/exact.h"
#include "ops/hamiltonian.h"
#include "ops/terms.h"

#define LANCZOS_ITERS 5000
#define LANCZOS_TOL 1e-10

static ars_ham make_ham(ars_ham_type type, int N, double J, double h, double Delta, double J2,
                        int pbc, int marshall) {
    ars_ham H;
    assert_int_equal(ars_ham_init(&H, ARS_TEST_PRESET(type, J, h, Delta, J2, pbc, marshall), N, 1),
                     ARS_OK);
    return H;
}

/* Lowest eigenvalue of an operator over every sector, or in the sector two_m. */
static double op_lanczos(const ars_op *op, int two_m) {
    ars_exact_result res;
    assert_int_equal(ars_exact_lanczos(op, two_m, LANCZOS_ITERS, LANCZOS_TOL, &res), ARS_OK);
    return res.energy;
}

static double op_dense(const ars_op *op) {
    double e = NAN;
    assert_int_equal(ars_exact_dense_energy(op, &e), ARS_OK);
    return e;
}

static double lanczos(const ars_ham *H) {
    ars_op *op = ars_ham_operator(H);
    assert_non_null(op);
    const double e = op_lanczos(op, ARS_EXACT_ANY_SECTOR);
    ars_op_free(op);
    return e;
}

static double dense(const ars_ham *H) {
    ars_op *op = ars_ham_operator(H);
    assert_non_null(op);
    const double e = op_dense(op);
    ars_op_free(op);
    return e;
}

static void assert_close(double got, double ref, double tol, const char *what) {
    if (!(fabs(got - ref) <= tol)) {
        fail_msg("%s: got %.15f, ref %.15f, diff %.3g > %.3g", what, got, ref, fabs(got - ref),
                 tol);
    }
}

/* Published values (h = J = 1): N = 32 periodic -2/sin(pi/64); N = 64 periodic and open. */
static void test_free_fermion_tfim_reproduces_published_energies(void **state) {
    (void)state;
    assert_close(ars_exact_tfim(32, 1.0, 1.0, 1), -40.7600324942, 1e-9, "N=32 pbc");
    assert_close(ars_exact_tfim(32, 1.0, 1.0, 1), -2.0 / sin(3.14159265358979323846 / 64.0), 1e-12,
                 "closed form");
    assert_close(ars_exact_tfim(64, 1.0, 1.0, 1), -81.4955126689, 1e-9, "N=64 pbc");
    assert_close(ars_exact_tfim(64, 1.0, 1.0, 0), -81.1259801231, 1e-9, "N=64 obc");
}

/* Free fermions against dense diagonalisation of the spin chain, N = 5..12, both boundary
 * conditions, ferro- and antiferromagnetic J, fields of both signs, Marshall sign on and off
 * (N = 11 and 12, the slow dense cases, with h = J = 1 only). */
static void test_free_fermion_tfim_equals_dense_diagonalisation(void **state) {
    (void)state;
    const double couplings[][2] = {{1.0, 1.0}, {1.0, 0.5}, {0.5, 1.3}, {-1.0, 0.7}, {0.8, -0.6}};
    double worst = 0.0;
    for (int N = 5; N <= 12; N++) {
        for (int pbc = 0; pbc <= 1; pbc++) {
            for (size_t c = 0; c < (N <= 10 ? sizeof couplings / sizeof couplings[0] : 1); c++) {
                const double J = couplings[c][0], h = couplings[c][1];
                if (pbc && N % 2 != 0 && J < 0.0) {
                    /* The frustrated odd ring is outside the formula's sector: NaN. */
                    assert_true(isnan(ars_exact_tfim(N, J, h, pbc)));
                    continue;
                }
                ars_ham H = make_ham(ARS_HAM_TFIM, N, J, h, 0.0, 0.0, pbc, 0);
                char what[128];
                snprintf(what, sizeof what, "tfim N=%d pbc=%d J=%g h=%g", N, pbc, J, h);
                double ed = dense(&H), ff = ars_exact_tfim(N, J, h, pbc);
                worst = fmax(worst, fabs(ed - ff));
                assert_close(ff, ed, 1e-10, what);
            }
        }
    }
    print_message("free fermions vs dense (N = 5..12): max |diff| %.2e\n", worst);
}

/* Lanczos (Sz sector) against dense diagonalisation (all sectors) for XXZ, Heisenberg and J1-J2,
 * N = 8..12, open and periodic, Marshall sign on and off (same spectrum; N <= 10). */
static void test_lanczos_equals_dense_diagonalisation(void **state) {
    (void)state;
    typedef struct {
        ars_ham_type type;
        double Delta, J2;
    } model;
    const model models[] = {{ARS_HAM_XXZ, 0.5, 0.0},  {ARS_HAM_XXZ, 1.0, 0.0},
                            {ARS_HAM_XXZ, 2.0, 0.0},  {ARS_HAM_HEISENBERG, 1.0, 0.0},
                            {ARS_HAM_J1J2, 1.0, 0.5}, {ARS_HAM_J1J2, 1.0, 0.2}};
    double worst = 0.0;
    for (size_t m = 0; m < sizeof models / sizeof models[0]; m++) {
        for (int N = 8; N <= 12; N++) {
            for (int pbc = 0; pbc <= 1; pbc++) {
                ars_ham H =
                    make_ham(models[m].type, N, 1.0, 0.0, models[m].Delta, models[m].J2, pbc, 0);
                char what[128];
                snprintf(what, sizeof what, "%s N=%d pbc=%d Delta=%g J2=%g",
                         ars_ham_type_name(H.type), N, pbc, H.Delta, H.J2);
                double ed = dense(&H), lz = lanczos(&H);
                worst = fmax(worst, fabs(ed - lz));
                assert_close(lz, ed, 1e-10 * fabs(ed), what);
            }
        }
    }
    print_message("Lanczos vs dense (N = 8..12, %zu models): max |diff| %.2e\n",
                  sizeof models / sizeof models[0], worst);
}

/* Lanczos in the full space for tfim equals free fermions. */
static void test_lanczos_tfim_full_space_equals_free_fermions(void **state) {
    (void)state;
    for (int N = 10; N <= 14; N += 4) {
        for (int pbc = 0; pbc <= 1; pbc++) {
            ars_ham H = make_ham(ARS_HAM_TFIM, N, 1.0, 0.9, 0.0, 0.0, pbc, 0);
            assert_close(lanczos(&H), ars_exact_tfim(N, 1.0, 0.9, pbc), 1e-9, "tfim Lanczos");
        }
    }
}

/* The ring of 20 sites: -35.617546120 (literature), -35.617546119506 (scipy eigsh in the
 * Sz = 0 block, data/ref_energies.csv). About 2 s; the time is printed. */
static void test_lanczos_heisenberg_ring_of_20_sites(void **state) {
    (void)state;
    ars_ham H = make_ham(ARS_HAM_HEISENBERG, 20, 1.0, 0.0, 1.0, 0.0, 1, 0);
    ars_op *op = ars_ham_operator(&H);
    assert_non_null(op);
    double t0 = ars_wtime();
    double e = op_lanczos(op, 0);
    ars_op_free(op);
    double dt = ars_wtime() - t0;
    print_message("Heisenberg N=20 pbc: E0 = %.12f, |diff| %.2e, %.2f s\n", e,
                  fabs(e - -35.617546120), dt);
    assert_close(e, -35.617546120, 1e-8, "Heisenberg N=20 pbc");
    assert_close(e, -35.617546119506, 1e-10, "Heisenberg N=20 pbc (scipy)");
}

/* Every row of data/ref_energies.csv (numpy/scipy, independent of this library) is reproduced:
 * tfim by the free-fermion formulas (and by Lanczos up to 12 sites), the others by Lanczos. */
static void test_energies_match_independent_scipy_reference_file(void **state) {
    (void)state;
    FILE *f = fopen(ars_test_source_path("data/ref_energies.csv"), "r");
    assert_non_null(f);
    char line[512];
    int rows = 0, header = 0;
    double worst = 0.0;
    while (fgets(line, sizeof line, f) != NULL) {
        if (line[0] == '#' || line[0] == '\n') {
            continue;
        }
        if (!header) {
            assert_string_equal(line, "model,size,pbc,J,h,Delta,J2,e0,method\n");
            header = 1;
            continue;
        }
        char model[32], method[32];
        int N, pbc;
        double J, h, Delta, J2, e0;
        assert_int_equal(sscanf(line, "%31[^,],%d,%d,%lf,%lf,%lf,%lf,%lf,%31s", model, &N, &pbc, &J,
                                &h, &Delta, &J2, &e0, method),
                         9);
        ars_ham_type type;
        assert_int_equal(ars_ham_type_parse(model, &type), 0);
        char what[160];
        snprintf(what, sizeof what, "%s N=%d pbc=%d J=%g h=%g Delta=%g J2=%g (%s)", model, N, pbc,
                 J, h, Delta, J2, method);
        const double tol = 1e-10 * fmax(1.0, fabs(e0));
        if (type == ARS_HAM_TFIM) {
            double ff = ars_exact_tfim(N, J, h, pbc);
            worst = fmax(worst, fabs(ff - e0) / fabs(e0));
            assert_close(ff, e0, tol, what);
        }
        /* Lanczos up to 16 sites (tfim 12); the 20-site ring has its own test below. */
        if (N <= (type == ARS_HAM_TFIM ? 12 : 16)) {
            ars_ham H = make_ham(type, N, J, h, Delta, J2, pbc, 0);
            double lz = lanczos(&H);
            worst = fmax(worst, fabs(lz - e0) / fabs(e0));
            assert_close(lz, e0, tol, what);
        }
        rows++;
    }
    fclose(f);
    assert_true(rows >= 60);
    print_message("%d reference rows: max relative |diff| %.2e\n", rows, worst);
}

static void test_lanczos_rejects_what_it_cannot_do(void **state) {
    (void)state;
    ars_exact_result res;
    double e = 0.0;
    /* 28 sites: 40 116 600 states in total S^z = 0, 2^28 in all. */
    ars_ham H = make_ham(ARS_HAM_HEISENBERG, 28, 1.0, 0.0, 1.0, 0.0, 1, 0);
    ars_op *op = ars_ham_operator(&H);
    size_t largest = 0;
    assert_int_equal(ars_exact_lanczos_states(op, 0, NULL), 40116600);
    /* Every sector with S^z >= 0 (the flip maps M onto -M): (2^28 + C(28, 14)) / 2. */
    assert_true(ars_op_commutes_with_flip(op));
    assert_int_equal(ars_exact_lanczos_states(op, ARS_EXACT_ANY_SECTOR, &largest), 154276028);
    assert_int_equal(largest, 40116600);
    assert_int_equal(ars_exact_lanczos(op, ARS_EXACT_ANY_SECTOR, 100, 1e-10, &res),
                     ARS_STATUS_ECONFIG);
    assert_int_equal(ars_exact_dense_energy(op, &e), ARS_STATUS_ECONFIG);
    /* Not a sector: odd 2 S^z on an even chain, or beyond the all-up state. */
    assert_int_equal(ars_exact_lanczos(op, 1, 100, 1e-10, &res), ARS_STATUS_ECONFIG);
    assert_int_equal(ars_exact_lanczos(op, 30, 100, 1e-10, &res), ARS_STATUS_ECONFIG);
    ars_op_free(op);
    ars_ham T = make_ham(ARS_HAM_TFIM, 8, 1.0, 1.0, 0.0, 0.0, 0, 0);
    op = ars_ham_operator(&T);
    assert_false(ars_op_conserves_sz(op));
    assert_int_equal(ars_exact_lanczos(op, 0, 100, 1e-10, &res), ARS_STATUS_ECONFIG);
    ars_op_free(op);
    /* Too few iterations to converge is reported, not returned as an energy. */
    ars_ham X = make_ham(ARS_HAM_XXZ, 16, 1.0, 0.0, 0.5, 0.0, 1, 0);
    op = ars_ham_operator(&X);
    assert_int_equal(ars_exact_lanczos(op, 0, 5, 1e-10, &res), ARS_STATUS_ECONFIG);
    ars_op_free(op);
}

static ars_op_factor fac(ars_site_op op, int site) {
    return (ars_op_factor){op, site, 1};
}

/* A ferromagnet's ground state is outside S^z = 0: the search over every sector finds it in
 * the all-up sector (S^z >= 0 only: the flip commutes with H), and so does that sector itself.
 * A field along -z breaks the flip symmetry: the negative sectors are searched too, and the
 * all-down state wins. */
static void test_lanczos_over_every_sector_reaches_the_ferromagnet(void **state) {
    (void)state;
    ars_ham H = make_ham(ARS_HAM_XXZ, 10, -1.0, 0.0, 1.5, 0.0, 0, 0);
    ars_op *op = ars_ham_operator(&H);
    ars_exact_result res;
    assert_int_equal(ars_exact_lanczos(op, ARS_EXACT_ANY_SECTOR, 1000, 1e-12, &res), ARS_OK);
    /* All up: J Delta (L - 1) = -13.5 is the ground state for Delta > 1. */
    assert_close(res.energy, -13.5, 1e-12, "every sector");
    assert_true(res.in_sector);
    assert_int_equal(res.two_m, 10);
    assert_int_equal(res.states, 252 + 210 + 120 + 45 + 10 + 1);
    assert_close(op_lanczos(op, 10), -13.5, 1e-12, "all up");
    assert_close(op_dense(op), -13.5, 1e-10, "dense");
    const ars_op_factor z[1] = {fac(ARS_SITE_OP_Z, 0)};
    assert_int_equal(ars_op_add_term(op, 0.1, z, 1, "field"), ARS_OK);
    assert_false(ars_op_commutes_with_flip(op));
    assert_true(ars_op_conserves_sz(op));
    assert_int_equal(ars_exact_lanczos(op, ARS_EXACT_ANY_SECTOR, 1000, 1e-12, &res), ARS_OK);
    assert_close(res.energy, -14.5, 1e-12, "all down in a field");
    assert_int_equal(res.two_m, -10);
    assert_int_equal(res.states, 1024);
    assert_close(op_dense(op), -14.5, 1e-10, "dense in a field");
    ars_op_free(op);
}

/* The AKLT chain, H = sum_i S_i.S_{i+1} + (1/3) (S_i.S_{i+1})^2 for spin 1, written as terms
 * (the square as products of four factors, two per site, multiplied in order): its ring has
 * E0 = -2N/3 exactly (the valence-bond solid), in the S^z = 0 sector of Lanczos and in the
 * dense blocks. */
static void test_aklt_ring_has_the_exact_energy_minus_two_thirds_per_site(void **state) {
    (void)state;
    const ars_site_op S[3] = {ARS_SITE_OP_SX, ARS_SITE_OP_SY, ARS_SITE_OP_SZ};
    for (int N = 6; N <= 10; N += 2) {
        ars_op *op = ars_op_alloc(N, 2, 1);
        assert_non_null(op);
        for (int a = 0; a < 3; a++) {
            const ars_op_factor bl[2] = {fac(S[a], 0), fac(S[a], 1)};
            assert_int_equal(ars_op_add_term(op, 1.0, bl, 2, "S.S"), ARS_OK);
            for (int b = 0; b < 3; b++) {
                const ars_op_factor bq[4] = {fac(S[a], 0), fac(S[b], 0), fac(S[a], 1),
                                             fac(S[b], 1)};
                assert_int_equal(ars_op_add_term(op, 1.0 / 3.0, bq, 4, "(S.S)^2"), ARS_OK);
            }
        }
        assert_true(ars_op_conserves_sz(op));
        const double lz = op_lanczos(op, ARS_EXACT_ANY_SECTOR), e0 = -2.0 * N / 3.0;
        assert_close(lz, e0, 1e-9, "AKLT Lanczos");
        if (N <= 6) {
            assert_close(op_dense(op), e0, 1e-9, "AKLT dense");
        }
        ars_op_free(op);
    }
}

/* Spin 1 and 3/2 chains of random terms: Lanczos over every sector (or the full space) equals
 * dense diagonalisation of every block, and S^z conservation is recognised from the merged
 * elements (Sx Sx + Sy Sy conserves it, Sx Sx alone does not). */
static void test_lanczos_equals_dense_for_random_spin_s_operators(void **state) {
    (void)state;
    const ars_site_op S[5] = {ARS_SITE_OP_SX, ARS_SITE_OP_SY, ARS_SITE_OP_SZ, ARS_SITE_OP_SP,
                              ARS_SITE_OP_SM};
    unsigned seed = 12345;
    for (int two_s = 2; two_s <= 3; two_s++) {
        const int N = two_s == 2 ? 6 : 5;
        for (int conserving = 0; conserving <= 1; conserving++) {
            ars_op *op = ars_op_alloc(N, two_s, conserving);
            for (int t = 0; t < 6; t++) {
                seed = seed * 1103515245u + 12345u;
                const double c = (double)(seed >> 8 & 0xffff) / 65536.0 - 0.5;
                const int r = 1 + (int)(seed >> 24) % 2;
                /* Hermitian pairs: Sx Sx + Sy Sy (conserving) or Sx Sx and Sz; S+ S- + S- S+. */
                const ars_op_factor xx[2] = {fac(S[0], 0), fac(S[0], r)};
                const ars_op_factor yy[2] = {fac(S[1], 0), fac(S[1], r)};
                const ars_op_factor pm[2] = {fac(S[3], 0), fac(S[4], r)};
                const ars_op_factor mp[2] = {fac(S[4], 0), fac(S[3], r)};
                const ars_op_factor zz[3] = {fac(S[2], 0), fac(S[2], 0), fac(S[2], r)};
                assert_int_equal(ars_op_add_term(op, c, xx, 2, "xx"), ARS_OK);
                if (conserving) {
                    assert_int_equal(ars_op_add_term(op, c, yy, 2, "yy"), ARS_OK);
                } else {
                    const ars_op_factor x1[1] = {fac(S[0], 0)};
                    assert_int_equal(ars_op_add_term(op, 0.3 * c, x1, 1, "x"), ARS_OK);
                }
                assert_int_equal(ars_op_add_term(op, 0.7 * c, pm, 2, "pm"), ARS_OK);
                assert_int_equal(ars_op_add_term(op, 0.7 * c, mp, 2, "mp"), ARS_OK);
                assert_int_equal(ars_op_add_term(op, 1.3 * c, zz, 3, "zzz"), ARS_OK);
            }
            assert_int_equal(ars_op_conserves_sz(op), conserving);
            const double lz = op_lanczos(op, ARS_EXACT_ANY_SECTOR), ed = op_dense(op);
            char what[96];
            snprintf(what, sizeof what, "spin %d/2, %d sites, %s", two_s, N,
                     conserving ? "S^z sectors" : "full space");
            assert_close(lz, ed, 1e-10 * fmax(1.0, fabs(ed)), what);
            ars_op_free(op);
        }
    }
}

/* Every model of data/terms_ref.csv (scripts/terms_ref.py: its own parser, scipy Kronecker
 * products, eigsh; spins 1/2, 1 and 3/2, 1 to 4 sites per term, fixed and i-relative sites, long
 * range, disorder, Sy pairs, same-site products) is read from its terms_file
 * (data/terms/NAME.txt) and reproduced by Lanczos over every sector (or the full space) and by
 * dense diagonalisation of every block. */
static void test_terms_files_match_the_independent_kronecker_references(void **state) {
    (void)state;
    FILE *f = fopen(ars_test_source_path("data/terms_ref.csv"), "r");
    assert_non_null(f);
    char line[512];
    int rows = 0;
    double worst = 0.0;
    while (fgets(line, sizeof line, f) != NULL) {
        if (line[0] == '#' || strncmp(line, "name,", 5) == 0) {
            continue;
        }
        char name[128];
        int n, two_s, pbc;
        double e0;
        assert_int_equal(sscanf(line, "%127[^,],%d,%d,%d,%lf", name, &n, &two_s, &pbc, &e0), 5);
        char rel[256];
        snprintf(rel, sizeof rel, "data/terms/%s.txt", name);
        ars_terms T;
        ars_terms_init(&T);
        assert_int_equal(ars_terms_read_file(&T, ars_test_source_path(rel), "test"), ARS_OK);
        int status = ARS_OK;
        ars_op *op = ars_terms_operator(&T, n, two_s, pbc, &status);
        assert_non_null(op);
        const double lz = op_lanczos(op, ARS_EXACT_ANY_SECTOR);
        assert_close(lz, e0, 1e-9 * fmax(1.0, fabs(e0)), name);
        /* Dense diagonalisation too, up to 2200 states (the 3^8 and 4^6 states of the spin-1 ring
         * of 8 and the spin-3/2 ring of 6 took 90% of it: Lanczos checks those against scipy). */
        if (pow(two_s + 1, n) <= 2200.0) {
            assert_close(op_dense(op), e0, 1e-9 * fmax(1.0, fabs(e0)), name);
        }
        worst = fmax(worst, fabs(lz - e0) / fmax(1.0, fabs(e0)));
        ars_op_free(op);
        ars_terms_free(&T);
        rows++;
    }
    fclose(f);
    assert_true(rows >= 13); /* 4 complex operators among them */
    print_message("%d term-list models vs scipy: max relative |diff| %.2e\n", rows, worst);
}

/* The XX chain with a Dzyaloshinskii-Moriya term and a field (the xxz preset with Delta = 0 and
 * dm): free fermions (a gauge rotation on an open chain, the twisted boundary on a ring) equal
 * Lanczos of the complex operator in every S^z sector and over all of them, and dense
 * diagonalisation of its real form. */
static void test_xx_dm_free_fermions_equal_complex_lanczos(void **state) {
    (void)state;
    const double params[][3] = {{1.0, 1.0, 0.0}, {0.7, -1.3, 0.4}, {-1.0, 0.5, -0.8}};
    double worst = 0.0;
    for (int N = 5; N <= 10; N++) {
        for (int pbc = 0; pbc <= 1; pbc++) {
            for (size_t k = 0; k < sizeof params / sizeof params[0]; k++) {
                const ars_ham_preset p = {.type = ARS_HAM_XXZ,
                                          .J = params[k][0],
                                          .Delta = 0.0,
                                          .pbc = pbc,
                                          .dm = params[k][1],
                                          .hz = params[k][2]};
                ars_ham H;
                assert_int_equal(ars_ham_init(&H, &p, N, 1), ARS_OK);
                ars_op *op = ars_ham_operator(&H);
                assert_non_null(op);
                assert_int_equal(ars_op_is_complex(op), 1);
                char what[96];
                for (int two_m = -N; two_m <= N; two_m += 2) {
                    const double ff = ars_exact_xx_dm(N, p.J, p.dm, p.hz, pbc, (N + two_m) / 2);
                    const double lz = op_lanczos(op, two_m);
                    snprintf(what, sizeof what, "N %d pbc %d set %zu 2Sz %d", N, pbc, k, two_m);
                    assert_close(ff, lz, 1e-10 * fmax(1.0, fabs(lz)), what);
                    worst = fmax(worst, fabs(ff - lz) / fmax(1.0, fabs(lz)));
                }
                const char *method = NULL;
                const double ff = ars_ham_closed_form(&H, ARS_EXACT_ANY_SECTOR, &method);
                assert_string_equal(method, "free fermions");
                snprintf(what, sizeof what, "N %d pbc %d set %zu, every sector", N, pbc, k);
                assert_close(ff, op_lanczos(op, ARS_EXACT_ANY_SECTOR), 1e-10 * fabs(ff), what);
                if (N <= 8) {
                    assert_close(ff, op_dense(op), 1e-10 * fabs(ff), what);
                }
                ars_op_free(op);
                ars_ham_free(&H);
            }
        }
    }
    print_message("XX + DM chains, 5..10 sites, every sector: free fermions vs complex Lanczos, "
                  "max relative |diff| %.2e\n",
                  worst);
}

/* The spin-1/2 Heisenberg chain by the Bethe ansatz (ops/bethe.h) equals Lanczos in every S^z
 * sector, rings and open chains of 2..14 sites, odd lengths included; through
 * ars_ham_closed_form also with the constant fields (D, hz in a sector) and for the
 * ferromagnet, and over every sector. */
static void test_bethe_ansatz_equals_lanczos_in_every_sector(void **state) {
    (void)state;
    double worst = 0.0;
    char what[96];
    for (int N = 2; N <= (ARS_TEST_SHORT ? 10 : 14); N++) {
        for (int pbc = 0; pbc <= 1; pbc++) {
            if (pbc && N < 3) {
                continue;
            }
            const double params[][3] = {{1.0, 0.0, 0.0}, {0.7, 0.3, -0.4}, {-1.0, 0.2, 0.5}};
            for (size_t k = 0; k < sizeof params / sizeof params[0]; k++) {
                const ars_ham_preset p = {.type = ARS_HAM_HEISENBERG,
                                          .J = params[k][0],
                                          .pbc = pbc,
                                          .D = params[k][1],
                                          .hz = params[k][2]};
                ars_ham H;
                assert_int_equal(ars_ham_init(&H, &p, N, 1), ARS_OK);
                ars_op *op = ars_ham_operator(&H);
                assert_non_null(op);
                for (int two_m = -N; two_m <= N; two_m += 2) {
                    const char *method = NULL;
                    const double e = ars_ham_closed_form(&H, two_m, &method);
                    assert_string_equal(method,
                                        p.J > 0.0 ? "Bethe ansatz" : "ferromagnetic multiplet");
                    const double lz = op_lanczos(op, two_m);
                    snprintf(what, sizeof what, "N %d pbc %d set %zu 2Sz %d", N, pbc, k, two_m);
                    assert_close(e, lz, 1e-10 * fmax(1.0, fabs(lz)), what);
                    worst = fmax(worst, fabs(e - lz) / fmax(1.0, fabs(lz)));
                }
                const char *method = NULL;
                const double any = ars_ham_closed_form(&H, ARS_EXACT_ANY_SECTOR, &method);
                if (p.hz == 0.0) {
                    snprintf(what, sizeof what, "N %d pbc %d set %zu, every sector", N, pbc, k);
                    assert_close(any, op_lanczos(op, ARS_EXACT_ANY_SECTOR), 1e-10 * fabs(any),
                                 what);
                } else {
                    assert_true(isnan(any)); /* the field picks a sector: left to Lanczos */
                }
                ars_op_free(op);
                ars_ham_free(&H);
            }
        }
    }
    print_message("Heisenberg chains, 2..14 sites, every sector: Bethe ansatz vs Lanczos, max "
                  "relative |diff| %.2e\n",
                  worst);
}

/* Long chains: the ring of 20 sites equals its scipy energy (test below) to 1e-10, chains of
 * 100 and 200 sites the published DMRG energies to their precision, and the
 * energy per site of 1000 sites lies within the finite-size correction of the thermodynamic
 * limit 1 - 4 ln 2 (Pauli units): e(N) - e_inf = -pi^2 / (3 N^2) (1 + O(1 / ln N)) for the ring
 * (spin-wave velocity pi/2 J, c = 1) and the open chain's surface energy. */
static void test_bethe_ansatz_long_chains(void **state) {
    (void)state;
    const double pi = 3.14159265358979323846, e_inf = 1.0 - 4.0 * log(2.0);
    assert_close(ars_bethe_xxx(20, 10, 1), -35.617546119506, 1e-10, "ring of 20 (scipy)");
    /* DMRG energies of the varbench dataset (truncation errors 1e-14 .. 3e-12). */
    assert_close(ars_bethe_xxx(100, 50, 0), -176.510959573, 2e-9, "open chain of 100 (DMRG)");
    assert_close(ars_bethe_xxx(200, 100, 0), -353.766222278, 2e-9, "open chain of 200 (DMRG)");
    assert_close(ars_bethe_xxx(200, 100, 1), -354.534213002, 2e-8, "ring of 200 (DMRG)");
    const double ring = ars_bethe_xxx(1000, 500, 1) / 1000.0;
    const double fs = -pi * pi / (3.0 * 1000.0 * 1000.0);
    print_message("ring of 1000: e = %.12f, e - e_inf = %.3e, -pi^2/(3N^2) = %.3e\n", ring,
                  ring - e_inf, fs);
    assert_true(ring < e_inf && fabs((ring - e_inf) / fs - 1.0) < 0.3);
    const double open = ars_bethe_xxx(1000, 500, 0) / 1000.0;
    print_message("open chain of 1000: e = %.12f, (e - e_inf) N = %.4f\n", open,
                  (open - e_inf) * 1000.0);
    /* Surface energy of the open chain: pi - 1 - 2 ln 2 (Hamer, Quispel and Batchelor, J. Phys.
     * A 20, 5677 (1987), (pi - 1 - 2 ln 2)/4 in spin units), up to O(1/N). */
    assert_true(fabs((open - e_inf) * 1000.0 - (pi - 1.0 - 2.0 * log(2.0))) < 2e-3);
}

/* The XY chain in a field (xxz with Delta = 0 and gamma): free fermions equal dense
 * diagonalisation and Lanczos of the operator over every sector (its S^z is not conserved), open
 * and periodic, even and odd lengths, couplings of both signs; gamma = 1 with J -> -J/2 is the
 * transverse-field Ising chain of ars_exact_tfim; ars_ham_closed_form takes this path. */
static void test_xy_free_fermions_equal_diagonalisation(void **state) {
    (void)state;
    const double params[][3] = {
        {1.0, 0.5, 0.3}, {0.7, -0.4, 1.1}, {-1.0, 0.9, -0.6}, {0.5, 1.0, 0.0}, {1.0, 0.2, 2.5}};
    double worst = 0.0;
    char what[96];
    for (int N = 3; N <= 10; N++) {
        for (int pbc = 0; pbc <= 1; pbc++) {
            for (size_t k = 0; k < sizeof params / sizeof params[0]; k++) {
                const ars_ham_preset p = {.type = ARS_HAM_XXZ,
                                          .J = params[k][0],
                                          .Delta = 0.0,
                                          .pbc = pbc,
                                          .gamma = params[k][1],
                                          .hz = params[k][2]};
                ars_ham H;
                assert_int_equal(ars_ham_init(&H, &p, N, 1), ARS_OK);
                const char *method = NULL;
                const double ff = ars_ham_closed_form(&H, ARS_EXACT_ANY_SECTOR, &method);
                assert_string_equal(method, "free fermions");
                assert_close(ff, ars_exact_xy(N, p.J, p.gamma, p.hz, pbc), 0.0, "same path");
                assert_true(isnan(ars_ham_closed_form(&H, 0, &method))); /* no sectors */
                ars_op *op = ars_ham_operator(&H);
                assert_non_null(op);
                const double ref = N <= 8 ? op_dense(op) : op_lanczos(op, ARS_EXACT_ANY_SECTOR);
                snprintf(what, sizeof what, "N %d pbc %d set %zu", N, pbc, k);
                assert_close(ff, ref, 1e-10 * fmax(1.0, fabs(ref)), what);
                worst = fmax(worst, fabs(ff - ref) / fmax(1.0, fabs(ref)));
                ars_op_free(op);
                ars_ham_free(&H);
            }
            /* The Ising chain: -J Z Z - h X is J' ((1+1) X X) - hz Z rotated, J' = -J/2. */
            assert_close(ars_exact_xy(N, -0.5 * 1.3, 1.0, 0.8, pbc),
                         ars_exact_tfim(N, 1.3, 0.8, pbc), 1e-12 * N,
                         "XY at gamma = 1 is the TFIM");
        }
    }
    print_message("XY chains, 3..10 sites: free fermions vs diagonalisation, max relative "
                  "|diff| %.2e\n",
                  worst);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_xx_dm_free_fermions_equal_complex_lanczos),
        cmocka_unit_test(test_bethe_ansatz_equals_lanczos_in_every_sector),
        cmocka_unit_test(test_bethe_ansatz_long_chains),
        cmocka_unit_test(test_xy_free_fermions_equal_diagonalisation),
        cmocka_unit_test(test_free_fermion_tfim_reproduces_published_energies),
        cmocka_unit_test(test_free_fermion_tfim_equals_dense_diagonalisation),
        cmocka_unit_test(test_lanczos_equals_dense_diagonalisation),
        cmocka_unit_test(test_lanczos_tfim_full_space_equals_free_fermions),
        cmocka_unit_test(test_lanczos_heisenberg_ring_of_20_sites),
        cmocka_unit_test(test_energies_match_independent_scipy_reference_file),
        cmocka_unit_test(test_lanczos_rejects_what_it_cannot_do),
        cmocka_unit_test(test_lanczos_over_every_sector_reaches_the_ferromagnet),
        cmocka_unit_test(test_aklt_ring_has_the_exact_energy_minus_two_thirds_per_site),
        cmocka_unit_test(test_lanczos_equals_dense_for_random_spin_s_operators),
        cmocka_unit_test(test_terms_files_match_the_independent_kronecker_references),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
