// Runs part of a test in a forked child, whose limits and credentials may be changed without
// touching the test process: a lowered RLIMIT_NPROC, another user.
#pragma once

#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <string>

namespace ccopy::testing {

/// The unprivileged user (and group) the tests become when they run as root.
inline constexpr unsigned kNobody = 65534;

/// What a child's body returns to say that the test cannot run here, before the reason.
inline constexpr const char* kSkipPrefix = "skip: ";

/// Forks; the child runs `body` and exits. Returns what the body returned ("" when all went
/// well, else what went wrong, or kSkipPrefix and a reason), or why the child said nothing.
inline std::string in_child(const std::function<std::string()>& body) {
  int ends[2];
  if (::pipe2(ends, O_CLOEXEC) != 0) return "pipe failed";
  const pid_t pid = ::fork();
  if (pid < 0) return "fork failed";
  if (pid == 0) {
    ::close(ends[0]);
    const std::string message = body();
    const std::string sent = message.empty() ? "ok" : message;
    std::size_t done = 0;
    while (done < sent.size()) {
      const ssize_t n = ::write(ends[1], sent.data() + done, sent.size() - done);
      if (n <= 0) break;
      done += static_cast<std::size_t>(n);
    }
    ::_exit(0);
  }
  ::close(ends[1]);
  std::string received;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(ends[0], buffer, sizeof buffer);
    if (n > 0)
      received.append(buffer, static_cast<std::size_t>(n));
    else if (n == 0 || errno != EINTR)
      break;
  }
  ::close(ends[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status))
    return "the child was killed by signal " + std::to_string(WTERMSIG(status));
  if (received == "ok") return {};
  return received.empty() ? "the child said nothing" : received;
}

/// In a child running as root: becomes the user nobody, owning `home` (so that it can create
/// what the test needs there). Returns what failed, or "".
inline std::string become_nobody(const std::string& home) {
  if (::chown(home.c_str(), kNobody, kNobody) != 0)
    return std::string("chown: ") + std::strerror(errno);
  if (::setgroups(0, nullptr) != 0 || ::setgid(kNobody) != 0 || ::setuid(kNobody) != 0)
    return std::string(kSkipPrefix) + "cannot become nobody: " + std::strerror(errno);
  return {};
}

/// In a child: makes the system refuse every new thread, with RLIMIT_NPROC at 1 (which binds
/// only an unprivileged user: as root, the child becomes nobody first, owning `home`), and
/// proves that it does before the test relies on it. Returns what failed (kSkipPrefix and a
/// reason when this system does not refuse threads so), or "".
inline std::string refuse_threads(const std::string& home) {
  if (::geteuid() == 0) {
    if (std::string e = become_nobody(home); !e.empty()) return e;
  }
  const rlimit one{1, 1};
  if (::setrlimit(RLIMIT_NPROC, &one) != 0)
    return std::string("setrlimit(RLIMIT_NPROC): ") + std::strerror(errno);
  pthread_t probe;
  const int rc = ::pthread_create(
      &probe, nullptr, [](void*) -> void* { return nullptr; }, nullptr);
  if (rc == 0) {
    ::pthread_join(probe, nullptr);
    return std::string(kSkipPrefix) + "RLIMIT_NPROC at 1 does not refuse threads here";
  }
  if (rc != EAGAIN) return std::string("the probe thread failed: ") + std::strerror(rc);
  return {};
}

/// True when a child's answer says the test cannot run here.
inline bool is_skip(const std::string& answer) { return answer.rfind(kSkipPrefix, 0) == 0; }

}  // namespace ccopy::testing
