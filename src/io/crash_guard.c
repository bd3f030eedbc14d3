/*
 * crash_guard: a crash inside HDF5 while an input file is read ends the program with one message
 * (see crash_guard.h).
 */
#include "io/crash_guard.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/ars_common.h"

#if defined(__SANITIZE_ADDRESS__)
#define ARS_CRASH_GUARD 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ARS_CRASH_GUARD 0
#endif
#endif
#ifndef ARS_CRASH_GUARD
#define ARS_CRASH_GUARD 1
#endif

/* The guard's state: the io module's one piece of global state besides the signal flags (of
 * app/stop_signals.c). It is set by ars_crash_guard_begin before a read and only read by the
 * handler; reads happen on one thread, one file at a time. */
#if ARS_CRASH_GUARD
static char crash_message[4600];
static size_t crash_length;
static int crash_status;
static struct sigaction crash_old_segv, crash_old_bus;

static void crash_handler(int sig) {
    (void)sig;
    ssize_t written = write(STDERR_FILENO, crash_message, crash_length);
    (void)written;
    _exit(crash_status);
}
#endif

void ars_crash_guard_begin(const char *path) {
#if ARS_CRASH_GUARD
    int k = snprintf(crash_message, sizeof crash_message,
                     "arsampler: error: '%s' is corrupt: the HDF5 library crashed reading it (a "
                     "damaged internal size or address); the file cannot be used\n",
                     path);
    crash_length = k < 0                              ? 0
                   : (size_t)k < sizeof crash_message ? (size_t)k
                                                      : sizeof crash_message - 1;
    crash_status = ars_exit_code(ARS_STATUS_EINPUT);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = crash_handler;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, &crash_old_segv);
    sigaction(SIGBUS, &sa, &crash_old_bus);
#else
    (void)path;
#endif
}

int ars_crash_guard_end(int rc) {
#if ARS_CRASH_GUARD
    sigaction(SIGSEGV, &crash_old_segv, NULL);
    sigaction(SIGBUS, &crash_old_bus, NULL);
#endif
    return rc;
}
