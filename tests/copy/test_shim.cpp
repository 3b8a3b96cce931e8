// An LD_PRELOAD library for the copy command's tests: faults no real file system gives on
// demand. It wraps pread and pwrite (the threads engine's read/write path) and acts on the
// file whose last path component the environment names, once:
//   CCOPY_SHIM_CORRUPT=NAME  the first write at offset 0 into a file NAME has its first byte
//                            flipped: the copy differs from its source by one byte
//   CCOPY_SHIM_GROW=NAME     the first read of the source NAME appends one byte to it: the
//                            source changes while it is copied
#include <dlfcn.h>
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

std::atomic<bool> g_corrupted{false};
std::atomic<bool> g_grown{false};

std::string path_of(int fd) {
  char link[64];
  std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  char path[4096];
  const ssize_t n = ::readlink(link, path, sizeof path - 1);
  return n > 0 ? std::string(path, static_cast<std::size_t>(n)) : std::string();
}

bool names(int fd, const char* variable) {
  const char* wanted = std::getenv(variable);
  if (wanted == nullptr) return false;
  const std::string path = path_of(fd);
  const std::size_t slash = path.rfind('/');
  return slash != std::string::npos && path.substr(slash + 1) == wanted;
}

using PwriteFn = ssize_t (*)(int, const void*, size_t, off_t);
using PreadFn = ssize_t (*)(int, void*, size_t, off_t);

ssize_t corrupting_write(PwriteFn real, int fd, const void* buffer, size_t length, off_t offset) {
  if (offset == 0 && length > 0 && !g_corrupted.load() && names(fd, "CCOPY_SHIM_CORRUPT") &&
      !g_corrupted.exchange(true)) {
    std::vector<char> copy(static_cast<const char*>(buffer),
                           static_cast<const char*>(buffer) + length);
    copy[0] = static_cast<char>(copy[0] ^ 0x5a);
    return real(fd, copy.data(), length, offset);
  }
  return real(fd, buffer, length, offset);
}

void maybe_grow(int fd) {
  if (g_grown.load() || !names(fd, "CCOPY_SHIM_GROW") || g_grown.exchange(true)) return;
  const int append = ::open(path_of(fd).c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (append < 0) return;
  if (::write(append, "+", 1) != 1) std::abort();
  ::close(append);
}

}  // namespace

extern "C" {

ssize_t pwrite(int fd, const void* buffer, size_t length, off_t offset) {
  static const auto real = reinterpret_cast<PwriteFn>(::dlsym(RTLD_NEXT, "pwrite"));
  return corrupting_write(real, fd, buffer, length, offset);
}

ssize_t pwrite64(int fd, const void* buffer, size_t length, off_t offset) {
  static const auto real = reinterpret_cast<PwriteFn>(::dlsym(RTLD_NEXT, "pwrite64"));
  return corrupting_write(real, fd, buffer, length, offset);
}

ssize_t pread(int fd, void* buffer, size_t length, off_t offset) {
  static const auto real = reinterpret_cast<PreadFn>(::dlsym(RTLD_NEXT, "pread"));
  maybe_grow(fd);
  return real(fd, buffer, length, offset);
}

ssize_t pread64(int fd, void* buffer, size_t length, off_t offset) {
  static const auto real = reinterpret_cast<PreadFn>(::dlsym(RTLD_NEXT, "pread64"));
  maybe_grow(fd);
  return real(fd, buffer, length, offset);
}

}  // extern "C"
