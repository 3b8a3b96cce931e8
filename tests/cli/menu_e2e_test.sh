#!/usr/bin/env bash
# `concurrent_copy menu` through a real terminal: tmux runs it in a detached 80x24 session,
# send-keys types, and capture-pane reads the screen, which is polled for the text expected
# until a deadline (never a fixed sleep). One case per invocation, so that ctest runs each
# with its own timeout; each starts its own tmux server and leaves nothing behind.
# Usage: menu_e2e_test.sh BINARY SCRATCH_DIR CASE [DENY_IO_URING]
set -uo pipefail
command -v tmux >/dev/null || { echo "SKIP: tmux is not installed (scripts/install-deps.sh)"; exit 77; }
binary=$(readlink -f "$1") scratch=$2 case=$3 deny=${4:-}
work=$(mktemp -d "$scratch/menu-e2e.XXXXXX") || exit 1
bench="$work/bench"  # the menu's -dir: empty whenever no run goes
mkdir "$bench"
deadline=${MENU_E2E_DEADLINE:-60}
failures=0
session=0

tmux_() { tmux -S "$work/tmux.sock" -f /dev/null "$@"; }
cleanup() {
  tmux_ kill-server 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  printf 'FAIL: %s\n' "$*" >&2
  failures=$((failures + 1))
}

# Starts `concurrent_copy menu ARGS` in a new 80x24 session, in $work, from a shell that
# prints BEFORE-MENU first, records the terminal's settings before and after, and the exit
# status; its pid is the menu's (the shell that writes it execs the menu).
start_menu() {
  session=$((session + 1))
  rm -f "$work/rc" "$work/pid" "$work/stty.before" "$work/stty.after"
  cat >"$work/run.sh" <<EOF
cd "$work" || exit 1
echo BEFORE-MENU
stty -g >"$work/stty.before"
$launcher /bin/sh -c 'echo \$\$ >"$work/pid"; exec "\$0" "\$@"' "$binary" menu $*
echo "exit=\$?" >"$work/rc"
stty -g >"$work/stty.after"
echo MENU-ENDED
exec cat
EOF
  tmux_ new-session -d -s "s$session" -x 80 -y 24 -e LANG=C.UTF-8 "sh $work/run.sh"
}
launcher=""

screen() { tmux_ capture-pane -p -t "s$session"; }
keys() { tmux_ send-keys -t "s$session" "$@"; }
type_text() { tmux_ send-keys -t "s$session" -l "$1"; }

# Polls until the command succeeds or the deadline passes; on failure shows the screen.
wait_until() {
  local what=$1 start=$SECONDS
  shift
  until "$@"; do
    if ((SECONDS - start >= deadline)); then
      fail "waited ${deadline}s for $what; the screen:"
      screen >&2
      return 1
    fi
    sleep 0.1
  done
}
# The screen is read whole before grep looks at it: grep -q stopping early must not fail the
# pipeline (pipefail) with capture-pane's SIGPIPE.
shows() { grep -qF -- "$1" <<<"$(screen)"; }
shows_re() { grep -qE -- "$1" <<<"$(screen)"; }
wait_for() { wait_until "'$1' on the screen" shows "$1"; }
wait_for_re() { wait_until "/$1/ on the screen" shows_re "$1"; }
ended() { [ -s "$work/rc" ] && shows MENU-ENDED; }

# Quits with `key` and checks the exit status, the terminal's settings and its screen.
quit_with() {
  keys "$1"
  wait_until "the menu to end" ended || return
  grep -qx "exit=0" "$work/rc" || fail "$1 quit with $(cat "$work/rc"), not exit=0"
  expect_restored
}
expect_restored() {
  cmp -s "$work/stty.before" "$work/stty.after" || fail "the terminal's settings were not restored"
  shows BEFORE-MENU || fail "the shell's screen did not come back"
  ! shows "concurrent_copy menu" || fail "the menu is still on the screen after it ended"
}
expect_bench_empty() {
  local left
  left=$(ls -A "$bench")
  [ -z "$left" ] || fail "left behind in the directory: $left"
}
# The status line's progress: "[1/1 1000x4K] xev: run 3/100000 | 0:01 elapsed".
progress_re='^ \[1/1 1000x4K\] (xev|goroutine): (verifying )?run [0-9]+/100000 \| '

# A relative -dir is relative to where the menu was started ($work).
case_navigation() {
  start_menu -runs 1 -warmup 0 -dir bench
  wait_for "> 1000 files x 4 KiB" || return
  shows "[x] xev" && shows "[x] goroutine" || fail "xev and goroutine are not chosen at start"
  keys j
  wait_for "> 200 files x 64 KiB"
  keys Down Down
  wait_for "> 50 files x 1 MiB"
  keys k
  wait_for "> 100 files x 256 KiB"
  keys Tab
  wait_for "> [x] xev"
  ! shows "> 100 files" || fail "the list kept its marker after Tab"
  keys j Space
  wait_for "> [ ] goroutine"
  keys j Space
  wait_for "> [x] uv"
  keys Left
  # -dir bench is shown as the absolute path it names
  wait_for "/bench with xev, uv"
  shows "Enter runs 100 files x 256 KiB in /" || fail "the directory is not shown as an absolute path"
  keys '?'
  wait_for "Any key returns to the menu"
  keys x
  wait_for "> 100 files x 256 KiB"
  quit_with q
}

case_run() {
  start_menu -runs 1 -warmup 0 -dir "$bench"
  wait_for "> 1000 files x 4 KiB" || return
  keys j Enter
  wait_for "200 files x 64 KiB: done" || return
  local row='^ 200x64K +\*(xev|goroutine) +[0-9.]+ (ns|us|ms|s) +[0-9]+\.[0-9] +█+ +[0-9]+\.[0-9]{2}x, too few runs$'
  shows_re "$row" || { fail "no winner's row for 200x64K"; screen >&2; }
  shows_re '^ +(xev|goroutine) +[0-9.]+ (ns|us|ms|s) +[0-9]+\.[0-9] +[█▏▎▍▌▋▊▉]*$' || fail "no second engine's row"
  shows "in $bench (" || fail "no line saying where the runs were measured"
  expect_bench_empty
  keys k Enter
  wait_for "1000 files x 4 KiB: done" || return
  shows_re '^ 1000x4K +\*' && shows_re '^ 200x64K +\*' || { fail "the table did not grow"; screen >&2; }
  expect_bench_empty
  quit_with q
}

case_cancel() {
  start_menu -runs 100000 -warmup 0 -dir "$bench"
  wait_for "> 1000 files x 4 KiB" || return
  keys Enter
  wait_for_re "$progress_re" || return
  [ -n "$(ls -A "$bench")" ] || fail "no workspace while the run goes"
  keys Escape
  wait_for "1000 files x 4 KiB: cancelled; its files were removed" || return
  expect_bench_empty
  ! shows_re '^ 1000x4K +\*' || fail "a cancelled run left a result row"
  # Ctrl-C cancels a run too, and does not end the menu.
  keys Enter
  wait_for_re "$progress_re" || return
  keys C-c
  wait_for "Enter run  Space toggle" || return
  shows "cancelled; its files were removed" || fail "Ctrl-C did not cancel"
  expect_bench_empty
  quit_with C-c
}

case_export() {
  command -v python3 >/dev/null || { echo "SKIP: python3 reads the exports"; exit 77; }
  start_menu -runs 1 -warmup 0 -dir "$bench"
  wait_for "> 1000 files x 4 KiB" || return
  keys Enter
  wait_for "1000 files x 4 KiB: done" || return
  keys e
  wait_for "Export as:  j JSON  c CSV  m Markdown  s SVG chart"
  keys j
  wait_for "> concurrent_copy-results.json" || return
  keys C-u
  type_text "missing/results.json"
  keys Enter
  wait_for "write missing/results.json: No such file or directory" || return
  keys C-u
  type_text "results.json"
  keys Enter
  wait_for "Wrote 1 scenario to results.json" || return
  python3 - "$work/results.json" <<'EOF' || fail "the JSON export is not what the table showed"
import json, sys
doc = json.load(open(sys.argv[1]))
assert [s["name"] for s in doc["scenarios"]] == ["1000x4K"], doc["scenarios"]
labels = sorted(e["label"] for e in doc["scenarios"][0]["engines"])
assert labels == ["goroutine", "xev"], labels
assert doc["context"]["parameters"]["mode"] == "xev,goroutine"
EOF
  keys e c C-u
  type_text "results.csv"
  keys Enter
  wait_for "Wrote 1 scenario to results.csv" || return
  python3 - "$work/results.csv" <<'EOF' || fail "the CSV export does not hold a row per engine"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert sorted(r["label"] for r in rows) == ["goroutine", "xev"], rows
assert all(r["scenario"] == "1000x4K" for r in rows)
EOF
  quit_with q
}

# The title bar ends at the right edge; capture-pane drops its last, blank column.
title_width() { [ "$(screen | head -1 | awk '{ print length($0) }')" -eq "$1" ]; }

case_resize() {
  start_menu -runs 1 -warmup 0 -dir "$bench"
  wait_for "> 1000 files x 4 KiB" || return
  title_width 79 || fail "the title bar is not 80 columns wide"
  tmux_ resize-window -t "s$session" -x 100 -y 30
  wait_until "the title bar at 100 columns" title_width 99
  tmux_ resize-window -t "s$session" -x 50 -y 10
  wait_for "Too small (50x10): the menu needs 60x19; q quits"
  tmux_ resize-window -t "s$session" -x 80 -y 24
  wait_until "the title bar at 80 columns" title_width 79
  wait_for "> 1000 files x 4 KiB"
  quit_with q
}

case_quit() {
  start_menu -dir "$bench"
  wait_for "> 1000 files x 4 KiB" || return
  quit_with q
  start_menu -dir "$bench"
  wait_for "> 1000 files x 4 KiB" || return
  quit_with C-c
}

# SIGTERM and SIGHUP from outside end the menu mid-run: the run is cancelled, its files go,
# the terminal is restored, and the exit status is 128 + the signal.
case_signals() {
  local sig code
  for sig in TERM HUP INT; do
    case $sig in TERM) code=143 ;; HUP) code=129 ;; INT) code=130 ;; esac
    start_menu -runs 100000 -warmup 0 -dir "$bench"
    wait_for "> 1000 files x 4 KiB" || return
    keys Enter
    wait_for_re "$progress_re" || return
    kill -"$sig" "$(cat "$work/pid")"
    wait_until "the menu to end after SIG$sig" ended || return
    grep -qx "exit=$code" "$work/rc" || fail "SIG$sig: $(cat "$work/rc"), not exit=$code"
    expect_restored
    expect_bench_empty
  done
}

case_prompt() {
  mkdir -p "$work/pick/alpha1" "$work/pick/alpha2" "$work/pick/beta"
  start_menu -runs 1 -warmup 0 -dir "$bench"
  wait_for "> 1000 files x 4 KiB" || return
  keys Tab End Enter
  wait_for "Directory to run in (Tab completes):" || return
  wait_for " > $bench" || return  # the row's directory, -dir's here
  keys C-u
  type_text "pi"
  keys Tab
  wait_for " > pick/" || return
  type_text "al"
  keys Tab
  wait_for " > pick/alpha" || return
  wait_for_re '^  alpha1/ +alpha2/ *$' || return
  type_text "2"
  keys Tab
  wait_for " > pick/alpha2/" || return
  keys Enter
  wait_for "> (o) typed    pick/alpha2/" || return
  keys Tab Enter
  wait_for "1000 files x 4 KiB: done" || return
  shows "in pick/alpha2/ (" || fail "the run was not in the typed directory"
  [ -z "$(ls -A "$work/pick/alpha2")" ] || fail "the run left files in the typed directory"
  keys Tab End Enter C-u
  type_text "nope"
  keys Enter
  wait_for "   nope: No such file or directory" || return
  keys Escape
  wait_for "> (o) typed    pick/alpha2/"
  quit_with q
}

# "Your own tree…": a typed directory (completed with Tab) is copied as -src copies it, its row
# joins the table, and nothing is left in the benchmark's directory or changed in the tree.
case_tree() {
  mkdir -p "$work/mytree/sub/deeper" "$work/mytree/empty"
  printf 'one' >"$work/mytree/sub/one"
  printf 'two' >"$work/mytree/sub/deeper/two"
  ln -s sub/one "$work/mytree/link"
  local before
  before=$(cd "$work/mytree" && find . -printf '%p %y %s %T@\n' | sort)
  start_menu -runs 1 -warmup 0 -dir "$bench"
  wait_for "> 1000 files x 4 KiB" || return
  keys End
  wait_for "> Your own tree…" || return
  keys Enter
  wait_for "Tree to copy (a directory; Tab completes)" || return
  type_text "mytr"
  keys Tab
  wait_for " > mytree/" || return
  keys Enter
  wait_for "Your own tree…: done" || return
  shows_re '^ mytree +\*(xev|goroutine) ' || { fail "no winner's row for the tree"; screen >&2; }
  expect_bench_empty
  [ "$(cd "$work/mytree" && find . -printf '%p %y %s %T@\n' | sort)" = "$before" ] ||
    fail "the tree changed"
  # A path that is not a directory is refused in the prompt, and nothing runs.
  keys End Enter
  wait_for "Tree to copy (a directory; Tab completes)" || return
  type_text "mytree/sub/one"
  keys Enter
  wait_for "mytree/sub/one: not a directory" || { screen >&2; return; }
  keys Escape
  quit_with q
}

case_unavailable() {
  [ -n "$deny" ] && [ -x "$deny" ] || { echo "SKIP: built without libseccomp"; exit 77; }
  "$deny" /bin/true || { echo "SKIP: seccomp filters cannot be installed here"; exit 77; }
  launcher=$deny
  start_menu -dir "$bench"
  wait_for "> 1000 files x 4 KiB" || return
  wait_for "[ ] xev        unavailable: " || return
  shows "[x] uv" || fail "xev's fallback, uv, is not chosen"
  shows " io_uring is not available here (io_uring_setup: Operation not permitted): xev…" ||
    fail "no note that xev runs on uv"
  keys Tab Space
  wait_for "xev cannot run here: io_uring_setup"
  quit_with q
}

case_no_terminal() {
  local err rc
  err=$("$binary" menu </dev/null 2>&1 >/dev/null)
  rc=$?
  [ "$rc" -eq 2 ] || fail "without a terminal: exit $rc, not 2"
  [ "$err" = "concurrent_copy menu: needs a terminal on stdin and stdout" ] || fail "without a terminal: '$err'"
  # A terminal on stdin is not enough.
  start_menu -dir "$bench" ">$work/out" "2>$work/err"
  wait_until "the menu to refuse" ended || return
  grep -qx "exit=2" "$work/rc" || fail "with stdout on a file: $(cat "$work/rc"), not exit=2"
  [ "$(cat "$work/err")" = "concurrent_copy menu: needs a terminal on stdin and stdout" ] || fail "with stdout on a file: '$(cat "$work/err")'"
  # A terminal that cannot move its cursor cannot show the menu.
  launcher="env TERM=dumb"
  start_menu -dir "$bench"
  wait_until "the menu to refuse TERM=dumb" ended || return
  grep -qx "exit=2" "$work/rc" || fail "TERM=dumb: $(cat "$work/rc"), not exit=2"
  shows "concurrent_copy menu: the terminal cannot move its cursor (TERM=dumb)" || fail "TERM=dumb: no message"
  launcher=""
  err=$("$binary" menu -files 3 2>&1 >/dev/null)
  rc=$?
  [ "$rc" -eq 2 ] || fail "-files: exit $rc, not 2"
  grep -qF -- "-files is not a flag of the menu" <<<"$err" || fail "-files: '$err'"
}

case "$case" in
  navigation | run | cancel | export | resize | quit | signals | prompt | tree | unavailable | no_terminal)
    "case_$case" ;;
  *)
    echo "unknown case '$case'" >&2
    exit 2
    ;;
esac
expect_bench_empty
[ "$failures" -eq 0 ] || exit 1
echo "PASS: menu $case"
