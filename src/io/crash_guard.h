/*
 * crash_guard: HDF5 1.10 trusts some sizes recorded in a file, and a corrupt file can make it
 * crash. Between ars_crash_guard_begin and ars_crash_guard_end, a SIGSEGV or SIGBUS ends the
 * program with one message naming the file and the exit status of a bad input (2) instead of a
 * core dump (not under AddressSanitizer, which reports such reads itself). Its static state is
 * the io module's one piece of global state besides the signal flags.
 */
#ifndef ARS_IO_CRASH_GUARD_H
#define ARS_IO_CRASH_GUARD_H

/* Installs the handlers for a read of the input file `path`. */
void ars_crash_guard_begin(const char *path);

/* Restores the previous handlers; returns rc (so a reader's status passes through). */
int ars_crash_guard_end(int rc);

#endif
