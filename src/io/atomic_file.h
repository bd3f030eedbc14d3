/*
 * atomic_file: output files that appear whole or not at all, and the backup policy. A file is
 * written to "<path>.tmp.<pid>" in the same folder, flushed and renamed into place only when
 * complete, so an interrupted run or a full disk never leaves a half-written file where a good
 * one was (the temporary file is removed on failure). No HDF5 here.
 */
#ifndef ARS_IO_ATOMIC_FILE_H
#define ARS_IO_ATOMIC_FILE_H

#include <stddef.h>

/* Checks that a file can be created at `path` (its folder exists or can be made, and is
 * writable), so a typo fails before any work. ARS_STATUS_ECONFIG with a message otherwise,
 * prefixed with `where` (where the path was set: "FILE:LINE", see ars_config_where). */
int ars_io_check_writable(const char *path, const char *where);

/* The temporary name a write of `path` uses before its rename: "<path>.tmp.<pid>" (so that a
 * signal handler can remove it). */
void ars_io_temporary_name(char *buf, size_t len, const char *path);

/* Keeps an existing file at `path` as a numbered backup beside it, as GNU cp --backup=numbered
 * and GROMACS do: renames it to the first free "<path>.~N~" (N = 1, 2, ...) and writes that
 * name into `backup` (len bytes); writes "" and does nothing when there is no file. Returns
 * ARS_OK, or ARS_STATUS_EIO with a message if the rename fails. */
int ars_io_backup(const char *path, char *backup, size_t len);

/* The folder part of path into dir (len bytes): "." without a slash, "/" for a file at the
 * root. */
void ars_io_folder_of(char *dir, size_t len, const char *path);

/* Creates the folders of `path` that are missing (like mkdir -p on its dirname); 0 or -1 (errno
 * set). */
int ars_io_make_parent_dirs(const char *path);

/* Commits a finished file held in memory: writes the n bytes of buf to `tmp` (the temporary
 * name of `path`), flushes it, renames it to `path` and flushes the folder (best effort). On
 * failure removes `tmp` and leaves `path` as it was. Returns 0 or an errno value; no message. */
int ars_io_commit_file(const char *tmp, const char *path, const unsigned char *buf, size_t n);

#endif
