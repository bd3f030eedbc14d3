/*
 * atomic_file: output files that appear whole or not at all, and numbered backups (see
 * atomic_file.h). No HDF5 here.
 */
#include "io/atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/ars_common.h"

/* Creates the folders of `path` that are missing (like mkdir -p on its dirname). */
int ars_io_make_parent_dirs(const char *path) {
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    char *slash = strrchr(buf, '/');
    if (slash == NULL || slash == buf) {
        return 0;
    }
    *slash = '\0';
    for (char *p = buf + 1; *p != '\0'; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(buf, 0777) != 0 && errno != EEXIST) {
                return -1;
            }
            *p = '/';
        }
    }
    if (mkdir(buf, 0777) != 0 && errno != EEXIST) {
        return -1;
    }
    return 0;
}

void ars_io_folder_of(char *dir, size_t len, const char *path) {
    snprintf(dir, len, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash == NULL) {
        snprintf(dir, len, ".");
    } else if (slash == dir) {
        dir[1] = '\0';
    } else {
        *slash = '\0';
    }
}

int ars_io_check_writable(const char *path, const char *where) {
    char dir[4096];
    ars_io_folder_of(dir, sizeof dir, path);
    if (ars_io_make_parent_dirs(path) != 0) {
        return ARS_ERR(ARS_STATUS_ECONFIG, "%s: [output] file: cannot create the folder '%s': %s",
                       where, dir, strerror(errno));
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        return ARS_ERR(ARS_STATUS_ECONFIG, "%s: [output] file: '%s' is not a folder", where, dir);
    }
    if (access(dir, W_OK) != 0) {
        return ARS_ERR(ARS_STATUS_ECONFIG, "%s: [output] file: the folder '%s' is not writable: %s",
                       where, dir, strerror(errno));
    }
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        return ARS_ERR(ARS_STATUS_ECONFIG, "%s: [output] file: '%s' is a folder", where, path);
    }
    return ARS_OK;
}

int ars_io_backup(const char *path, char *backup, size_t len) {
    struct stat st;
    backup[0] = '\0';
    if (stat(path, &st) != 0) {
        return ARS_OK;
    }
    for (int k = 1; k < 1000000; k++) {
        snprintf(backup, len, "%s.~%d~", path, k);
        if (stat(backup, &st) != 0 && errno == ENOENT) {
            if (rename(path, backup) != 0) {
                int err = errno;
                char tried[4200];
                snprintf(tried, sizeof tried, "%s", backup);
                backup[0] = '\0';
                return ARS_ERR(ARS_STATUS_EIO, "cannot keep the existing '%s' as '%s': %s", path,
                               tried, strerror(err));
            }
            return ARS_OK;
        }
    }
    backup[0] = '\0';
    return ARS_ERR(ARS_STATUS_EIO, "cannot keep the existing '%s': too many backups beside it",
                   path);
}

void ars_io_temporary_name(char *buf, size_t len, const char *path) {
    snprintf(buf, len, "%s.tmp.%ld", path, (long)getpid());
}

/* Writes n bytes to a new file `name`, flushed to disk. Returns 0 or an errno value. */
static int write_whole_file(const char *name, const unsigned char *buf, size_t n) {
    int fd = open(name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) {
        return errno;
    }
    int err = 0;
    size_t done = 0;
    while (done < n && err == 0) {
        ssize_t k = write(fd, buf + done, n - done);
        if (k > 0) {
            done += (size_t)k;
        } else if (k == 0) {
            err = EIO;
        } else if (errno != EINTR) {
            err = errno;
        }
    }
    if (err == 0 && fsync(fd) != 0 && errno != EINVAL && errno != EROFS) {
        err = errno;
    }
    if (close(fd) != 0 && err == 0 && errno != EINTR) {
        err = errno;
    }
    return err;
}

/* Flushes the folder of `path`, so that a rename in it survives a crash (best effort). */
static void sync_folder(const char *path) {
    char dir[4200];
    ars_io_folder_of(dir, sizeof dir, path);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

int ars_io_commit_file(const char *tmp, const char *path, const unsigned char *buf, size_t n) {
    int err = write_whole_file(tmp, buf, n);
    if (err == 0 && rename(tmp, path) != 0) {
        err = errno;
    }
    if (err != 0) {
        unlink(tmp);
    } else {
        sync_folder(path);
    }
    return err;
}
