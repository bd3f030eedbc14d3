# e2e_print_config: --print-config prints the effective configuration, which parses back to
# itself, creates nothing, and is what the output file records in its `config` attribute.
include(${CMAKE_CURRENT_LIST_DIR}/e2e/common.cmake)

# Non-trivial overrides on top of the quick start.
set(overrides --set system.spin=1.5 --set system.size=11 --set model.layers=4
    --set "model.features=12, 8, 8, 4" --set model.feature_group_count=4
    --set model.kernel_dilation=1,2,4,8 --set model.activation=tanh --set model.use_bias=no
    --set model.input=onehot --set sampler.seed=18446744073709551615 --set sampler.n_samples=100
    --set sampler.chunk_size=33 --threads 2)

ars_run(p1 ${QUICKSTART} ${overrides} --print-config)
ars_expect_rc(p1 0 "--print-config with overrides")
foreach(line "spin = 1\\.5" "features = 12, 8, 8, 4" "kernel_dilation = 1, 2, 4, 8"
        "use_bias = false" "seed = 18446744073709551615" "threads = 2"
        "file = out/quickstart\\.h5")
    ars_expect_match("${p1_out}" "\n${line}\n" "--print-config shows ${line}")
endforeach()
file(WRITE ${WORK}/tmp.ini "${p1_out}")
ars_run(p2 tmp.ini --print-config)
ars_expect_rc(p2 0 "--print-config of the printed config")
if(NOT p1_out STREQUAL p2_out)
    ars_fail("--print-config does not round-trip:\n${p1_out}\nvs\n${p2_out}")
endif()

# The same for a config whose output name is derived from the config name.
file(WRITE ${WORK}/derived.ini "[system]\nsize = 9\n")
ars_run(d1 derived.ini --print-config)
ars_expect_rc(d1 0 "--print-config, derived output")
ars_expect_match("${d1_out}" "\nfile = out/derived\\.h5\n" "derived output file")
file(WRITE ${WORK}/derived2.ini "${d1_out}")
ars_run(d2 derived2.ini --print-config)
if(NOT d1_out STREQUAL d2_out)
    ars_fail("--print-config does not round-trip:\n${d1_out}\nvs\n${d2_out}")
endif()

# Nothing was written: no out/ folder.
if(EXISTS ${WORK}/out)
    ars_fail("--print-config created ${WORK}/out")
endif()

# The output file records exactly the effective configuration.
ars_run(r ${QUICKSTART} ${overrides} --output run.h5 --quiet)
ars_expect_rc(r 0 "running with the overrides")
ars_run(p3 ${QUICKSTART} ${overrides} --output run.h5 --print-config)
execute_process(COMMAND ${PYTHON} -c
                "import sys, h5py; v = h5py.File(sys.argv[1], 'r').attrs['config']; sys.stdout.write(v.decode() if isinstance(v, bytes) else str(v))"
                ${WORK}/run.h5
                RESULT_VARIABLE rc OUTPUT_VARIABLE recorded ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
    ars_fail("reading the config attribute of run.h5: ${err}")
endif()
if(NOT recorded STREQUAL p3_out)
    ars_fail("the config attribute differs from --print-config:\n${recorded}\nvs\n${p3_out}")
endif()
