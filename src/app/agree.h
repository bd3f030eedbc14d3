/*
 * agree: how the ranks of an MPI run (mpirun -np P arsampler ...) end together and speak once.
 *
 * Every rank runs the same program on the same config. Rank 0 alone speaks: the other ranks
 * send stdout to /dev/null and, while they run the steps every rank runs alike, stderr too
 * (ars_agree_mute), since rank 0's messages speak for them. A failure of one rank alone (out of
 * memory) must not leave the others waiting in the next collective: before it, every rank
 * agrees on the outcome (ars_agree), and rank 0 names the rank that failed. Without MPI there
 * is one rank and all of this does nothing.
 */
#ifndef ARS_APP_AGREE_H
#define ARS_APP_AGREE_H

#include "core/comm.h"

/* On ranks other than 0, sends stderr to /dev/null, so that each message appears once. Returns
 * the saved descriptor for ars_agree_unmute (-1 on rank 0, and when muting failed). */
int ars_agree_mute(const ars_comm *c);

/* Undoes ars_agree_mute (nothing for -1). */
void ars_agree_unmute(int saved);

/* Makes every rank agree on a failure of one of them before the next collective (a rank that
 * failed alone must not leave the others waiting): returns this rank's rc if it failed, else
 * ARS_STATUS_ENOMEM when another rank failed, else ARS_OK. Rank 0 names the first rank that
 * failed when it is another (whose own message is muted): "rank R of P ran out of memory for
 * <what>". A collective: every rank calls it. */
int ars_agree(const ars_comm *c, int rc, const char *what);

#endif
