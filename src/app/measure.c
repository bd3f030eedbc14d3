/*
 * measure: [observables] of a run (see measure.h).
 */
#include <string.h>

#include "app/measure.h"
#include "app/print.h"
#include "config/config_key.h"
#include "core/ars_common.h"

int ars_app_measure(const ars_config *cfg, const ars_comm *comm, const ars_arnn *net,
                    const ars_phase *phase, const ars_ham *H, const ars_user_ops *ops,
                    const uint8_t *samples, size_t n, double exact, int quiet,
                    ars_obs_result *res) {
    ars_obs_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.mask = ars_obs_config_mask(cfg);
    spec.n_cuts = cfg->n_renyi_cuts;
    memcpy(spec.cuts, cfg->renyi_cuts, sizeof spec.cuts);
    spec.pbc = cfg->ham_pbc;
    spec.marshall_sign = cfg->ham_marshall;
    spec.phase = phase;
    spec.H = H;
    spec.ops = ops;
    spec.chunk_size = cfg->chunk_size;
    spec.comm = comm;
    const double t0 = ars_wtime();
    const int rc = ars_obs_measure(res, &spec, net, samples, (int64_t)n, NULL);
    if (rc != ARS_OK || quiet) {
        return rc;
    }
    ars_print_observables(res, n, ars_wtime() - t0, exact);
    return ARS_OK;
}
