/*
 * agree: muting the ranks other than 0 and agreeing on failures (see agree.h).
 */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "app/agree.h"
#include "core/ars_common.h"

int ars_agree_mute(const ars_comm *c) {
    if (c->rank == 0) {
        return -1;
    }
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    int nul = open("/dev/null", O_WRONLY);
    if (saved < 0 || nul < 0) {
        if (nul >= 0) {
            close(nul);
        }
        return saved >= 0 ? (close(saved), -1) : -1;
    }
    dup2(nul, STDERR_FILENO);
    close(nul);
    return saved;
}

void ars_agree_unmute(int saved) {
    if (saved >= 0) {
        fflush(stderr);
        dup2(saved, STDERR_FILENO);
        close(saved);
    }
}

int ars_agree(const ars_comm *c, int rc, const char *what) {
    /* The smallest failed rank r gives the largest size - r. */
    const int first = c->size - ars_comm_max_int(c, rc != ARS_OK ? c->size - c->rank : 0);
    if (first >= c->size) {
        return ARS_OK;
    }
    if (rc != ARS_OK) {
        return rc;
    }
    if (c->rank == 0) {
        return ARS_ERR(ARS_STATUS_ENOMEM, "rank %d of %d ran out of memory for %s", first, c->size,
                       what);
    }
    return ARS_STATUS_ENOMEM;
}
