/*
 * run_exact: mode = exact (see run_exact.h).
 */
#include <math.h>
#include <stdio.h>

#include "app/run_exact.h"
#include "app/setup.h"
#include "core/ars_common.h"
#include "space/hilbert.h"

int ars_run_exact(const ars_config *cfg, const char *config_text, ars_run_ctx *ctx) {
    const int quiet = ctx->quiet;
    ars_ham H;
    int rc = ars_setup_hamiltonian(cfg, &H);
    if (rc != ARS_OK) {
        return rc;
    }
    rc = ars_output_check(cfg);
    const char *method = "";
    double e0 = NAN;
    if (rc == ARS_OK) {
        rc = ars_setup_exact_energy(cfg, &H, &e0, &method);
    }
    if (rc != ARS_OK) {
        ars_ham_free(&H);
        return rc;
    }
    if (!quiet) {
        ars_setup_print_hamiltonian(&H, e0, method);
    }
    rc = ars_setup_check_operator(cfg, &H, quiet);
    if (rc != ARS_OK) {
        ars_ham_free(&H);
        return rc;
    }
    printf("%.12f\n", e0);
    ars_hilbert h;
    ars_hilbert_init(&h, cfg->size, cfg->two_s);
    ars_io_meta meta = {.config_text = config_text, .seed = cfg->seed, .exact_energy = NAN};
    rc = ars_output_keep_earlier(cfg, ctx);
    if (rc == ARS_OK) {
        rc = ars_io_write_exact(cfg->file, &meta, &h, &H, e0, method);
    }
    if (rc == ARS_OK && !quiet) {
        printf("wrote %s\n", cfg->file);
    }
    ars_ham_free(&H);
    return rc;
}
