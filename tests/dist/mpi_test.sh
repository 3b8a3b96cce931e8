#!/usr/bin/env bash
# mpirun's ranks sharing one copy, one case per run:
#   mpi_test.sh CASE PLAIN MPI LISTING TEST_DIR SANITIZED
# npN_mixed, npN_include: `mpirun -np N concurrent_copy_mpi copy -a` of a tree with every kind of
#   entry (or of /usr/include) lists exactly as the single process's copy (tests/dist/listing.hpp:
#   types, sizes, modes, owners, nanosecond times, symlink targets, hardlink groups, bytes).
# mismatched_root: a rank that sees another destination (a private mount over its parent, as a
#   node-local directory would be) is refused, named, before anything is created.
# usage_exit_code, failure_exit_code: every rank exits 2 (usage) or 1 (an entry failed), and the
#   message is printed once.
# error_of_rank_1: an error on a file rank 1 copies is printed by rank 0, once.
# progress_of_all: --progress's last line counts the files and bytes of every rank, as the
#   single process's last line does.
# npN_split: as npN_mixed, with the files larger than 256 KiB copied in pieces by every rank.
# sigterm: SIGTERM to mpirun mid-copy stops every rank, which leave no temporary or partial file.
# sigterm_split: the same while large files are copied in pieces, some over existing files.
# two_hosts, two_hosts_private_destination: a second host in a network namespace (a veth pair,
#   its own host name, Open MPI's rsh agent running its daemon there), sharing this machine's
#   file system as cluster nodes share one: the two ranks copy one tree together and it lists as
#   the single process's copy; a destination only one host sees (a tmpfs mounted over it in that
#   host's mount namespace) is refused, naming the host.
# Exits 77 (skipped) with a reason where the case cannot run.
set -u
case_name=$1 plain=$2 mpi=$3 listing=$4 test_dir=$5 sanitized=$6

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }

if [ "$sanitized" = 1 ]; then
  skip "sanitized build: Open MPI's own allocations trip LeakSanitizer and its transports give ThreadSanitizer false reports"
fi
command -v mpirun >/dev/null || skip "no mpirun (apt-get install openmpi-bin)"

export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_pml=ob1 OMPI_MCA_btl=self,vader OMPI_MCA_rmaps_base_oversubscribe=1

work=$(mktemp -d "$test_dir/ccopy-mpi.XXXXXX") || fail "no scratch directory"
mpirun_pid=
netns=
cleanup() {
  [ -n "$mpirun_pid" ] && kill -KILL "$mpirun_pid" 2>/dev/null
  [ -n "$netns" ] && ip netns del "$netns" 2>/dev/null  # its end of the veth pair goes with it
  chmod -R u+rwx "$work" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

run_mpi() {  # NP ARGS...: mpirun's output in $work/out, its status returned
  local np=$1
  shift
  mpirun --oversubscribe --bind-to none -np "$np" "$mpi" "$@" >"$work/out" 2>&1
}

# Sends mpirun (started in the background as $mpirun_pid) SIGTERM, waits up to 15 s for it to
# end, and sets $status to its exit status.
terminate_mpirun() {
  kill -TERM "$mpirun_pid"
  for _ in $(seq 1 1500); do kill -0 "$mpirun_pid" 2>/dev/null || break; sleep 0.01; done
  kill -0 "$mpirun_pid" 2>/dev/null && fail "mpirun still runs 15 s after SIGTERM"
  wait "$mpirun_pid"
  status=$?
  mpirun_pid=
}

# Every kind of entry a copier must handle, small.
make_mixed() {
  local s=$1
  mkdir -p "$s/a/b/c" "$s/empty/inner" "$s/links" "$s/hard/x" "$s/hard/y" "$s/modes/ro" "$s/sparse" "$s/names"
  for i in $(seq 1 60); do head -c $((i * 997)) /dev/urandom >"$s/a/file$i"; done
  head -c 3145745 /dev/urandom >"$s/a/b/c/big"
  : >"$s/a/b/zero"
  echo one >"$s/hard/x/one"
  ln "$s/hard/x/one" "$s/hard/y/two"
  ln "$s/hard/x/one" "$s/hard/three"
  echo target >"$s/links/target"
  ln -s target "$s/links/relative"
  ln -s /nonexistent/target "$s/links/absolute"
  ln -s missing "$s/links/dangling"
  truncate -s 1M "$s/sparse/all-hole"
  { head -c 4096 /dev/urandom; } >"$s/sparse/hole-at-end" && truncate -s 1M "$s/sparse/hole-at-end"
  echo x >"$s/names/with space"
  echo y >"$s/names/new
line"
  echo z >"$s/names/-dash"
  mkfifo "$s/fifo"
  echo r >"$s/modes/ro/inside"
  echo m >"$s/modes/m0444" && chmod 0444 "$s/modes/m0444"
  echo m >"$s/modes/m0600" && chmod 0600 "$s/modes/m0600"
  chmod 0500 "$s/modes/ro"
  touch -d '2001-02-03 04:05:06.123456789' "$s/a/file1" "$s/a" "$s/empty/inner"
}

compare_with_single() {  # NP SOURCE [OPTIONS OF THE RANKS' COPY...]
  local np=$1 source=$2
  shift 2
  "$plain" copy -a "$source" "$work/single" 2>"$work/single.err" || fail "single process: $(cat "$work/single.err")"
  run_mpi "$np" copy -a "$@" "$source" "$work/multi" || fail "mpirun -np $np exited $?: $(cat "$work/out")"
  "$listing" "$work/single" >"$work/single.list"
  "$listing" "$work/multi" >"$work/multi.list"
  [ -s "$work/single.list" ] || fail "empty listing"
  diff "$work/single.list" "$work/multi.list" >"$work/diff" ||
    fail "-np $np differs from the single process: $(head -20 "$work/diff")"
  echo "-np $np: $(wc -l <"$work/multi.list") entries, identical to the single process's copy"
}

# A second host "host-b" at 10.77.x.2 in network namespace $netns; this one is 10.77.x.1. Sets
# $two_hosts to mpirun's options for running one rank on each.
make_second_host() {
  [ "$(id -u)" = 0 ] || skip "needs root to make a network namespace"
  command -v ip >/dev/null || skip "no ip (iproute2)"
  command -v unshare >/dev/null || skip "no unshare"
  local id=$(( $$ % 200 + 20 ))
  netns=ccopy-mpi-$$
  ip netns add "$netns" 2>/dev/null || { netns=; skip "cannot make a network namespace here"; }
  ip link add "cca$$" type veth peer name "ccb$$" 2>/dev/null || skip "cannot make a veth pair here"
  ip link set "ccb$$" netns "$netns" &&
    ip addr add "10.77.$id.1/24" dev "cca$$" && ip link set "cca$$" up &&
    ip netns exec "$netns" ip addr add "10.77.$id.2/24" dev "ccb$$" &&
    ip netns exec "$netns" ip link set "ccb$$" up &&
    ip netns exec "$netns" ip link set lo up || skip "cannot set up the veth pair"
  # Open MPI's rsh launcher calls the agent as ssh: options, the host, then a shell command.
  cat >"$work/agent" <<AGENT
#!/bin/sh
while [ \$# -gt 0 ]; do case "\$1" in -*) shift ;; *) break ;; esac; done
shift
exec ip netns exec $netns unshare --uts --mount sh -c "hostname host-b && { [ -z \"\\\$CCOPY_PRIVATE\" ] || mount -t tmpfs none \"\\\$CCOPY_PRIVATE\"; } && \$*"
AGENT
  chmod +x "$work/agent"
  printf '10.77.%s.1 slots=1\n10.77.%s.2 slots=1\n' "$id" "$id" >"$work/hosts"
  two_hosts=(--hostfile "$work/hosts" -np 2 --map-by node --bind-to none
    --mca plm_rsh_agent "$work/agent" --mca oob_tcp_if_include "10.77.$id.0/24"
    --mca btl self,tcp --mca btl_tcp_if_include "10.77.$id.0/24" --mca pml ob1)
}

case "$case_name" in
  two_hosts)
    make_second_host
    make_mixed "$work/src"
    "$plain" copy -a "$work/src" "$work/single" 2>"$work/single.err" || fail "single process: $(cat "$work/single.err")"
    env -u OMPI_MCA_btl -u OMPI_MCA_pml timeout 120 mpirun "${two_hosts[@]}" "$mpi" copy -a -v \
      "$work/src" "$work/multi" >"$work/out" 2>&1 || fail "mpirun exited $?: $(cat "$work/out")"
    "$listing" "$work/single" >"$work/single.list"
    "$listing" "$work/multi" >"$work/multi.list"
    diff "$work/single.list" "$work/multi.list" >"$work/diff" ||
      fail "two hosts' copy differs from the single process's: $(head -20 "$work/diff")"
    echo "two hosts: $(wc -l <"$work/multi.list") entries, identical to the single process's copy"
    ;;
  two_hosts_private_destination)
    make_second_host
    make_mixed "$work/src"
    mkdir "$work/private"
    CCOPY_PRIVATE=$work/private env -u OMPI_MCA_btl -u OMPI_MCA_pml timeout 120 mpirun \
      "${two_hosts[@]}" "$mpi" copy -a "$work/src" "$work/private/dst" >"$work/out" 2>&1
    status=$?
    [ "$status" = 1 ] || fail "exit status $status, not 1: $(cat "$work/out")"
    grep -q "concurrent_copy: rank 1 on host host-b does not see what rank 0 on host .* sees" "$work/out" ||
      fail "no refusal naming host-b: $(cat "$work/out")"
    [ ! -e "$work/private/dst" ] || fail "the destination was created"
    echo "refused: $(head -1 "$work/out")"
    ;;
  np[123]_mixed)
    make_mixed "$work/src"
    compare_with_single "${case_name:2:1}" "$work/src"
    ;;
  np[23]_split)
    # Files larger than 256 KiB in pieces by every rank: the 3 MiB file, the sparse ones.
    make_mixed "$work/src"
    compare_with_single "${case_name:2:1}" "$work/src" --split=256K
    ;;
  np[123]_include)
    compare_with_single "${case_name:2:1}" /usr/include
    ;;
  mismatched_root)
    [ "$(id -u)" = 0 ] || skip "needs root to mount in a private mount namespace"
    command -v unshare >/dev/null || skip "no unshare"
    unshare -m true 2>/dev/null || skip "cannot make a mount namespace here"
    make_mixed "$work/src"
    mkdir "$work/parent"
    # Rank 1 runs in its own mount namespace with a tmpfs over the destination's parent: it
    # sees another directory under the same name, as a host with a node-local /tmp would.
    mpirun --oversubscribe --bind-to none -np 1 "$mpi" copy -a "$work/src" "$work/parent/dst" : \
      -np 1 unshare -m sh -c 'mount -t tmpfs none "$1" && exec "$0" copy -a "$2" "$1/dst"' \
      "$mpi" "$work/parent" "$work/src" >"$work/out" 2>&1
    status=$?
    [ "$status" = 1 ] || fail "exit status $status, not 1: $(cat "$work/out")"
    grep -q "concurrent_copy: rank 1 on host .* does not see what rank 0 on host .* sees" "$work/out" ||
      fail "no refusal naming rank 1: $(cat "$work/out")"
    [ "$(grep -c 'does not see' "$work/out")" = 1 ] || fail "said more than once: $(cat "$work/out")"
    [ ! -e "$work/parent/dst" ] || fail "the destination was created"
    echo "refused: $(cat "$work/out")"
    ;;
  np2_verify | np3_verify)
    # --verify shared by the ranks (each compares its part): the copy verifies, and says so once.
    np=${case_name:2:1}
    make_mixed "$work/src"
    run_mpi "$np" copy -a --verify --json "$work/summary.json" "$work/src" "$work/multi" ||
      fail "mpirun -np $np exited $?: $(cat "$work/out")"
    grep -q '"verified": *true' "$work/summary.json" ||
      fail "the summary does not say verified: $(cat "$work/summary.json")"
    grep -q "differ" "$work/out" && fail "a difference was reported: $(cat "$work/out")"
    echo "-np $np: verified"
    ;;
  verify_differs)
    # A copy that failed for one file (a directory is in its way): the shared verification finds
    # that one difference, whichever rank compared it, and rank 0 says it once.
    make_mixed "$work/src"
    mkdir -p "$work/dst/a/file7"
    run_mpi 3 copy -r --verify "$work/src/." "$work/dst"
    status=$?
    [ "$status" = 1 ] || fail "exit status $status, not 1: $(cat "$work/out")"
    [ "$(grep -c -- "--verify found 1 entry that differs" "$work/out")" = 1 ] ||
      fail "the verdict is not said exactly once: $(cat "$work/out")"
    [ "$(grep -c "a/file7: a regular file in the source, a directory in the copy" "$work/out")" = 1 ] ||
      fail "the difference is not named once: $(cat "$work/out")"
    echo "$(grep -- "differs from" "$work/out")"
    ;;
  usage_exit_code)
    run_mpi 3 copy --no-such-option a b
    status=$?
    [ "$status" = 2 ] || fail "exit status $status, not 2: $(cat "$work/out")"
    [ "$(grep -c "Try 'concurrent_copy copy --help'" "$work/out")" = 1 ] ||
      fail "the usage error is not said exactly once: $(cat "$work/out")"
    ;;
  failure_exit_code)
    make_mixed "$work/src"
    mkdir -p "$work/dst/a/file7"  # a directory where the source has a file
    run_mpi 3 copy -r "$work/src/." "$work/dst"
    status=$?
    [ "$status" = 1 ] || fail "exit status $status, not 1: $(cat "$work/out")"
    [ "$(grep -c "cannot copy .*file7" "$work/out")" = 1 ] ||
      fail "the error is not said exactly once: $(cat "$work/out")"
    [ "$(grep -c "1 entry could not be copied" "$work/out")" = 1 ] ||
      fail "the count is not said once: $(cat "$work/out")"
    [ -f "$work/dst/a/file8" ] || fail "the other files were not copied"
    ;;
  error_of_rank_1)
    make_mixed "$work/src"
    # Which files rank 1 copies: each rank lists its own with -v, and --tag-output names it
    # (the directories dealt to rank 1 hold them); the victim is one with a single link.
    mpirun --oversubscribe --bind-to none --tag-output -np 2 "$mpi" copy -r -v --dry-run \
      "$work/src/." "$work/probe" >"$work/probe.out" 2>&1 || fail "dry run: $(cat "$work/probe.out")"
    victim=
    while IFS= read -r path; do
      if [ -f "$work/src/$path" ] && [ ! -L "$work/src/$path" ] &&
        [ "$(stat -c %h "$work/src/$path")" = 1 ]; then
        victim=$path
        break
      fi
    done < <(sed -n "s|^\[[0-9]*,1\]<stdout>:would copy '$work/src/\./\([^']*\)' .*|\1|p" "$work/probe.out")
    [ -n "$victim" ] || fail "rank 1 copies no regular file: $(head -20 "$work/probe.out")"
    mkdir -p "$work/dst/$victim"  # a directory where the source has a file
    mpirun --oversubscribe --bind-to none --tag-output -np 2 "$mpi" copy -r "$work/src/." \
      "$work/dst" >"$work/out" 2>&1
    status=$?
    [ "$status" = 1 ] || fail "exit status $status, not 1: $(cat "$work/out")"
    [ "$(grep -c "cannot copy .*$victim'" "$work/out")" = 1 ] ||
      fail "the error of rank 1's $victim is not said exactly once: $(cat "$work/out")"
    grep -q "^\[[0-9]*,0\]<stderr>:concurrent_copy: cannot copy .*$victim'" "$work/out" ||
      fail "rank 0 did not say it: $(cat "$work/out")"
    [ "$(grep -c "1 entry could not be copied" "$work/out")" = 1 ] ||
      fail "the count is not said once: $(cat "$work/out")"
    echo "rank 1's $victim: $(grep "cannot copy" "$work/out")"
    ;;
  progress_of_all)
    make_mixed "$work/src"
    "$plain" copy -a --progress "$work/src" "$work/single" 2>"$work/single.err" ||
      fail "single process: $(cat "$work/single.err")"
    run_mpi 2 copy -a --progress "$work/src" "$work/multi" || fail "mpirun exited $?: $(cat "$work/out")"
    # "progress: 3.6 MiB of 3.6 MiB, 70 of 70 files | ...": what was copied and found.
    counts() { grep '^progress: ' "$1" | tail -1 | sed 's/ files |.*//'; }
    expected=$(counts "$work/single.err")
    [ -n "$expected" ] || fail "no progress line from the single process: $(cat "$work/single.err")"
    got=$(counts "$work/out")
    [ "$got" = "$expected" ] || fail "last progress line '$got', not '$expected': $(cat "$work/out")"
    [ "$(grep -c '^progress: ' "$work/out")" -ge 1 ] || fail "no progress line"
    echo "last progress line of -np 2 as the single process's: $got"
    ;;
  sigterm)
    # Enough files that the copy still runs when mpirun, a second after its SIGTERM, sends its
    # ranks theirs: 12000 files of 256 KiB, each made durable (--fsync).
    mkdir -p "$work/src/d1"
    for f in $(seq 1 100); do head -c 262144 /dev/zero >"$work/src/d1/f$f"; done
    for d in $(seq 2 120); do "$plain" copy "$work/src/d1" "$work/src/d$d" || fail "cannot make the source"; done
    total=12000
    mpirun --oversubscribe --bind-to none -np 2 "$mpi" copy --engine threads -j 1 --fsync \
      "$work/src" "$work/dst" >"$work/out" 2>&1 &
    mpirun_pid=$!
    for _ in $(seq 1 3000); do  # wait (up to 30 s) until the ranks are copying
      [ "$(find "$work/dst" -type f 2>/dev/null | head -1 | wc -l)" -ge 1 ] && break
      kill -0 "$mpirun_pid" 2>/dev/null || break
      sleep 0.01
    done
    kill -0 "$mpirun_pid" 2>/dev/null || skip "the copy ended before it could be interrupted"
    copied_before=$(find "$work/dst" -type f | wc -l)
    [ "$copied_before" -lt "$total" ] || skip "the copy was complete before the signal"
    terminate_mpirun
    [ "$status" != 0 ] || fail "exit status 0 after SIGTERM"
    copied_after=$(find "$work/dst" -type f | wc -l)
    [ "$copied_after" -lt "$total" ] || fail "the copy went on to the end: SIGTERM did not stop it"
    temps=$(find "$work/dst" -name '.ccopy-*' | wc -l)
    [ "$temps" = 0 ] || fail "$temps temporary files left"
    partial=0
    while IFS= read -r f; do
      rel=${f#"$work/dst/"}
      [ "$(stat -c %s "$f")" = "$(stat -c %s "$work/src/$rel")" ] || partial=$((partial + 1))
    done < <(find "$work/dst" -type f)
    [ "$partial" = 0 ] || fail "$partial partial files left"
    echo "stopped with status $status after $copied_before files; $(find "$work/dst" -type f | wc -l) complete files, no temporary or partial file"
    ;;
  sigterm_split)
    # 200 files of 4 MiB in pieces of 4 KiB (204,800 pieces, two seconds or so: mpirun passes
    # its SIGTERM on to the ranks a second later), half of them over existing files (written
    # under temporary names), each piece made durable (--fsync).
    mkdir -p "$work/src" "$work/dst"
    head -c 4194304 /dev/urandom >"$work/src/f1"
    for f in $(seq 2 200); do cp "$work/src/f1" "$work/src/f$f"; done
    for f in $(seq 101 200); do echo old >"$work/dst/f$f"; done
    mpirun --oversubscribe --bind-to none -np 2 "$mpi" copy --engine threads -j 1 --fsync \
      --split=4K "$work/src/." "$work/dst" >"$work/out" 2>&1 &
    mpirun_pid=$!
    for _ in $(seq 1 3000); do  # wait (up to 30 s) until the ranks are copying pieces
      [ "$(find "$work/dst" -name '.ccopy-*' 2>/dev/null | head -1 | wc -l)" -ge 1 ] && break
      kill -0 "$mpirun_pid" 2>/dev/null || break
      sleep 0.01
    done
    kill -0 "$mpirun_pid" 2>/dev/null || skip "the copy ended before it could be interrupted"
    terminate_mpirun
    [ "$status" != 0 ] || skip "the copy ended (status 0) before the ranks had the signal"
    temps=$(find "$work/dst" -name '.ccopy-*' | wc -l)
    [ "$temps" = 0 ] || fail "$temps temporary files left"
    whole=0 old=0
    for f in $(seq 1 200); do
      [ -e "$work/dst/f$f" ] || continue
      if cmp -s "$work/src/f$f" "$work/dst/f$f"; then whole=$((whole + 1))
      elif [ "$f" -gt 100 ] && [ "$(cat "$work/dst/f$f")" = old ]; then old=$((old + 1))
      else fail "f$f is neither the whole copy nor the old file"
      fi
    done
    [ "$whole" -lt 200 ] || skip "the copy was complete before the ranks had the signal (status $status)"
    echo "stopped with status $status: $whole files whole, $old old files kept, no partial or temporary file"
    ;;
  *) fail "unknown case $case_name" ;;
esac
exit 0
