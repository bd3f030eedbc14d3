/*
 * comm: MPI ranks, or one process; see comm.h.
 */
#include "core/comm.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/ars_common.h"

#ifdef ARS_MPI
#include <mpi.h>
#endif

int ars_comm_has_mpi(void) {
#ifdef ARS_MPI
    return 1;
#else
    return 0;
#endif
}

int ars_comm_init(ars_comm *c, int *argc, char ***argv) {
    c->rank = 0;
    c->size = 1;
    c->counts = NULL;
    c->displs = NULL;
#ifdef ARS_MPI
    int provided = 0;
    MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &c->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &c->size);
    /* Errors end the job (MPI's default handler): a rank never waits on a dead one. */
    if (c->size > 1) {
        c->counts = malloc((size_t)c->size * sizeof *c->counts);
        c->displs = malloc((size_t)c->size * sizeof *c->displs);
        if (c->counts == NULL || c->displs == NULL) {
            return ARS_ERR(ARS_STATUS_ENOMEM, "out of memory starting %d MPI ranks", c->size);
        }
    }
#else
    (void)argc;
    (void)argv;
#endif
    return ARS_OK;
}

void ars_comm_finalize(ars_comm *c) {
#ifdef ARS_MPI
    MPI_Finalize();
#endif
    free(c->counts);
    free(c->displs);
    c->counts = NULL;
    c->displs = NULL;
}

void ars_comm_chunks(const ars_comm *c, size_t n_chunks, size_t *c0, size_t *c1) {
    *c0 = (size_t)((uint64_t)n_chunks * (uint64_t)c->rank / (uint64_t)c->size);
    *c1 = (size_t)((uint64_t)n_chunks * (uint64_t)(c->rank + 1) / (uint64_t)c->size);
}

#ifdef ARS_MPI
/* Rows [first, end) of rank r for n rows in chunks of chunk_size. */
static void rank_rows(const ars_comm *c, int r, size_t n, size_t chunk_size, size_t *first,
                      size_t *end) {
    ars_comm other = {.rank = r, .size = c->size};
    size_t c0, c1;
    ars_comm_chunks(&other, (n + chunk_size - 1) / chunk_size, &c0, &c1);
    *first = c0 * chunk_size < n ? c0 * chunk_size : n;
    *end = c1 * chunk_size < n ? c1 * chunk_size : n;
}

/* Allgatherv of `unit`-sized items, rank r's items at [first_r, end_r) of buf. */
static void allgather_items(const ars_comm *c, void *buf, size_t n, size_t chunk_size,
                            MPI_Datatype unit) {
    int *counts = c->counts, *displs = c->displs;
    for (int r = 0; r < c->size; r++) {
        size_t f, e;
        rank_rows(c, r, n, chunk_size, &f, &e);
        ARS_ASSERT(e <= (size_t)INT32_MAX, "too many rows for MPI (%zu)", e);
        counts[r] = (int)(e - f);
        displs[r] = (int)f;
    }
    MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, buf, counts, displs, unit, MPI_COMM_WORLD);
}
#endif

void ars_comm_allgather_rows(const ars_comm *c, void *buf, size_t n, size_t chunk_size,
                             size_t row_bytes) {
    if (c->size == 1 || n == 0) {
        return;
    }
#ifdef ARS_MPI
    MPI_Datatype row;
    ARS_ASSERT(row_bytes <= (size_t)INT32_MAX, "row of %zu bytes", row_bytes);
    MPI_Type_contiguous((int)row_bytes, MPI_BYTE, &row);
    MPI_Type_commit(&row);
    allgather_items(c, buf, n, chunk_size, row);
    MPI_Type_free(&row);
#else
    (void)buf;
    (void)chunk_size;
    (void)row_bytes;
#endif
}

void ars_comm_allgather_columns(const ars_comm *c, double *m, size_t rows, size_t n,
                                size_t chunk_size, double *scratch) {
    if (c->size == 1 || n == 0 || rows == 0) {
        return;
    }
#ifdef ARS_MPI
    /* Transposed, a column is a contiguous row: gather rows of the transpose. */
    size_t f, e;
    rank_rows(c, c->rank, n, chunk_size, &f, &e);
    for (size_t b = f; b < e; b++) {
        for (size_t k = 0; k < rows; k++) {
            scratch[b * rows + k] = m[k * n + b];
        }
    }
    ars_comm_allgather_rows(c, scratch, n, chunk_size, rows * sizeof(double));
    for (size_t k = 0; k < rows; k++) {
        for (size_t b = 0; b < n; b++) {
            m[k * n + b] = scratch[b * rows + k];
        }
    }
#else
    (void)m;
    (void)chunk_size;
    (void)scratch;
#endif
}

void ars_comm_allgatherv_doubles(const ars_comm *c, const double *mine, double *all,
                                 const size_t *counts) {
    if (c->size == 1) {
        if (all != mine) {
            memcpy(all, mine, counts[0] * sizeof(double));
        }
        return;
    }
#ifdef ARS_MPI
    int *cnt = c->counts, *displs = c->displs;
    size_t off = 0;
    for (int r = 0; r < c->size; r++) {
        ARS_ASSERT(off + counts[r] <= (size_t)INT32_MAX, "%zu doubles exceed MPI's int counts",
                   off + counts[r]);
        cnt[r] = (int)counts[r];
        displs[r] = (int)off;
        off += counts[r];
    }
    MPI_Allgatherv(mine, cnt[c->rank], MPI_DOUBLE, all, cnt, displs, MPI_DOUBLE, MPI_COMM_WORLD);
#else
    (void)mine;
    (void)all;
#endif
}

/* One value, reduced in place over the ranks (without MPI, or for one rank: as it is). */
#ifdef ARS_MPI
#define COMM_REDUCE(c, v, type, op)                                                                \
    do {                                                                                           \
        if ((c)->size > 1) {                                                                       \
            MPI_Allreduce(MPI_IN_PLACE, &(v), 1, (type), (op), MPI_COMM_WORLD);                    \
        }                                                                                          \
    } while (0)
#else
#define COMM_REDUCE(c, v, type, op) (void)(c)
#endif

int ars_comm_sum_int(const ars_comm *c, int v) {
    COMM_REDUCE(c, v, MPI_INT, MPI_SUM);
    return v;
}

int ars_comm_max_int(const ars_comm *c, int v) {
    COMM_REDUCE(c, v, MPI_INT, MPI_MAX);
    return v;
}

double ars_comm_max_double(const ars_comm *c, double v) {
    COMM_REDUCE(c, v, MPI_DOUBLE, MPI_MAX);
    return v;
}

int ars_comm_node_size(const ars_comm *c) {
#ifdef ARS_MPI
    if (c->size > 1) {
        MPI_Comm node;
        int n = 1;
        if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, c->rank, MPI_INFO_NULL,
                                &node) == MPI_SUCCESS) {
            MPI_Comm_size(node, &n);
            MPI_Comm_free(&node);
        }
        return n;
    }
#endif
    (void)c;
    return 1;
}

void ars_comm_bcast(const ars_comm *c, void *buf, size_t bytes) {
#ifdef ARS_MPI
    if (c->size > 1) {
        char *p = buf;
        const size_t piece = (size_t)1 << 30;
        for (size_t off = 0; off < bytes; off += piece) {
            const size_t len = bytes - off < piece ? bytes - off : piece;
            MPI_Bcast(p + off, (int)len, MPI_BYTE, 0, MPI_COMM_WORLD);
        }
    }
#else
    (void)buf;
    (void)bytes;
#endif
    (void)c;
}

void ars_comm_abort(const ars_comm *c, int code) {
#ifdef ARS_MPI
    if (c->size > 1) {
        MPI_Abort(MPI_COMM_WORLD, code);
    }
#endif
    (void)c;
    (void)code;
}
