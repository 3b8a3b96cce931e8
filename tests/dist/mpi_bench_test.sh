#!/usr/bin/env bash
# The benchmark under mpirun, one case per run:
#   mpi_bench_test.sh CASE PLAIN MPI TEST_DIR SANITIZED
# npN_flat, npN_mixed, npN_src (N = 1, 2, 3): `mpirun -np N concurrent_copy_mpi` benchmarks every
#   engine on 200 files of 4 KiB, on the mixed tree, and on a -src directory with every kind of
#   entry: it exits 0, says "Verification: OK" and "Ranks: N MPI ranks on 1 host", its JSON
#   export says every engine verified, N ranks and 1 host, every run has as many file latencies
#   as the single process's run, and nothing is left in TMPDIR.
# fs_refused: -fs ext4 under -np 2 is refused in one line, exit 2, nothing created.
# menu_refused: the interactive menu under -np 2 is refused in one line, exit 2.
# tree_refused: the tree command under -np 2 is refused in one line, exit 1, nothing made.
# workspace_not_shared: rank 1 runs in its own mount namespace with a tmpfs over -dir (as a
#   host with a node-local /tmp would): the benchmark is refused naming rank 1, exit 1, and
#   nothing is left in -dir.
# sigterm: SIGTERM to mpirun while the ranks copy leaves no workspace in TMPDIR.
# Exits 77 (skipped) with a reason where the case cannot run.
set -u
case_name=$1 plain=$2 mpi=$3 test_dir=$4 sanitized=$5

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }

if [ "$sanitized" = 1 ]; then
  skip "sanitized build: Open MPI's own allocations trip LeakSanitizer and its transports give ThreadSanitizer false reports"
fi
command -v mpirun >/dev/null || skip "no mpirun (apt-get install openmpi-bin)"
command -v jq >/dev/null || skip "no jq (apt-get install jq)"

export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_pml=ob1 OMPI_MCA_btl=self,vader OMPI_MCA_rmaps_base_oversubscribe=1

work=$(mktemp -d "$test_dir/ccopy-mpibench.XXXXXX") || fail "no scratch directory"
mkdir "$work/tmp" || fail "no TMPDIR"
mpirun_pid=
cleanup() {
  [ -n "$mpirun_pid" ] && kill -KILL "$mpirun_pid" 2>/dev/null
  chmod -R u+rwx "$work" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

run_mpi() {  # NP ARGS...: mpirun's output in $work/out, its status returned
  local np=$1
  shift
  TMPDIR=$work/tmp mpirun --oversubscribe --bind-to none -np "$np" "$mpi" "$@" >"$work/out" 2>&1
}

nothing_left() {
  local left
  left=$(ls -A "$work/tmp")
  [ -z "$left" ] || fail "left in TMPDIR: $left"
}

# A small tree with every kind of entry the benchmark copies (no FIFO: -src refuses none, but
# keep it to files, directories, symlinks and hardlinks the engines all handle).
make_source() {
  local s=$1
  mkdir -p "$s/a/b/c" "$s/empty" "$s/links" "$s/hard"
  for i in $(seq 1 40); do head -c $((i * 997)) /dev/urandom >"$s/a/file$i"; done
  head -c 1048577 /dev/urandom >"$s/a/b/c/big"
  : >"$s/a/b/zero"
  echo one >"$s/hard/one"
  ln "$s/hard/one" "$s/hard/two"
  echo target >"$s/links/target"
  ln -s target "$s/links/relative"
  ln -s missing "$s/links/dangling"
}

check_run() {  # NP ARGS...: the benchmark by NP ranks verifies and says so
  local np=$1
  shift
  run_mpi "$np" "$@" -mode all -runs 2 -warmup 1 -json "$work/result.json"
  local status=$?
  [ "$status" = 0 ] || fail "mpirun -np $np exited $status: $(cat "$work/out")"
  grep -q '^Verification: OK' "$work/out" || fail "no 'Verification: OK': $(cat "$work/out")"
  grep -q "^Ranks: $np MPI rank.\? on 1 host " "$work/out" ||
    fail "no 'Ranks: $np MPI ranks on 1 host' line: $(cat "$work/out")"
  local j=$work/result.json
  [ "$(jq '.context.ranks.count' "$j")" = "$np" ] || fail "JSON ranks.count is not $np"
  [ "$(jq '.context.ranks.host_count' "$j")" = 1 ] || fail "JSON ranks.host_count is not 1"
  [ "$(jq '.context.ranks.hosts | length' "$j")" = 1 ] || fail "JSON ranks.hosts is not one host"
  [ "$(jq '.context.ranks.startup_seconds | type' "$j")" = '"number"' ] ||
    fail "JSON ranks.startup_seconds is not a number"
  [ "$(jq '.context.ranks.resources' "$j")" = '"summed over the ranks"' ] || fail "JSON ranks.resources"
  local engines
  engines=$(jq '[.scenarios[].engines[]] | length' "$j")
  [ "$engines" -ge 2 ] || fail "only $engines engines ran"
  [ "$(jq '[.scenarios[].engines[] | select(.verified != true)] | length' "$j")" = 0 ] ||
    fail "an engine did not verify: $(jq -c '[.scenarios[].engines[] | {label, verified}]' "$j")"
  [ "$(jq '.ok' "$j")" = true ] || fail "JSON ok is not true"
  # Every timed run has the latency of every file, whichever rank copied it: as many as the
  # single process records (hardlinks' names included).
  local single short
  TMPDIR=$work/tmp "$plain" "$@" -mode threads -runs 1 -warmup 0 -json "$work/single.json" \
    >"$work/single.out" 2>&1 || fail "the single process failed: $(cat "$work/single.out")"
  single=$(jq '.scenarios[0].engines[0].runs[0].files' "$work/single.json")
  [ "$single" -gt 0 ] || fail "the single process recorded no latencies"
  short=$(jq --argjson n "$single" '[.scenarios[].engines[].runs[] | select(.files != $n)] | length' "$j")
  [ "$short" = 0 ] || fail "runs without $single latencies: $(jq -c '[.scenarios[].engines[].runs[].files]' "$j")"
  nothing_left
  echo "-np $np: $engines engines verified; $(grep '^Ranks:' "$work/out")"
}

case "$case_name" in
  np[123]_flat) check_run "${case_name:2:1}" -files 200 -size 4K ;;
  np[123]_mixed) check_run "${case_name:2:1}" -tree mixed ;;
  np[123]_src)
    make_source "$work/src"
    check_run "${case_name:2:1}" -src "$work/src"
    ;;
  fs_refused)
    run_mpi 2 -files 10 -size 4K -fs ext4
    status=$?
    [ "$status" = 2 ] || fail "exit status $status, not 2: $(cat "$work/out")"
    [ "$(grep -c '^concurrent_copy: -fs cannot be used by 2 MPI ranks: its file system is a loop mount, which belongs to one host' "$work/out")" = 1 ] ||
      fail "not refused in one line: $(cat "$work/out")"
    [ "$(grep -c '^concurrent_copy:' "$work/out")" = 1 ] || fail "said more than once: $(cat "$work/out")"
    nothing_left
    echo "refused: $(grep '^concurrent_copy:' "$work/out")"
    ;;
  menu_refused)
    run_mpi 2 menu </dev/null
    status=$?
    [ "$status" = 2 ] || fail "exit status $status, not 2: $(cat "$work/out")"
    [ "$(grep -c '^concurrent_copy: the interactive menu cannot be shared by 2 MPI ranks' "$work/out")" = 1 ] ||
      fail "not refused in one line: $(cat "$work/out")"
    [ "$(grep -c '^concurrent_copy:' "$work/out")" = 1 ] || fail "said more than once: $(cat "$work/out")"
    echo "refused: $(grep '^concurrent_copy:' "$work/out")"
    ;;
  tree_refused)
    run_mpi 2 tree flat "$work/tmp/made" -files 3 -size 1K
    status=$?
    [ "$status" = 1 ] || fail "exit status $status, not 1: $(cat "$work/out")"
    [ "$(grep -c '^concurrent_copy: only the copy command and the benchmark are shared among MPI ranks, not the tree command' "$work/out")" = 1 ] ||
      fail "not refused in one line: $(cat "$work/out")"
    nothing_left
    echo "refused: $(grep '^concurrent_copy:' "$work/out")"
    ;;
  workspace_not_shared)
    [ "$(id -u)" = 0 ] || skip "needs root to mount in a private mount namespace"
    command -v unshare >/dev/null || skip "no unshare"
    unshare -m true 2>/dev/null || skip "cannot make a mount namespace here"
    # -dir rather than TMPDIR: Open MPI keeps its session directory under TMPDIR.
    mkdir "$work/ws"
    mpirun --oversubscribe --bind-to none -np 1 "$mpi" -dir "$work/ws" -files 20 -size 4K \
      -mode threads : -np 1 unshare -m sh -c 'mount -t tmpfs none "$1" && exec "$0" -dir "$1" -files 20 -size 4K -mode threads' \
      "$mpi" "$work/ws" >"$work/out" 2>&1
    status=$?
    [ "$status" = 1 ] || fail "exit status $status, not 1: $(cat "$work/out")"
    grep -q '^concurrent_copy: rank 1 on host .* does not see what rank 0 on host .* sees .*the workspace must be on a file system every rank sees' "$work/out" ||
      fail "no refusal naming rank 1: $(cat "$work/out")"
    [ "$(grep -c '^concurrent_copy:' "$work/out")" = 1 ] || fail "said more than once: $(cat "$work/out")"
    grep -q '^Verification: OK' "$work/out" && fail "the benchmark ran"
    left=$(ls -A "$work/ws")
    [ -z "$left" ] || fail "left in -dir: $left"
    echo "refused: $(grep '^concurrent_copy:' "$work/out")"
    ;;
  sigterm)
    # Enough runs that the benchmark still copies when mpirun, a second after its SIGTERM,
    # sends its ranks theirs.
    TMPDIR=$work/tmp mpirun --oversubscribe --bind-to none -np 2 "$mpi" -files 2000 -size 16K \
      -mode threads -runs 1000 -warmup 0 >"$work/out" 2>&1 &
    mpirun_pid=$!
    for _ in $(seq 1 3000); do  # wait (up to 30 s) until a destination is being written
      compgen -G "$work/tmp/concurrent_copy.*/dst" >/dev/null && break
      kill -0 "$mpirun_pid" 2>/dev/null || break
      sleep 0.01
    done
    kill -0 "$mpirun_pid" 2>/dev/null || fail "the benchmark ended before it could be interrupted: $(cat "$work/out")"
    compgen -G "$work/tmp/concurrent_copy.*" >/dev/null || fail "no workspace in TMPDIR"
    kill -TERM "$mpirun_pid"
    for _ in $(seq 1 1500); do kill -0 "$mpirun_pid" 2>/dev/null || break; sleep 0.01; done
    kill -0 "$mpirun_pid" 2>/dev/null && fail "mpirun still runs 15 s after SIGTERM"
    wait "$mpirun_pid"
    status=$?
    mpirun_pid=
    [ "$status" != 0 ] || fail "exit status 0 after SIGTERM"
    nothing_left
    echo "stopped with status $status; nothing left in TMPDIR; $(grep '^concurrent_copy:' "$work/out" | head -1)"
    ;;
  *) fail "unknown case $case_name" ;;
esac
exit 0
