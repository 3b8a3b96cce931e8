// Measurements of this process: CPU time, context switches, threads, peak memory.
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "sys/sys.hpp"

namespace ccopy::sys {
namespace {

// Reads the start of the open file `fd` into `text`, NUL-terminated: 0 or -errno.
long read_start(int fd, char (&text)[4096]) {
  const ssize_t n = ::pread(fd, text, sizeof text - 1, 0);
  if (n < 0) return -errno;
  text[n] = '\0';
  return 0;
}

// Reads the start of the file `path` (in /proc/self) into `text`, NUL-terminated: 0 or -errno.
long read_proc_self(const char* path, char (&text)[4096]) {
  unique_fd fd(::open(path, O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return -errno;
  return read_start(fd.get(), text);
}

// The value of `key` ("\nThreads:") in the text of /proc/self/status, or -ENOENT.
long field_of(const char* text, const char* key) {
  const char* at = std::strstr(text, key);
  if (at == nullptr) return -ENOENT;
  return std::strtol(at + std::strlen(key), nullptr, 10);
}

// Reads the value of `key` ("\nThreads:") from /proc/self/status.
long status_field(const char* key) {
  char text[4096];
  if (const long rc = read_proc_self("/proc/self/status", text); rc < 0) return rc;
  return field_of(text, key);
}

double seconds(const timeval& tv) {
  return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
}

}  // namespace

ProcessUsage process_usage() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return {seconds(usage.ru_utime), seconds(usage.ru_stime), usage.ru_nvcsw, usage.ru_nivcsw};
}

long thread_count() { return status_field("\nThreads:"); }

StatusFile::StatusFile()
    : fd_(::open("/proc/self/status", O_RDONLY | O_CLOEXEC)), open_error_(fd_.valid() ? 0 : errno) {}

long StatusFile::thread_count() const {
  if (!fd_.valid()) return -open_error_;
  char text[4096];
  if (const long rc = read_start(fd_.get(), text); rc < 0) return rc;
  return field_of(text, "\nThreads:");
}

long reset_peak_rss() {
  unique_fd fd(::open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC));
  if (!fd.valid()) return -errno;
  return ::write(fd.get(), "5", 1) == 1 ? 0 : -errno;
}

long peak_rss_kib() { return status_field("\nVmHWM:"); }

long resident_kib() { return status_field("\nVmRSS:"); }

std::int64_t process_age_ns() {
  char text[4096];
  if (const long rc = read_proc_self("/proc/self/stat", text); rc < 0) return rc;
  // The command name (field 2) is in parentheses and may hold spaces: count from its end.
  const char* at = std::strrchr(text, ')');
  if (at == nullptr) return -EINVAL;
  // Field 22, starttime: the space before field f is the (f - 2)th after the name.
  for (int field = 3; field <= 22 && at != nullptr; ++field) at = std::strchr(at + 1, ' ');
  if (at == nullptr) return -EINVAL;
  const long long ticks = std::strtoll(at + 1, nullptr, 10);
  const long hz = ::sysconf(_SC_CLK_TCK);
  timespec now{};
  if (hz <= 0 || ::clock_gettime(CLOCK_BOOTTIME, &now) != 0) return -EINVAL;
  const std::int64_t started = ticks * (1'000'000'000LL / hz);
  const std::int64_t age =
      static_cast<std::int64_t>(now.tv_sec) * 1'000'000'000LL + now.tv_nsec - started;
  return age < 0 ? 0 : age;
}

namespace {

// The program's path: as given when it holds a '/', else the first match in PATH, /usr/sbin and
// /sbin (where mkfs lives, and which a user's PATH often lacks).
std::string find_program(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  std::string dirs = std::getenv("PATH") != nullptr ? std::getenv("PATH") : "/usr/bin:/bin";
  dirs += ":/usr/sbin:/sbin";
  std::size_t start = 0;
  for (;;) {
    const std::size_t colon = dirs.find(':', start);
    const std::string dir = dirs.substr(start, colon - start);
    const std::string path = (dir.empty() ? "." : dir) + "/" + name;
    if (::access(path.c_str(), X_OK) == 0) return path;
    if (colon == std::string::npos) return {};
    start = colon + 1;
  }
}

}  // namespace

long run_program(const std::vector<std::string>& argv, std::string& output) {
  output.clear();
  if (argv.empty()) return -EINVAL;
  const std::string path = find_program(argv[0]);
  if (path.empty()) return -ENOENT;
  int out[2];
  if (::pipe2(out, O_CLOEXEC) < 0) return -errno;
  posix_spawn_file_actions_t actions;
  ::posix_spawn_file_actions_init(&actions);
  ::posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  ::posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  ::posix_spawn_file_actions_adddup2(&actions, out[1], STDERR_FILENO);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, path.c_str(), &actions, nullptr, args.data(), environ);
  ::posix_spawn_file_actions_destroy(&actions);
  ::close(out[1]);
  if (rc != 0) {
    ::close(out[0]);
    return -rc;
  }
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(out[0], buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    output.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(out[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -errno;
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + WTERMSIG(status);
}

}  // namespace ccopy::sys
