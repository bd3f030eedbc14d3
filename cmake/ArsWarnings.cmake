# Warning flags for arsampler's own targets (never CMAKE_C_FLAGS, so dependencies are untouched).
function(ars_target_warnings target)
    target_compile_options(${target} PRIVATE
        -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wpointer-arith
        -Wcast-qual -Wdouble-promotion -Wmissing-prototypes -Wno-unused-function)
    if(ARS_WARNINGS_AS_ERRORS)
        target_compile_options(${target} PRIVATE -Werror)
    endif()
endfunction()
