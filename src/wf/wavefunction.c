/*
 * wavefunction: modulus plus phase component (see the header).
 */
#include "wf/wavefunction.h"

#include <assert.h>
#include <math.h>

#include "core/ars_common.h"

static const char *const phase_names[] = {"none", "marshall"};
static_assert(sizeof phase_names / sizeof phase_names[0] == ARS_WF_PHASE_COUNT,
              "one name per phase component");

const char *ars_wf_phase_name(ars_wf_phase phase) {
    return phase >= 0 && phase < ARS_WF_PHASE_COUNT ? phase_names[phase] : NULL;
}

ars_wf ars_wf_make(const ars_arnn *net, int marshall_sign) {
    ars_wf wf = {net, marshall_sign ? ARS_WF_PHASE_MARSHALL : ARS_WF_PHASE_NONE};
    return wf;
}

void ars_wf_log_psi(double *log_abs, double *phi, const uint8_t *cfg, const ars_wf *wf,
                    ars_arnn_ws *ws, int B) {
    const int L = wf->net->arch.hilbert.size;
    ars_arnn_log_psi(log_abs, cfg, wf->net, ws, B);
    for (int b = 0; b < B; b++) {
        int odd = 0;
        if (wf->phase == ARS_WF_PHASE_MARSHALL) {
            for (int t = 1; t < L; t += 2) {
                odd += cfg[(size_t)b * L + t];
            }
        }
        phi[b] = (odd & 1) ? 3.14159265358979323846 : 0.0; /* pi */
    }
}

double ars_wf_phase_ratio(const ars_wf *wf, const uint8_t *s, const ars_change *c) {
    if (wf->phase == ARS_WF_PHASE_NONE) {
        return 1.0;
    }
    return ars_change_marshall_ratio(s, c);
}
