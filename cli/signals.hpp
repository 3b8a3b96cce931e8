// Signals that end the process become a request to stop: the command cleans up after itself
// (the benchmark removes its workspace when cancelled) and the process then dies of the very
// signal it was sent, with that signal's default action, so that the shell that started it sees
// what happened. A shell reports such a death as status 128 + n, and bash ends a `for` loop on
// Ctrl-C only when its child died of SIGINT, not when it exited with 130.
//
// Which signals, and why:
// - Watched: every signal whose default action ends the process and that reaches it from
//   outside: SIGHUP (a closed terminal, an ssh drop), SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2,
//   SIGALRM, SIGVTALRM, SIGPROF, SIGIO (SIGPOLL), SIGPWR, SIGXCPU, SIGSTKFLT, SIGTRAP and the
//   real-time signals SIGRTMIN to SIGRTMAX. They are blocked in every thread and taken by one
//   thread with sigwait(), which only sets a flag: no work happens in a signal handler, and no
//   system call anywhere is interrupted by them.
//   SIGTRAP is watched because `kill -TRAP` is as asynchronous as `kill -TERM`; a debugger's
//   breakpoint or single step raises it synchronously in the thread at fault, and the kernel
//   forces such a signal through a blocked mask (force_sig), so debugging is unchanged.
// - Ignored: SIGPIPE and SIGXFSZ, so that writing to a closed pipe fails with EPIPE and writing
//   past RLIMIT_FSIZE fails with EFBIG ("File too large"), each reported like any other error.
// - Left at their default: SIGSEGV, SIGBUS, SIGFPE, SIGILL and SIGSYS, which the kernel raises
//   in the thread whose instruction or system call faulted (and delivers even when blocked): a
//   process in that state cannot be trusted to clean up, and its core dump is the evidence.
//   SIGABRT too: it comes from abort() inside the process (std::terminate, a failed assertion,
//   a library that gave up), which unblocks it before raising it anyway. SIGKILL and SIGSTOP
//   cannot be caught. The stop signals (SIGTSTP, SIGTTIN, SIGTTOU) stop, they do not end.
//
// One set of signals per process: these are process-wide settings, so the functions below are
// free functions over process-wide state. Any subcommand can use them: call watch_signals()
// first thing in main, give cancel_requested() to whatever must stop, clean up, and finally
// call die_of_signal(caught_signal()) when a signal arrived.
#pragma once

#include <atomic>
#include <string>
#include <vector>

#include "ccopy/error.hpp"

namespace ccopy::cli {

/// The signals watch_signals() takes, in increasing order.
[[nodiscard]] std::vector<int> watched_signals();

/// Ignores SIGPIPE and SIGXFSZ, blocks every watched signal in the calling thread (threads it
/// starts later inherit the mask) and starts the thread that waits for them. Call it before
/// any other thread exists, once. When the system refuses the thread, returns the error and
/// leaves the signal mask as it was.
[[nodiscard]] Error watch_signals();

/// Becomes true when a watched signal arrives: hand it to whatever must stop
/// (BenchmarkConfig::cancel).
[[nodiscard]] const std::atomic<bool>& cancel_requested();

/// The first watched signal that arrived, or 0. Later ones are taken and dropped, so that a
/// second Ctrl-C cannot cut the cleanup short; SIGKILL still can.
[[nodiscard]] int caught_signal();

/// "SIGHUP", "SIGRTMIN+3", or "signal 99" for a number with no name.
[[nodiscard]] std::string signal_name(int sig);

/// Ends the process by `sig` with its default action: restores SIG_DFL, unblocks it in the
/// calling thread and raises it. The caller flushes its output first (nothing is flushed
/// after). Should the signal not end the process (its default is to be ignored), exits with
/// 128 + sig.
[[noreturn]] void die_of_signal(int sig);

}  // namespace ccopy::cli
