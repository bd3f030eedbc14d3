# e2e_terms: [hamiltonian] type = terms from the config and from a terms_file.
#  - The Heisenberg preset written as its own terms (J X X, J Y Y, J Z Z) trains to the same
#    bits as the preset, and its exact energy is the preset's.
#  - Spin 1: the Heisenberg chain written with S+ S- and Sz Sz in a terms_file gives the
#    heisenberg preset's Lanczos energy for spin 1 (to 1e-10).
#  - /hamiltonian holds the expanded term list, which scripts/arsampler_io.py reads back: one
#    entry per instance, with absolute sites (wrapped with pbc).
#  - A bad line of a terms_file is refused with exit status 2 and its PATH:LINE.
include(${CMAKE_CURRENT_LIST_DIR}/e2e/common.cmake)

set(common "[system]
size = 8
total_sz = 0
[model]
layers = 2
features = 4
[sampler]
n_samples = 128
chunk_size = 32
seed = 5
[vmc]
iterations = 3
checkpoint_every = 3
final_samples = 256
")
file(WRITE ${WORK}/preset.ini "[run]
mode = train
${common}[hamiltonian]
type = heisenberg
J = 0.7
marshall_sign = true
")
file(WRITE ${WORK}/terms.ini "[run]
mode = train
${common}[hamiltonian]
type = terms
term = 0.7 X(i) X(i+1)
term = 0.7 Y(i) Y(i+1)
term = 0.7 Z(i) Z(i+1)
marshall_sign = true
")
ars_run(r preset.ini --quiet --output preset.h5)
ars_expect_rc(r 0 "the preset")
ars_run(r terms.ini --quiet --output terms.h5)
ars_expect_rc(r 0 "the preset as terms")
ars_h5same(${WORK}/preset.h5 ${WORK}/terms.h5 "preset and terms: same training" samples log_prob
           variables vmc/energy vmc/energy_variance hamiltonian/term_coupling hamiltonian/term_op
           hamiltonian/term_site)

# Exact energies: the preset as terms, and spin 1 from a terms_file.
file(WRITE ${WORK}/couplings.txt "# spin-1 Heisenberg: S.S = Sz Sz + (S+ S- + S- S+)/2
1.0 Sz(i) Sz(i+1)
0.5 S+(i) S-(i+1)   # exchange
0.5 S-(i) S+(i+1)

")
file(WRITE ${WORK}/spin1_terms.ini "[run]
mode = exact
[system]
size = 8
spin = 1
[hamiltonian]
type = terms
terms_file = couplings.txt
")
file(WRITE ${WORK}/spin1_preset.ini "[run]
mode = exact
[system]
size = 8
spin = 1
[hamiltonian]
type = heisenberg
")
ars_run(r spin1_terms.ini --output spin1_terms.h5)
ars_expect_rc(r 0 "spin 1 from a terms_file")
ars_expect_match("${r_out}" "operator: 3 terms, 24 on the chain, .*total S\\^z conserved"
                 "the operator as understood")
ars_expect_match("${r_out}" "\n  1 Sz\\(0\\) Sz\\(1\\)\n" "the first expanded term")
string(REGEX MATCH "\n(-[0-9.]+)\n" m "${r_out}")
set(e_terms ${CMAKE_MATCH_1})
ars_run(r spin1_preset.ini --quiet --output spin1_preset.h5)
ars_expect_rc(r 0 "the spin-1 preset")
string(REGEX MATCH "^(-[0-9.]+)\n" m "${r_out}")
set(e_preset ${CMAKE_MATCH_1})
execute_process(COMMAND ${PYTHON} -c "
import sys
sys.path.insert(0, '${SRC}/scripts')
import arsampler_io as io
a, b = float('${e_terms}'), float('${e_preset}')
assert abs(a - b) <= 1e-10 * abs(b), (a, b)
assert abs(b - -11.336956077) < 1e-8, b   # scipy eigsh of the Kronecker-product H (data/terms_ref.csv)
t = io.load('spin1_terms.h5').hamiltonian_terms
assert len(t) == 24, len(t)
assert t[0] == (1.0, [('Sz', 0), ('Sz', 1)]), t[0]
assert t[7] == (1.0, [('Sz', 7), ('Sz', 0)]), t[7]      # the wrap bond
assert t[8] == (0.5, [('S+', 0), ('S-', 1)]), t[8]
p = io.load('spin1_preset.h5').hamiltonian_terms
assert p[0] == (1.0, [('Sx', 0), ('Sx', 1)]) and len(p) == 24, p[:2]
cfg = io.load('terms.h5').config['hamiltonian']['term']
assert cfg == ['0.7 X(i) X(i+1)', '0.7 Y(i) Y(i+1)', '0.7 Z(i) Z(i+1)'], cfg
" WORKING_DIRECTORY ${WORK} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
    ars_fail("energies and term lists (${e_terms} vs ${e_preset}):\n${out}${err}")
endif()

# A bad line in the terms_file: its own PATH:LINE, exit status 2, no output.
file(WRITE ${WORK}/bad.txt "1.0 Sz(i) Sz(i+1)\n\n0.5 S+(i) S-(i+2 \n")
file(WRITE ${WORK}/bad.ini "[run]
mode = exact
[system]
size = 8
spin = 1
[hamiltonian]
type = terms
terms_file = bad.txt
")
ars_run(r bad.ini --output bad.h5)
ars_expect_rc(r 2 "a bad terms_file line")
ars_expect_one_line("${r_err}" "^bad\\.txt:3: term '0\\.5 S\\+\\(i\\) S-\\(i\\+2': the site of S- is not"
                    "the message names the terms_file's line")
if(EXISTS ${WORK}/bad.h5)
    ars_fail("a refused terms_file wrote bad.h5")
endif()
