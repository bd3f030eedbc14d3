#!/usr/bin/env bash
# The body of e2e_interrupt (see tests/e2e_interrupt.cmake): signals, killed jobs and backups.
# Usage: interrupt.sh ARSAMPLER WORK SRC [ITERATIONS [SLOW_SAMPLES]]
# The defaults (150 training iterations, 8192 samples per iteration of the slow run) make the
# runs long enough to interrupt in a Release build (the signals land after 10-30 iterations);
# sanitized builds, 10-20 times slower per iteration, pass less so that the same points are
# tested in about the same time.
set -u
ARS=$1
WORK=$2
SRC=$3
ITS=${4:-150}
SLOW_SAMPLES=${5:-8192}
H5SAME="/usr/bin/python3 $SRC/tests/e2e/h5same.py"
cd "$WORK" || exit 1

fail() {
    echo "e2e_interrupt: $*" >&2
    exit 1
}

cat > train.ini <<INI
[run]
mode = train
[system]
size = 10
[model]
layers = 3
features = 8
kernel_dilation = 1, 2, 4
activation = tanh
[sampler]
n_samples = 256
chunk_size = 128
seed = 11
[hamiltonian]
type = tfim
[vmc]
iterations = $ITS
optimizer = adam               ; its moments are state that the resume must restore
learning_rate = 0.02
checkpoint_every = 5
final_samples = 512
INI
# Everything of a training run that must not depend on interruptions (not /vmc/seconds).
SAME="/variables /optimizer /samples /log_prob /vmc/energy /vmc/energy_error /vmc/grad_norm
      /vmc/energy_variance /vmc/distinct_fraction /vmc/learning_rate /vmc/diag_shift"

"$ARS" train.ini -q --output ref.h5 > /dev/null 2> ref.err || fail "the uninterrupted run failed: $(cat ref.err)"

# Waits until FILE exists (a first checkpoint), at most 20 s.
wait_for() {
    for _ in $(seq 200); do
        [ -e "$1" ] && return 0
        sleep 0.1
    done
    fail "no checkpoint $1 after 20 s"
}

# SIGTERM and SIGINT: the iteration finishes, a checkpoint is written, exit 143 / 130; then
# --resume completes the run bitwise as if it had never stopped.
for sig in TERM INT; do
    rm -f "$sig.h5"
    "$ARS" train.ini -q --output "$sig.h5" > "$sig.out" 2> "$sig.err" &
    pid=$!
    wait_for "$sig.h5"
    sleep 0.15
    kill -"$sig" "$pid"
    wait "$pid"
    rc=$?
    want=$([ "$sig" = TERM ] && echo 143 || echo 130)
    [ "$rc" = "$want" ] || fail "SIG$sig: exit status $rc, expected $want; stderr: $(cat "$sig.err")"
    grep -Eq "^arsampler: interrupted by SIG$sig after [0-9]+ of $ITS iterations; checkpoint written; continue with --resume$" "$sig.err" ||
        fail "SIG$sig: no 'interrupted' line on stderr: $(cat "$sig.err")"
    done_it=$(/usr/bin/python3 -c "import h5py; print(int(h5py.File('$sig.h5','r')['vmc'].attrs['iterations_done']))")
    n_msg=$(sed -nE "s/^arsampler: interrupted by SIG$sig after ([0-9]+) of.*/\1/p" "$sig.err")
    [ "$done_it" = "$n_msg" ] || fail "SIG$sig: the checkpoint holds $done_it iterations, the message says $n_msg"
    [ "$done_it" -lt "$ITS" ] || fail "SIG$sig: the run finished before the signal; make it longer"
    "$ARS" train.ini -q --output "$sig.h5" --resume > /dev/null 2> "$sig.resume.err" ||
        fail "SIG$sig: --resume failed: $(cat "$sig.resume.err")"
    $H5SAME ref.h5 "$sig.h5" $SAME || fail "SIG$sig after $done_it iterations + --resume differs from the uninterrupted run"
    echo "SIG$sig after $done_it iterations: exit $rc, resumed bitwise"
done

# A second signal exits at once: SIGTERM, then (once the handler has said it will finish the
# iteration) SIGINT while the iteration still runs. The exit status is then the second
# signal's, 130, there is no "checkpoint written" line, and no temporary file is left. The
# iterations here take about half a second; if the first signal came just before one ended and
# the run stopped normally (143, with its line) before the second arrived, try again.
cat > slow.ini <<INI
[run]
mode = train
[system]
size = 40
[model]
layers = 3
features = 8
kernel_dilation = 1, 2, 4
activation = tanh
[sampler]
n_samples = $SLOW_SAMPLES
chunk_size = 256
seed = 11
[hamiltonian]
type = tfim
[vmc]
iterations = 1000
checkpoint_every = 1
INI
twice_ok=0
for attempt in 1 2 3; do
    rm -f twice.h5 twice.h5.tmp.*
    "$ARS" slow.ini -q --output twice.h5 > /dev/null 2> twice.err &
    pid=$!
    wait_for twice.h5
    kill -TERM "$pid"
    for _ in $(seq 500); do
        grep -q "signal received" twice.err && break
        sleep 0.01
    done
    kill -INT "$pid"
    wait "$pid"
    rc=$?
    if [ "$rc" = 143 ] && grep -q "^arsampler: interrupted by SIGTERM.*checkpoint written" twice.err; then
        echo "second signal: attempt $attempt came after the run had stopped; again"
        continue
    fi
    [ "$rc" = 130 ] || fail "SIGTERM then SIGINT: exit status $rc, expected 130 (the second signal's): $(cat twice.err)"
    grep -q "checkpoint written" twice.err && fail "SIGTERM then SIGINT: the run went on to a checkpoint: $(cat twice.err)"
    ls twice.h5.tmp.* > /dev/null 2>&1 && fail "SIGTERM then SIGINT: a temporary file was left: $(ls twice.h5.tmp.*)"
    twice_ok=1
    echo "second signal: exit 130 at once (attempt $attempt), no temporary file"
    break
done
[ "$twice_ok" = 1 ] || fail "SIGTERM then SIGINT: the second signal never arrived during an iteration in 3 attempts"

# SIGKILL at random moments (no handler can run): the last checkpoint is intact and --resume
# continues from it, twice in a row, to the uninterrupted result.
rm -f kill.h5
for round in 1 2; do
    if [ "$round" = 1 ]; then
        "$ARS" train.ini -q --output kill.h5 > /dev/null 2> kill.err &
    else
        "$ARS" train.ini -q --output kill.h5 --resume > /dev/null 2> kill.err &
    fi
    pid=$!
    wait_for kill.h5
    delay=$(printf '0.%02d' $((RANDOM % 29 + 2)))
    sleep "$delay"
    kill -KILL "$pid"
    wait "$pid" 2> /dev/null
    at=$(/usr/bin/python3 -c "import h5py; print(int(h5py.File('kill.h5','r')['vmc'].attrs['iterations_done']))") ||
        fail "SIGKILL round $round: the checkpoint is not readable"
    echo "SIGKILL round $round after ${delay} s: checkpoint at $at iterations"
    [ "$round" = 2 ] || [ "$at" -lt "$ITS" ] || fail "SIGKILL round 1: the run ended before the kill; make it longer"
done
"$ARS" train.ini -q --output kill.h5 --resume > /dev/null 2> kill.err || fail "--resume after SIGKILL failed: $(cat kill.err)"
$H5SAME ref.h5 kill.h5 $SAME || fail "two SIGKILLs + --resume differ from the uninterrupted run"

# Backups: an existing output is kept as FILE.~1~, FILE.~2~ (with a note); --force replaces it;
# a rejected config changes nothing; --resume with --force is refused.
cat > s.ini <<'INI'
[system]
size = 6
[sampler]
n_samples = 64
INI
"$ARS" s.ini -q --output out.h5 --set sampler.seed=1 2> b1.err || fail "first sample run"
[ -s b1.err ] && fail "first run: unexpected stderr: $(cat b1.err)"
cp out.h5 first.h5
"$ARS" s.ini -q --output out.h5 --set sampler.seed=2 2> b2.err || fail "second sample run"
grep -qx "arsampler: note: kept the existing out.h5 as out.h5.~1~ (--force replaces it instead)" b2.err ||
    fail "second run: no backup note: $(cat b2.err)"
cmp -s first.h5 out.h5.~1~ || fail "out.h5.~1~ is not the first run's file"
"$ARS" s.ini -q --output out.h5 --set sampler.seed=3 2> b3.err || fail "third sample run"
grep -q "as out.h5.~2~" b3.err || fail "third run: expected out.h5.~2~: $(cat b3.err)"
cp out.h5 third.h5
"$ARS" s.ini -q --output out.h5 --set sampler.seed=4 --force 2> b4.err || fail "--force run"
[ -s b4.err ] && fail "--force: unexpected stderr: $(cat b4.err)"
[ -e out.h5.~3~ ] && fail "--force made a backup"
cmp -s third.h5 out.h5 && fail "--force did not replace out.h5"
cp out.h5 fourth.h5
"$ARS" s.ini -q --output out.h5 --set sampler.n_samples=0 2> b5.err
[ $? = 2 ] || fail "a rejected config: expected exit status 2"
cmp -s fourth.h5 out.h5 || fail "a rejected config changed out.h5"
[ -e out.h5.~3~ ] && fail "a rejected config made a backup"
"$ARS" train.ini -q --output ref.h5 --resume --force 2> b6.err
[ $? = 2 ] || fail "--resume --force: expected exit status 2"
grep -q "contradicts" b6.err || fail "--resume --force: unclear message: $(cat b6.err)"
echo "backups: out.h5.~1~, out.h5.~2~, --force, rejected config: as specified"
