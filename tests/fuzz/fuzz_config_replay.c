/*
 * fuzz_config_replay: runs the config fuzz check (config_check.h) on saved inputs, without
 * libFuzzer, so that every input the fuzzer ever found keeps being checked in every build.
 *
 *     fuzz_config_replay PATH...
 *
 * Each PATH is a file, or a folder whose files (not those starting with '.' or "README") are
 * replayed in name order. Exit status 0 when every input passes; an input that breaks a property
 * aborts with a message naming it. The ctest fuzz_config_replay runs tests/fuzz/regressions/, the
 * seeds in tests/fuzz/corpus/, configs/ and tests/configs/.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config_check.h"

static const char *current;

static int replay_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        perror(path);
        return -1;
    }
    size_t cap = 4096, n = 0;
    uint8_t *data = malloc(cap);
    for (;;) {
        if (data == NULL) {
            fclose(f);
            fprintf(stderr, "fuzz_config_replay: out of memory reading %s\n", path);
            return -1;
        }
        n += fread(data + n, 1, cap - n, f);
        if (n < cap) {
            break;
        }
        uint8_t *bigger = realloc(data, 2 * cap);
        if (bigger == NULL) {
            free(data);
        }
        data = bigger;
        cap *= 2;
    }
    int err = ferror(f);
    fclose(f);
    if (err) {
        free(data);
        fprintf(stderr, "fuzz_config_replay: cannot read %s\n", path);
        return -1;
    }
    current = path;
    ars_fuzz_config_check(data, n);
    current = NULL;
    free(data);
    return 0;
}

static int compare_names(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Replays the files of a folder in name order; returns the number replayed, or -1. */
static int replay_folder(const char *dir) {
    DIR *d = opendir(dir);
    if (d == NULL) {
        perror(dir);
        return -1;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || strncmp(e->d_name, "README", 6) == 0) {
            continue;
        }
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            char **bigger = realloc(names, cap * sizeof *names);
            if (bigger == NULL) {
                break;
            }
            names = bigger;
        }
        names[n] = strdup(e->d_name);
        if (names[n] != NULL) {
            n++;
        }
    }
    closedir(d);
    if (n > 1) {
        qsort(names, n, sizeof *names, compare_names);
    }
    int count = 0;
    for (size_t i = 0; i < n; i++) {
        char path[8192];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
            if (replay_file(path) != 0) {
                count = -1;
            } else if (count >= 0) {
                count++;
            }
        }
        free(names[i]);
    }
    free(names);
    return count;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: fuzz_config_replay PATH... (files or folders of inputs)\n");
        return 2;
    }
    if (ars_fuzz_config_init() != 0) {
        return 1;
    }
    ars_fuzz_config_report_aborts(&current);
    int total = 0, failed = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        int n;
        if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
            n = replay_folder(argv[i]);
        } else {
            n = replay_file(argv[i]) == 0 ? 1 : -1;
        }
        if (n < 0) {
            failed = 1;
        } else {
            printf("%s: %d inputs\n", argv[i], n);
            total += n;
        }
    }
    printf("fuzz_config_replay: %d inputs replayed, every property holds\n", total);
    return failed;
}
