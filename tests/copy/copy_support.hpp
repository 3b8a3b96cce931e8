// What the copy command's tests share: running the binary and GNU cp, files read and written
// whole, a user without privileges, private mounts, and inotify to act the moment a copy has
// started (never a sleep).
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/inotify.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "cli/process.hpp"
#include "copy/listing.hpp"

namespace ccopy::testing {

inline constexpr uid_t kNobody = 65534;

/// Runs a program (a full path) to completion.
inline ProcessResult run_program(const std::string& program, const std::vector<std::string>& args,
                                 std::chrono::milliseconds limit = std::chrono::seconds(100)) {
  Process p(program, args);
  return p.finish(limit);
}

/// `concurrent_copy copy ARGS...`.
inline ProcessResult run_copy(std::vector<std::string> args,
                              const std::vector<std::string>& env = {},
                              std::chrono::milliseconds limit = std::chrono::seconds(100)) {
  args.insert(args.begin(), "copy");
  return run_binary(args, env, limit);
}

/// `concurrent_copy copy ARGS...` as the user nobody, with no supplementary groups.
inline ProcessResult run_copy_as_nobody(std::vector<std::string> args) {
  args.insert(args.begin(),
              {"--reuid=65534", "--regid=65534", "--clear-groups", CCOPY_BINARY, "copy"});
  return run_program("/usr/bin/setpriv", args);
}

/// `cp ARGS...` (GNU cp), optionally as nobody.
inline ProcessResult run_cp(std::vector<std::string> args, bool as_nobody = false) {
  if (!as_nobody) return run_program("/usr/bin/cp", args);
  args.insert(args.begin(), {"--reuid=65534", "--regid=65534", "--clear-groups", "/usr/bin/cp"});
  return run_program("/usr/bin/setpriv", args);
}

inline void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << bytes;
}

inline std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

/// `n` bytes that differ from file to file (by `seed`) and from block to block.
inline std::string pattern(std::size_t n, unsigned seed) {
  std::string s(n, '\0');
  std::uint64_t x = 0x9e3779b97f4a7c15ULL * (seed + 1);
  for (std::size_t i = 0; i < n; i += 8) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    std::memcpy(s.data() + i, &x, std::min<std::size_t>(8, n - i));
  }
  return s;
}

/// Whether the tests may act as root: chown to nobody, mknod devices, mount.
inline bool is_root() { return ::geteuid() == 0; }

/// Gives the tree at `path` to nobody (chown -R), so that a copy run as nobody meets the
/// permissions the test set, not root's.
inline bool give_to_nobody(const std::string& path) {
  return run_program("/usr/bin/chown", {"-R", "65534:65534", path}).exit_code == 0;
}

/// Moves this test process (and what it starts) into a mount namespace of its own, whose
/// mounts do not propagate back. Each test runs in its own process, so the namespace ends with
/// the test. Returns an empty string or why it could not.
inline std::string private_mounts() {
  if (::unshare(CLONE_NEWNS) != 0)
    return std::string("unshare(CLONE_NEWNS): ") + std::strerror(errno);
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
    return std::string("mount --make-rprivate /: ") + std::strerror(errno);
  return {};
}

/// Unmounts `path` (lazily) when it goes out of scope. Declared after the TestDir holding the
/// mount point, it runs first, so that the TestDir can remove its directory: the private mount
/// namespace ends only with the test process, after the TestDir has given up on a busy mount.
struct UnmountAtEnd {
  std::string path;
  explicit UnmountAtEnd(std::string mount_point) : path(std::move(mount_point)) {}
  UnmountAtEnd(const UnmountAtEnd&) = delete;
  UnmountAtEnd& operator=(const UnmountAtEnd&) = delete;
  ~UnmountAtEnd() { ::umount2(path.c_str(), MNT_DETACH); }
};

/// The names in a directory.
inline std::vector<std::string> names_in(const std::string& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(dir, ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
    names.push_back(it->path().filename().string());
  return names;
}

/// Names of the copier's temporary files (".ccopy-" and 16 hex digits) in `dir`, recursively.
inline std::vector<std::string> temporary_files(const std::string& dir) {
  std::vector<std::string> found;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec))
    if (it->path().filename().string().rfind(".ccopy-", 0) == 0)
      found.push_back(it->path().string());
  return found;
}

/// Watches one directory for names being created in it, so that a test can act the moment a
/// copy has begun writing (a signal, a kill) without sleeping.
class CreationWatch {
 public:
  explicit CreationWatch(const std::string& dir) {
    fd_ = ::inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    if (fd_ >= 0) watch_ = ::inotify_add_watch(fd_, dir.c_str(), IN_CREATE);
  }
  CreationWatch(const CreationWatch&) = delete;
  CreationWatch& operator=(const CreationWatch&) = delete;
  ~CreationWatch() {
    if (fd_ >= 0) ::close(fd_);
  }
  [[nodiscard]] bool ok() const { return fd_ >= 0 && watch_ >= 0; }

  /// Waits until a name for which `wanted` is true is created; returns it, or "" when `limit`
  /// passed first.
  std::string wait(const std::function<bool(const std::string&)>& wanted,
                   std::chrono::milliseconds limit) {
    const auto end = std::chrono::steady_clock::now() + limit;
    alignas(inotify_event) char buffer[8192];
    while (std::chrono::steady_clock::now() < end) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      const ssize_t n = ::read(fd_, buffer, sizeof buffer);
      for (ssize_t at = 0; at < n;) {
        const auto* event = reinterpret_cast<const inotify_event*>(buffer + at);
        at += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
        if (event->len == 0) continue;
        const std::string name(event->name);
        if (wanted(name)) return name;
      }
    }
    return {};
  }

 private:
  int fd_ = -1;
  int watch_ = -1;
};

/// A --json summary, parsed; null when the file is missing or not JSON.
inline nlohmann::json read_json(const std::string& path) {
  return nlohmann::json::parse(read_file(path), nullptr, false);
}

/// The bytes of a name escaped as docs/copy.md says the JSON keeps them: `\\` is a backslash,
/// `\xHH` the byte HH.
inline std::string unescape_name(const std::string& text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 1 < text.size() && text[i + 1] == '\\') {
      out += '\\';
      ++i;
    } else if (text[i] == '\\' && i + 3 < text.size() && text[i + 1] == 'x') {
      out += static_cast<char>(std::stoi(text.substr(i + 2, 2), nullptr, 16));
      i += 3;
    } else {
      out += text[i];
    }
  }
  return out;
}

/// Lists both trees and returns what differs (empty when they are the same entry for entry),
/// or the listing's own failure.
inline std::string tree_differences(const std::string& expected, const std::string& actual) {
  Listing a, b;
  if (std::string why = list_tree(expected, a); !why.empty())
    return "listing " + expected + ": " + why;
  if (std::string why = list_tree(actual, b); !why.empty()) return "listing " + actual + ": " + why;
  const std::vector<std::string> lines = compare_listings(a, b);
  return lines.empty() ? std::string() : describe_differences(lines);
}

/// Whether the engine can run here: `copy --engine E` of one file.
inline std::string engine_unavailable(const std::string& engine, const std::string& scratch) {
  write_file(scratch + "/probe", "x");
  const ProcessResult r =
      run_copy({"--engine", engine, scratch + "/probe", scratch + "/probe.copy"});
  std::filesystem::remove(scratch + "/probe");
  std::filesystem::remove(scratch + "/probe.copy");
  if (r.exit_code == 0) return {};
  return r.err;
}

}  // namespace ccopy::testing
