/*
 * comm: the processes of a run. Without -DARSAMPLER_MPI=ON there is one (rank 0 of 1) and every
 * function is a no-op; with it, the ranks of MPI_COMM_WORLD.
 *
 * Work is divided by chunks: the n samples of a batch are cut into chunks of chunk_size whose
 * random streams derive from (seed, iteration, global chunk index), and rank r of P takes the
 * contiguous chunks [floor(C r / P), floor(C (r+1) / P)) of the C chunks. After a distributed
 * phase every rank gathers the whole result (samples, local energies, gradient columns), and
 * everything after it (means, SR, the update) runs on the same data in the same order on every
 * rank, exactly as in one process. So samples and trained variables are bitwise the same for
 * any number of ranks and threads.
 *
 * Only rank 0 reads and writes files; what it reads is broadcast.
 */
#ifndef ARS_COMM_H
#define ARS_COMM_H

#include <stddef.h>

typedef struct ars_comm {
    int rank; /* 0 .. size-1 */
    int size;
    /* (size) each: the counts and offsets of the gathers, allocated once by ars_comm_init so
     * that no collective allocates (and none can fail alone on one rank); NULL for size 1. */
    int *counts, *displs;
} ars_comm;

/* Starts MPI (threads: funneled; OpenMP runs inside each rank). Without MPI: rank 0 of 1.
 * Returns ARS_OK, or ARS_STATUS_ENOMEM with a message (then call ars_comm_finalize and stop). */
int ars_comm_init(ars_comm *c, int *argc, char ***argv);
void ars_comm_finalize(ars_comm *c);

/* Whether this build has MPI. */
int ars_comm_has_mpi(void);

/* This rank's chunks [*c0, *c1) of n_chunks. */
void ars_comm_chunks(const ars_comm *c, size_t n_chunks, size_t *c0, size_t *c1);

/* Every rank's rows of buf (n rows of row_bytes; rank r holds the rows of its chunks of
 * chunk_size rows) gathered into every rank's buf. */
void ars_comm_allgather_rows(const ars_comm *c, void *buf, size_t n, size_t chunk_size,
                             size_t row_bytes);

/* The same for the columns of a (rows, n) row-major double matrix (one column per sample);
 * scratch holds rows * n doubles. */
void ars_comm_allgather_columns(const ars_comm *c, double *m, size_t rows, size_t n,
                                size_t chunk_size, double *scratch);

/* Every rank's `counts[r]` doubles (rank r's from its `mine`) concatenated in rank order into
 * every rank's `all`. */
void ars_comm_allgatherv_doubles(const ars_comm *c, const double *mine, double *all,
                                 const size_t *counts);

/* Sum of an int over the ranks (on every rank). */
int ars_comm_sum_int(const ars_comm *c, int v);

/* Largest of an int over the ranks: lets every rank agree on a failure. */
int ars_comm_max_int(const ars_comm *c, int v);

/* Largest of a double over the ranks (on every rank). */
double ars_comm_max_double(const ars_comm *c, double v);
/* How many ranks share this rank's machine, and so its memory (MPI_COMM_TYPE_SHARED); 1 without
 * MPI. A collective. */
int ars_comm_node_size(const ars_comm *c);
/* Broadcasts bytes from rank 0. */
void ars_comm_bcast(const ars_comm *c, void *buf, size_t bytes);

/* Ends every rank at once with `code` (after the caller printed why): a rank that fails alone
 * must not leave the others waiting in a collective. Returns only without MPI. */
void ars_comm_abort(const ars_comm *c, int code);

#endif
