# e2e_numerics: a training whose state becomes non-finite stops with a message naming the
# iteration and the usual fixes, exit status 1, and keeps its last good checkpoint; sampling
# such variables fails cleanly. The bad state is made by scaling a checkpoint's kernels by
# 1e200 (each weight finite, so loading accepts it; the products overflow).
include(${CMAKE_CURRENT_LIST_DIR}/e2e/common.cmake)

file(WRITE ${WORK}/train.ini "[run]
mode = train
[system]
size = 6
[model]
layers = 2
features = 4
kernel_dilation = 1, 2
activation = identity
[sampler]
n_samples = 64
chunk_size = 32
seed = 1
[hamiltonian]
type = tfim
[vmc]
iterations = 3
optimizer = sgd
learning_rate = 0.01
checkpoint_every = 1
")
ars_run(r train.ini --quiet --output good.h5)
ars_expect_rc(r 0 "3 good iterations")
execute_process(COMMAND ${PYTHON} -c "
import h5py, shutil
shutil.copy('good.h5', 'bad.h5')
with h5py.File('bad.h5', 'r+') as f:
    for name in ('layers_0', 'layers_1'):
        k = f['variables/params/' + name + '/kernel']
        k[...] = k[()] * 1e200
" WORKING_DIRECTORY ${WORK} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
    ars_fail("could not make bad.h5")
endif()
file(SHA256 ${WORK}/bad.h5 before)

# --resume of the extreme state: iteration 3 fails; the file keeps its 3 iterations.
ars_run(r train.ini --quiet --output bad.h5 --resume --set vmc.iterations=6)
ars_expect_rc(r 1 "--resume of a state whose products overflow")
ars_expect_match("${r_err}" "arsampler: error: the network produced [0-9]+ non-finite conditional probabilities while sampling" "the cause")
ars_expect_match("${r_err}" "training stopped at iteration 3 \\(see above\\); the last good state \\(3 iterations done\\) is in bad\\.h5: continue it with --resume and other settings \\(a smaller \\[vmc\\] learning_rate, a larger diag_shift\\)" "the stop message")
ars_expect_no_match("${r_err}" "HDF5-DIAG|nan|NaN" "no raw error stack or NaN in the message")
execute_process(COMMAND ${PYTHON} -c "
import h5py, numpy as np
with h5py.File('bad.h5', 'r') as f:
    assert int(f['vmc'].attrs['iterations_done']) == 3, f['vmc'].attrs['iterations_done']
    assert np.isfinite(f['vmc/energy'][()]).all()
print('OK')" WORKING_DIRECTORY ${WORK} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT out MATCHES "^OK")
    ars_fail("the checkpoint after the stop: ${out}${err}")
endif()
file(GLOB left ${WORK}/bad.h5.tmp.*)
if(left)
    ars_fail("a temporary file was left: ${left}")
endif()

# Sampling from the same variables: one clear error, exit status 1, nothing written.
ars_run(r ${QUICKSTART} --quiet --set system.size=6 --set model.layers=2 --set model.features=4
        --set model.kernel_size=3 --set model.kernel_dilation=1,2 --set model.activation=identity
        --set model.init=bad.h5
        --output s.h5)
ars_expect_rc(r 1 "sampling the extreme state")
ars_expect_one_line("${r_err}" "^arsampler: error: the network produced [0-9]+ non-finite conditional probabilities while sampling" "sampling the extreme state")
if(EXISTS ${WORK}/s.h5)
    ars_fail("a failed sampling run wrote s.h5")
endif()
