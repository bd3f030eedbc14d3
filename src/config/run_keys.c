/*
 * run_keys: the [run] and [output] keys, and the derived default of [output] file.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "config/config_key.h"

const char *const ars_run_mode_names[] = {"sample", "train", "exact", "evolve", NULL};
_Static_assert(sizeof ars_run_mode_names / sizeof ars_run_mode_names[0] == ARS_MODE_EVOLVE + 2,
               "one [run] mode name per ars_mode");

const ars_config_key ars_run_keys[ARS_RUN_NKEYS] = {
    {.section = "run",
     .key = "mode",
     .type = ARS_KEY_ENUM,
     .offset = ARS_CONFIG_OFF(mode),
     .names = ars_run_mode_names,
     .def = "sample",
     .help = "sample: draw exact samples; train: variational Monte Carlo towards the ground state "
             "of [hamiltonian]; exact: the exact ground-state energy of [hamiltonian] (free "
             "fermions or Lanczos); evolve: time evolution of the state by TDVP ([evolve])"},
    {.section = "run",
     .key = "threads",
     .type = ARS_KEY_INT,
     .offset = ARS_CONFIG_OFF(threads),
     .min = 0,
     .max = 4096,
     .def = "0",
     .help = "OpenMP threads; 0 = OMP_NUM_THREADS or all cores (results do not depend on it)"},
};

const ars_config_key ars_output_keys[ARS_OUTPUT_NKEYS] = {
    {.section = "output",
     .key = "file",
     .type = ARS_KEY_STRING,
     .offset = ARS_CONFIG_OFF(file),
     .def = "",
     .help = "output HDF5 file; default out/<config file name without .ini>.h5",
     .may_be_empty = 1},
};

void ars_output_config_derive(ars_config *c) {
    /* Default output: out/<config file name without directory and .ini>.h5 */
    if (c->file[0] != '\0') {
        return;
    }
    const char *base = strrchr(c->source, '/');
    base = base != NULL ? base + 1 : c->source;
    char stem[256];
    snprintf(stem, sizeof stem, "%.200s", base);
    char *dot = strrchr(stem, '.');
    if (dot != NULL && dot != stem) {
        *dot = '\0';
    }
    if (stem[0] == '\0' || stem[0] == '(' || stem[0] == '.') {
        snprintf(stem, sizeof stem, "arsampler");
    }
    /* The file name must be a valid [output] file value, or the dump (which arsampler stores in
     * the output and --print-config shows) would not parse back to this config: control
     * characters, and ';' or '#' after white space (a comment), become '_'. */
    for (char *p = stem; *p != '\0'; p++) {
        const unsigned char ch = (unsigned char)*p;
        if (ch < 0x20 || ch == 0x7f ||
            ((ch == ';' || ch == '#') && p > stem && isspace((unsigned char)p[-1]))) {
            *p = '_';
        }
    }
    snprintf(c->file, sizeof c->file, "out/%.200s.h5", stem);
}
