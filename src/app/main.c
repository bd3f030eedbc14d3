/*
 * arsampler: the command-line entry point. Maps argv to an exit status (0 success, 2 invalid
 * config/arguments/input file, 1 other failures, 130/143 when SIGINT/SIGTERM stopped training);
 * the program itself is src/app/run.c and the files beside it, in the library arsampler_core.
 *
 *   arsampler CONFIG [--set section.key=value]... [--threads N] [--output FILE] [--quiet]
 *             [--resume] [--force]
 *   arsampler --version | --help | --print-config [CONFIG ...] | --keys
 */
#include "app/run.h"
#include "core/comm.h"

int main(int argc, char **argv) {
    ars_comm comm;
    int code = ars_comm_init(&comm, &argc, &argv) == 0 ? ars_run_main(&comm, argc, argv) : 1;
    ars_comm_finalize(&comm);
    return code;
}
