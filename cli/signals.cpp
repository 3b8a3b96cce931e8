#include "signals.hpp"

#include <fmt/format.h>
#include <pthread.h>
#include <signal.h>

#include <cstdlib>
#include <iterator>

namespace ccopy::cli {
namespace {

struct Named {
  int number;
  const char* name;
};

// The watched signals with fixed numbers; the real-time ones are added at run time, since
// SIGRTMIN depends on what the C library keeps for itself.
constexpr Named kWatched[] = {
    {SIGHUP, "SIGHUP"},       {SIGINT, "SIGINT"},       {SIGQUIT, "SIGQUIT"}, {SIGTRAP, "SIGTRAP"},
    {SIGUSR1, "SIGUSR1"},     {SIGUSR2, "SIGUSR2"},     {SIGALRM, "SIGALRM"}, {SIGTERM, "SIGTERM"},
#ifdef SIGSTKFLT
    {SIGSTKFLT, "SIGSTKFLT"},
#endif
    {SIGXCPU, "SIGXCPU"},     {SIGVTALRM, "SIGVTALRM"}, {SIGPROF, "SIGPROF"}, {SIGIO, "SIGIO"},
#ifdef SIGPWR
    {SIGPWR, "SIGPWR"},
#endif
};

// Names of the signals that are not watched, for messages only.
constexpr Named kOthers[] = {
    {SIGILL, "SIGILL"},   {SIGABRT, "SIGABRT"}, {SIGBUS, "SIGBUS"},   {SIGFPE, "SIGFPE"},
    {SIGKILL, "SIGKILL"}, {SIGSEGV, "SIGSEGV"}, {SIGPIPE, "SIGPIPE"}, {SIGCHLD, "SIGCHLD"},
    {SIGCONT, "SIGCONT"}, {SIGSTOP, "SIGSTOP"}, {SIGTSTP, "SIGTSTP"}, {SIGTTIN, "SIGTTIN"},
    {SIGTTOU, "SIGTTOU"}, {SIGURG, "SIGURG"},   {SIGXFSZ, "SIGXFSZ"}, {SIGWINCH, "SIGWINCH"},
    {SIGSYS, "SIGSYS"},
};

// Process-wide, like the signal mask it mirrors; never destroyed, so that the watching thread
// may run until the process ends.
std::atomic<bool> g_cancel{false};
std::atomic<int> g_caught{0};
sigset_t g_watched;

void* take_signals(void*) {
  for (;;) {
    int sig = 0;
    // sigwait fails only for an invalid set, which g_watched is not.
    if (::sigwait(&g_watched, &sig) != 0) continue;
    int none = 0;
    g_caught.compare_exchange_strong(none, sig);
    g_cancel.store(true);
  }
  return nullptr;
}

void ignore(int sig) {
  struct sigaction action {};
  action.sa_handler = SIG_IGN;
  sigemptyset(&action.sa_mask);
  ::sigaction(sig, &action, nullptr);
}

}  // namespace

std::vector<int> watched_signals() {
  std::vector<int> signals;
  for (const Named& s : kWatched) signals.push_back(s.number);
  for (int sig = SIGRTMIN; sig <= SIGRTMAX; ++sig) signals.push_back(sig);
  return signals;
}

Error watch_signals() {
  ignore(SIGPIPE);
  ignore(SIGXFSZ);
  sigemptyset(&g_watched);
  for (int sig : watched_signals()) sigaddset(&g_watched, sig);
  sigset_t before;
  ::pthread_sigmask(SIG_BLOCK, &g_watched, &before);
  // A small stack: the thread holds one frame. Detached: it waits until the process ends.
  pthread_attr_t attr;
  ::pthread_attr_init(&attr);
  ::pthread_attr_setstacksize(&attr, 64 * 1024);
  ::pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_t thread;
  const int rc = ::pthread_create(&thread, &attr, take_signals, nullptr);
  ::pthread_attr_destroy(&attr);
  if (rc == 0) return {};
  ::pthread_sigmask(SIG_SETMASK, &before, nullptr);
  return Error::from_errno(rc, "cannot start the thread that watches for signals");
}

const std::atomic<bool>& cancel_requested() { return g_cancel; }

int caught_signal() { return g_caught.load(); }

std::string signal_name(int sig) {
  for (const Named& s : kWatched)
    if (s.number == sig) return s.name;
  for (const Named& s : kOthers)
    if (s.number == sig) return s.name;
  if (sig == SIGRTMIN) return "SIGRTMIN";
  if (sig == SIGRTMAX) return "SIGRTMAX";
  if (sig > SIGRTMIN && sig <= SIGRTMAX) return fmt::format("SIGRTMIN+{}", sig - SIGRTMIN);
  return fmt::format("signal {}", sig);
}

void die_of_signal(int sig) {
  struct sigaction action {};
  action.sa_handler = SIG_DFL;
  sigemptyset(&action.sa_mask);
  ::sigaction(sig, &action, nullptr);
  sigset_t one;
  sigemptyset(&one);
  sigaddset(&one, sig);
  ::pthread_sigmask(SIG_UNBLOCK, &one, nullptr);
  ::raise(sig);
  std::_Exit(128 + sig);
}

}  // namespace ccopy::cli
