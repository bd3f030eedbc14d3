# e2e_shipped_configs: every config in configs/ is valid as shipped, and small versions of them
# (fewer samples, a shorter chain) run and write a file that check_output.py accepts. They run
# from the repository's top folder, as the configs say (a terms_file is named from there); every
# output goes to WORK. (Under the sanitizers --print-config only: e2e_train and others run the
# same code there.)
include(${CMAKE_CURRENT_LIST_DIR}/e2e/common.cmake)

file(GLOB configs ${SRC}/configs/*.ini)
list(LENGTH configs n)
if(n EQUAL 0)
    ars_fail("no configs found in ${SRC}/configs")
endif()
foreach(cfg IN LISTS configs)
    get_filename_component(name ${cfg} NAME_WE)
    ars_run(p DIR ${SRC} ${cfg} --print-config)
    ars_expect_rc(p 0 "--print-config of configs/${name}.ini")
    if(SANITIZED)
        continue() # the small runs are the normal build's (CI time); e2e_train and others run
    endif()        # the same code under the sanitizers
    # Small: 64 samples of 40 sites; training configs run 2 iterations and 64 final samples.
    # init = random (and so no init_output_scale): a later stage of a ladder starts from an
    # earlier stage's output, which a fresh clone does not have (and whose chain length differs
    # here). A translation-symmetric config runs on 12 sites (|G| = L).
    set(size 40)
    file(STRINGS ${cfg} translation REGEX "^symmetrize *=.*translation")
    if(translation)
        set(size 12)
    endif()
    # A time evolution: two fixed steps and three measurements on 12 sites (it writes no
    # samples).
    file(STRINGS ${cfg} evolve REGEX "^mode *= *evolve")
    set(extra "")
    set(check --n-samples 64)
    if(evolve)
        set(size 12)
        set(extra --set evolve.t_end=0.02 --set evolve.dt=0.01 --set evolve.adaptive=false
            --set evolve.measure_every=0.01 --set evolve.measure_samples=64)
        set(check "")
    endif()
    ars_run(r DIR ${SRC} ${cfg} --set sampler.n_samples=64 --set system.size=${size}
            --set vmc.iterations=2 --set vmc.final_samples=64 --set model.init=random
            --set model.init_output_scale=1 ${extra}
            --output ${WORK}/${name}.h5 --quiet)
    ars_expect_rc(r 0 "a small run of configs/${name}.ini")
    if(evolve)
        list(APPEND evolve_outputs ${WORK}/${name}.h5)
    else()
        list(APPEND outputs ${WORK}/${name}.h5)
    endif()
endforeach()
# check_output.py takes the files in one start (it names the one it rejects).
foreach(group "outputs;--n-samples;64" "evolve_outputs")
    list(GET group 0 var)
    list(REMOVE_AT group 0)
    if(NOT ${var})
        continue()
    endif()
    execute_process(COMMAND ${PYTHON} ${SRC}/scripts/check_output.py ${${var}} ${group}
                    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
    if(NOT rc EQUAL 0)
        ars_fail("check_output.py rejected the output of a shipped config:\n${err}")
    endif()
endforeach()
message(STATUS "${n} shipped configs are valid and run")
