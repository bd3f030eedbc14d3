/*
 * Shared helpers for arsampler's cmocka tests: element-wise closeness with a useful report,
 * random networks, and exact enumeration of small chains.
 */
#ifndef ARS_TEST_UTIL_H
#define ARS_TEST_UTIL_H

/* 1 in the AddressSanitizer + UBSan build (ARS_SANITIZE): tests that train or enumerate for
 * accuracy run the same code paths for fewer steps or on fewer cases there, and check their
 * accuracy targets only in the normal build (which CI runs too). The sanitizers check memory
 * and undefined behaviour, which a shorter run exercises just the same. */
#ifdef ARS_TEST_SANITIZED
#define ARS_TEST_SHORT 1
#else
#define ARS_TEST_SHORT 0
#endif

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "nn/arnn.h"
#include "nn/phase.h"
#include "est/local_energy.h"
#include "ops/hamiltonian.h"
#include "wf/wavefunction.h"
#include "space/change.h"

/* A preset Hamiltonian from its classic couplings (the fields and D left at 0), as a pointer to
 * a compound literal for ars_ham_init. */
#define ARS_TEST_PRESET(type_, J_, h_, Delta_, J2_, pbc_, marshall_)                               \
    (&(ars_ham_preset){.type = (type_),                                                            \
                       .J = (J_),                                                                  \
                       .h = (h_),                                                                  \
                       .Delta = (Delta_),                                                          \
                       .J2 = (J2_),                                                                \
                       .pbc = (pbc_),                                                              \
                       .marshall_sign = (marshall_)})

/* Fails the test unless |got[i] - ref[i]| <= atol + rtol * |ref[i]| for every i; the message
 * names the worst index and the largest difference. */
#define assert_allclose(got, ref, n, atol, rtol)                                                   \
    ars_test_allclose((got), (ref), (n), (atol), (rtol), __FILE__, __LINE__)
void ars_test_allclose(const double *got, const double *ref, size_t n, double atol, double rtol,
                       const char *file, int line);

/* An architecture from the arguments (features: one hidden width; dilations: one per layer). */
ars_arch ars_test_arch(int size, int two_s, int layers, int features, int kernel_size,
                       const int *dilations, int groups, int use_bias, ars_activation act,
                       ars_input input);

/* A network with every parameter drawn uniformly from [-scale, scale] (biases included), so
 * that bias paths are exercised. Caller frees. */
ars_arnn *ars_test_random_net(const ars_arch *arch, uint64_t seed, double scale);

/* A conv phase network on L sites of D local states (with the site term if `site`, the Jastrow
 * term if `jastrow`) with every parameter uniform in [-scale, scale]. */
ars_phase *ars_test_random_phase(int L, int D, int pbc, int layers, int F, int K, const int *dil,
                                 int site, int jastrow, ars_activation act, uint64_t seed,
                                 double scale);

/* Exact log p(s) of all D^L configurations, lexicographic order; malloc'd (n_out set). */
double *ars_test_enumerate_log_prob(const ars_arnn *net, size_t *n_out);

/* Path of a file under the source tree (static buffer). */
const char *ars_test_source_path(const char *rel);

/* A fresh path for a temporary file in the build tree (static buffer per call site id). */
const char *ars_test_tmp_path(const char *name);

/* The spin-1/2 flip of sites i and j (j < 0: i only) of configuration s, as a change. */
ars_change ars_test_flip(const uint8_t *s, int i, int j);

/* H(s, s) and the connections of the preset H with their elements H(s', s) times the Marshall
 * sign ratio when H has it (the elements the local energies use); at most `cap` (asserted).
 * Returns their number. */
int ars_test_ham_connections(const ars_ham *H, const uint8_t *s, double *diag, ars_change *ch,
                             double *mel, int cap);

/* Local energies of a preset Hamiltonian (its operator, the Marshall sign when set), for tests:
 * the operator and the local-energy workspace together. */
typedef struct ars_test_ham_ws {
    ars_op *op;
    ars_eloc_ws *eloc;
} ars_test_ham_ws;

ars_test_ham_ws *ars_test_ham_ws_alloc(const ars_ham *H, const ars_arnn *net, int B);
void ars_test_ham_ws_free(ars_test_ham_ws *ws);
int ars_test_ham_ws_reach(const ars_test_ham_ws *ws);
int ars_test_ham_ws_window(const ars_test_ham_ws *ws);
int ars_test_ham_local_energy(double *eloc, const uint8_t *cfg, const ars_ham *H,
                              const ars_arnn *net, ars_test_ham_ws *ws, int B);
void ars_test_ham_local_energy_slow(double *eloc, const uint8_t *cfg, const ars_ham *H,
                                    const ars_arnn *net, int B);

/* Whether two doubles have the same bits (-inf equals -inf; 0 and -0 differ). */
int ars_test_same_bits(double a, double b);

#endif
