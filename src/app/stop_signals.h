/*
 * stop_signals: SIGINT and SIGTERM during training. The first signal asks the training loop to
 * stop after the current iteration (which then writes a checkpoint; the exit status is 128 +
 * the signal, 130 or 143, as a shell reports); a second signal exits at once, removing the
 * temporary file an output write may have left half-written.
 */
#ifndef ARS_APP_STOP_SIGNALS_H
#define ARS_APP_STOP_SIGNALS_H

/* Installs the handler for SIGINT and SIGTERM. `tmp_name` is the temporary file an output write
 * uses (ars_io_temporary_name), removed by a second signal; it is copied. */
void ars_stop_signals_catch(const char *tmp_name);

/* The signal that asked training to stop, 0 while none did. */
int ars_stop_signals_received(void);

#endif
