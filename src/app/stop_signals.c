/*
 * stop_signals: the handler of SIGINT and SIGTERM (see stop_signals.h). It does only what is
 * async-signal-safe: it records the signal, writes one note with write(2), and on a second
 * signal unlinks the temporary file and calls _exit.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "app/stop_signals.h"
#include "config/config.h"

/* The program's only mutable globals, because a signal handler can reach nothing else: the
 * signal that asked training to stop (0 while none did), and the name of the temporary file an
 * output write uses ("" if none). Both are set before the handler is installed and read by it;
 * stop_signal is also written by it. */
static volatile sig_atomic_t stop_signal = 0;
static char stop_tmp_name[ARS_PATH_MAX + 32];

static void on_stop_signal(int sig) {
    if (stop_signal != 0) {
        /* The second signal: at once, without leaving a half-written temporary file (unlink is
         * async-signal-safe; the output file itself is only ever replaced whole). */
        if (stop_tmp_name[0] != '\0') {
            unlink(stop_tmp_name);
        }
        _exit(128 + sig);
    }
    stop_signal = sig;
    static const char msg[] = "\narsampler: signal received: finishing the current iteration "
                              "(or time step) and writing a checkpoint (a second signal exits "
                              "at once)\n";
    ssize_t w = write(STDERR_FILENO, msg, sizeof msg - 1);
    (void)w;
}

void ars_stop_signals_catch(const char *tmp_name) {
    snprintf(stop_tmp_name, sizeof stop_tmp_name, "%s", tmp_name);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

int ars_stop_signals_received(void) {
    return stop_signal;
}
