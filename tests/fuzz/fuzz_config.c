/*
 * fuzz_config: the libFuzzer target of the config parser and validator (cmake -DARS_FUZZ=ON with
 * CC=clang; scripts/fuzz builds and runs it). The input format and the properties checked are in
 * config_check.h; fuzz_config_replay.c runs the same check on saved inputs in every build.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "config_check.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    if (ars_fuzz_config_init() != 0) {
        abort();
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    ars_fuzz_config_check(data, size);
    return 0;
}
