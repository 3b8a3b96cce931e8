#!/usr/bin/env bash
# bench/compare as a user runs it, on the smallest trees: every contender it is given is timed
# as a whole process and its copy checked, one row per contender with its ratio to its group's
# baseline, the rest of a results file is kept when it writes its section there, bad arguments
# exit 2, a contender that fails exits 1, and nothing is left behind (no files, and as root with
# a fresh file system, no mount and no image).
# Usage: compare_test.sh REPOSITORY BINARY SCRATCH_DIR
set -uo pipefail
command -v python3 >/dev/null || { echo "SKIP: python3 is not installed (scripts/install-deps.sh)"; exit 77; }
repo=$1 binary=$2 scratch=$3
work=$(mktemp -d "$scratch/compare-test.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
failures=0
fail() { printf 'FAIL: %s\n' "$*" >&2; failures=$((failures + 1)); }

target="$work/target"
mkdir "$target"
results="$work/results.md"
printf '# Results\n\nKept text.\n' >"$results"
binary_dir=$(dirname "$(readlink -f "$binary")")
before=$(ls "$binary_dir")

out=$(python3 "$repo/bench/compare" --binary "$binary" --dir "$target" --fs dir --trees node_modules \
  --tree-scale 0.01 --scenarios 3x4K --runs 2 --warmup 0 --engines threads --tools ccopy,cp,tar \
  --results "$results" --json "$work/runs.json" 2>"$work/stderr")
rc=$?
[ "$rc" -eq 0 ] || fail "exit $rc: $(cat "$work/stderr")"
for tree in node_modules 3x4K; do
  grep -q "^#### $tree on \`$target\` as it is" <<<"$out" || fail "no table for $tree in:
$out"
done
num='[0-9]+\.[0-9]{3}'
for row in 'copy -a \(auto\) \| archive' 'copy -a \(threads\) \| archive' 'copy \(auto\) \| plain' \
  'tar \\\| tar \| plain'; do
  n=$(grep -Ec "^\| $row \| $num \($num\.\.$num\) \| [0-9]+ \| [0-9]+ \| [0-9.]+x \([0-9.]+\.\.[0-9.]+\)(, within the noise)? vs cp -[ar] \|$" <<<"$out")
  [ "$n" -eq 2 ] || fail "row '$row' found $n times, not once per tree, in:
$out"
done
for base in 'cp -a \| archive' 'cp -r \| plain'; do
  n=$(grep -Ec "^\| $base \| .* \| 1 \(baseline\) \|$" <<<"$out")
  [ "$n" -eq 2 ] || fail "baseline '$base' found $n times in:
$out"
done
grep -q "rsync" <<<"$out" && fail "rsync ran though --tools left it out"
python3 - "$work/runs.json" <<'PY' || fail "the JSON does not hold every run"
import json, sys
d = json.load(open(sys.argv[1]))
assert len(d["results"]) == 2, d["results"]
for r in d["results"]:
    assert r["files"] > 0
    for c in r["contenders"]:
        assert len(c["seconds"]) == 2 and all(s > 0 for s in c["seconds"]), c
PY
grep -q "Kept text." "$results" || fail "the results file lost its own text"
grep -q "<!-- bench/compare dir $target begin -->" "$results" || fail "no section for $target in the results file"
[ -z "$(ls -A "$target")" ] || fail "left behind in $target: $(ls -A "$target")"
[ "$(ls "$binary_dir")" = "$before" ] || fail "left behind next to the binary: $(ls "$binary_dir")"

python3 "$repo/bench/compare" --binary "$binary" --dir "$target" --runs 0 --results - >/dev/null 2>"$work/stderr"
rc=$?
[ "$rc" -eq 2 ] || fail "--runs 0 exited $rc, expected 2"
grep -q -- "--runs must be at least 1" "$work/stderr" || fail "--runs 0: $(cat "$work/stderr")"
python3 "$repo/bench/compare" --binary "$binary" --dir "$target" --tools scp --results - >/dev/null 2>"$work/stderr"
rc=$?
[ "$rc" -eq 2 ] || fail "--tools scp exited $rc, expected 2"
grep -q "unknown tool 'scp'" "$work/stderr" || fail "--tools scp: $(cat "$work/stderr")"
python3 "$repo/bench/compare" --binary "$binary" --dir "$target" --fs zfs --results - >/dev/null 2>"$work/stderr"
rc=$?
[ "$rc" -eq 2 ] || fail "--fs zfs exited $rc, expected 2"
python3 "$repo/bench/compare" --binary "$binary" --dir "$target" --src "$work/missing" --results - >/dev/null 2>"$work/stderr"
rc=$?
[ "$rc" -eq 2 ] || fail "--src of a missing directory exited $rc, expected 2"

# As root, a fresh ext4 for the tree, and a real tree given with --src: nothing stays mounted.
if [ "$(id -u)" -eq 0 ] && command -v mkfs.ext4 >/dev/null; then
  mkdir -p "$work/real/a/b" && printf x >"$work/real/a/b/f" && ln -s b/f "$work/real/a/l"
  out=$(python3 "$repo/bench/compare" --binary "$binary" --dir "$target" --fs ext4 --trees '' \
    --scenarios '' --src "$work/real" --runs 1 --warmup 0 --engines uring --tools ccopy,cp \
    --fs-image "$work" --results - 2>"$work/stderr")
  rc=$?
  [ "$rc" -eq 0 ] || fail "--fs ext4 --src exited $rc: $(cat "$work/stderr")"
  grep -q "^#### $work/real on a fresh ext4 (mkfs.ext4 " <<<"$out" || fail "no ext4 table in:
$out"
  grep -q "$target" /proc/mounts && fail "a mount was left: $(grep "$target" /proc/mounts)"
  ls "$work"/*.img >/dev/null 2>&1 && fail "an image was left: $(ls "$work"/*.img)"
  [ -z "$(ls -A "$target")" ] || fail "left behind in $target after --fs ext4: $(ls -A "$target")"
else
  echo "not root or no mkfs.ext4: the fresh file system case is not run"
fi

# SIGTERM in the middle (after the first timed round, while the contenders copy): exit 143,
# nothing left behind; as root on a fresh tmpfs, with tar's pipe among them: nothing mounted.
fs_args=(--fs dir)
[ "$(id -u)" -eq 0 ] && fs_args=(--fs tmpfs)
python3 "$repo/bench/compare" --binary "$binary" --dir "$target" "${fs_args[@]}" --trees photos \
  --tree-scale 0.1 --scenarios '' --runs 50 --warmup 0 --tools ccopy,cp,tar --engines uring \
  --results - >/dev/null 2>"$work/stderr" &
pid=$!
for _ in $(seq 1200); do
  grep -q "run 1/50" "$work/stderr" && break
  kill -0 "$pid" 2>/dev/null || break
  read -rt 0.1 <> <(:) || true  # a tenth of a second between looks at the file
done
kill -TERM "$pid"
wait "$pid"
rc=$?
[ "$rc" -eq 143 ] || fail "SIGTERM: exit $rc, expected 143: $(cat "$work/stderr")"
grep -q "stopped by SIGTERM; cleaning up" "$work/stderr" || fail "SIGTERM: $(cat "$work/stderr")"
grep -q "$target" /proc/mounts && fail "a mount was left after SIGTERM: $(grep "$target" /proc/mounts)"
[ -z "$(ls -A "$target")" ] || fail "left behind in $target after SIGTERM: $(ls -A "$target")"
[ "$(ls "$binary_dir")" = "$before" ] || fail "left behind next to the binary after SIGTERM"

[ "$failures" -eq 0 ] || exit 1
echo "bench/compare: ok"
