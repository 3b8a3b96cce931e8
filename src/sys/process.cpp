// Measurements of this process: CPU time, context switches, threads, peak memory.
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "sys/sys.hpp"

namespace ccopy::sys {
namespace {

// Reads the value of `key` ("Threads:") from /proc/self/status.
long status_field(const char* key) {
  unique_fd fd(::open("/proc/self/status", O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return -errno;
  char text[4096];
  const ssize_t n = ::read(fd.get(), text, sizeof text - 1);
  if (n < 0) return -errno;
  text[n] = '\0';
  const char* at = std::strstr(text, key);
  if (at == nullptr) return -ENOENT;
  return std::strtol(at + std::strlen(key), nullptr, 10);
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

long reset_peak_rss() {
  unique_fd fd(::open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC));
  if (!fd.valid()) return -errno;
  return ::write(fd.get(), "5", 1) == 1 ? 0 : -errno;
}

long peak_rss_kib() { return status_field("\nVmHWM:"); }

}  // namespace ccopy::sys
