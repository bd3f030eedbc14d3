# e2e_reproducible: results depend on the seed and the chunking only: the same run twice gives
# byte-identical /samples, and so do 1 and 2 threads (for /log_prob and /variables too).
include(${CMAKE_CURRENT_LIST_DIR}/e2e/common.cmake)

# 512 samples in 8 chunks of 64, so that two threads really share the work.
set(common ${QUICKSTART} --set sampler.n_samples=512 --set sampler.chunk_size=64 --quiet)

ars_run(r ${common} --set sampler.seed=7 --output a.h5)
ars_expect_rc(r 0 "first run, seed 7")
ars_run(r ${common} --set sampler.seed=7 --output b.h5)
ars_expect_rc(r 0 "second run, seed 7")
ars_h5same(${WORK}/a.h5 ${WORK}/b.h5 "the same seed twice" /samples /log_prob /variables)

ars_run(r ${common} --set sampler.seed=7 --threads 1 --output t1.h5)
ars_expect_rc(r 0 "--threads 1")
ars_run(r ${common} --set sampler.seed=7 --threads 2 --output t2.h5)
ars_expect_rc(r 0 "--threads 2")
ars_h5same(${WORK}/t1.h5 ${WORK}/t2.h5 "--threads 1 vs --threads 2" /samples /log_prob /variables)
ars_h5same(${WORK}/a.h5 ${WORK}/t1.h5 "the default thread count vs --threads 1" /samples /log_prob)

# The comparisons are not vacuous: another seed gives other samples and other variables.
ars_run(r ${common} --set sampler.seed=8 --output c.h5)
ars_expect_rc(r 0 "seed 8")
ars_h5differ(${WORK}/a.h5 ${WORK}/c.h5 "seeds 7 and 8" /samples)
ars_h5differ(${WORK}/a.h5 ${WORK}/c.h5 "seeds 7 and 8" /variables)
