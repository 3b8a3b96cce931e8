#!/usr/bin/env bash
# bench/compare as a user runs it, on the smallest trees: it must measure every engine and tool
# it is given, print one row per scenario with its ratios, regenerate the tools' source when
# asked, keep the rest of a results file when it writes its section there, refuse bad arguments
# with exit 2, and leave nothing behind.
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

out=$(python3 "$repo/bench/compare" --binary "$binary" --dir "$target" --scenarios 3x4K,2x64K \
  --runs 1 --warmup 0 --engines threads,kernel --tools cp,tar --json --fresh-source \
  --results "$results" 2>"$work/stderr")
rc=$?
[ "$rc" -eq 0 ] || fail "exit $rc: $(cat "$work/stderr")"
for row in 3x4K 2x64K; do
  # | 3x4K | threads | kernel | cp | tar | ratio | ratio | ratio (min..max) |: four rates, then
  # the ratios; the last is round by round.
  grep -Eq "^\| $row \|( [0-9]+ \([0-9]+\.\.[0-9]+\) \|){4} [0-9.]+x \((threads|kernel) / (cp|tar)\) \| .* \| [0-9.]+x \([0-9.]+\.\.[0-9.]+\) \|$" <<<"$out" \
    || fail "no measured row for $row in:
$out"
done
# 2 scenarios x 1 round x 2 tools.
regenerated=$(grep -c "generating the source again for" "$work/stderr")
[ "$regenerated" -eq 4 ] || fail "the tools' source was generated again $regenerated times, not 4"
grep -q -- "--fresh-source\`: 1 timed rounds after 0 warm-up, interleaved round by round; the tools' source generated again" <<<"$out" \
  || fail "the table does not say that the tools' source was generated again"
grep -q "Kept text." "$results" || fail "the results file lost its own text"
grep -q "<!-- bench/compare $target begin -->" "$results" || fail "no section for $target in the results file"
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

[ "$failures" -eq 0 ] || exit 1
echo "bench/compare: ok"
