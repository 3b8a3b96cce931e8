#include "ccopy/fileset.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <system_error>
#include <thread>
#include <utility>

#include "sys/sys.hpp"

namespace ccopy {
namespace fs = std::filesystem;

namespace {

// splitmix64 seeds xoshiro256**: fast, and every (seed, index) pair gives its own stream.
std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

class Xoshiro256 {
 public:
  explicit Xoshiro256(std::uint64_t seed) {
    for (auto& word : s_) word = splitmix64(seed);
  }
  std::uint64_t next() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t s_[4]{};
};

// Stops with ECANCELED between two blocks once `cancel` is set, so that even one huge file
// does not hold up an interruption.
Error fill_file(const CopyJob& job, std::uint64_t seed, std::vector<std::uint64_t>& buffer,
                const std::atomic<bool>* cancel) {
  const long fd = sys::create_destination(job.source.c_str());
  if (fd < 0) return Error::from_errno(static_cast<int>(-fd), "create " + job.source);
  sys::unique_fd owner(static_cast<int>(fd));
  Xoshiro256 random(seed);
  std::uint64_t offset = 0;
  while (offset < job.size) {
    if (cancel != nullptr && cancel->load(std::memory_order_relaxed))
      return Error::from_errno(ECANCELED, "generate " + job.source);
    const std::uint64_t want = std::min<std::uint64_t>(job.size - offset, buffer.size() * 8);
    for (std::size_t i = 0; i < (want + 7) / 8; ++i) buffer[i] = random.next();
    std::uint64_t done = 0;
    while (done < want) {
      const long n = sys::pwrite(owner.get(), reinterpret_cast<const char*>(buffer.data()) + done,
                                 static_cast<std::size_t>(want - done), offset + done);
      if (n == -EINTR || n == -EAGAIN) continue;
      if (n < 0) return Error::from_errno(static_cast<int>(-n), "write " + job.source);
      if (n == 0) return Error::from_errno(EIO, "write " + job.source);
      done += static_cast<std::uint64_t>(n);
    }
    offset += want;
  }
  const long rc = sys::close(owner.release());
  if (rc < 0) return Error::from_errno(static_cast<int>(-rc), "close " + job.source);
  return {};
}

Error make_directory(const std::string& path) {
  std::error_code ec;
  if (!fs::create_directory(path, ec) && ec) return Error::from_errno(ec.value(), "mkdir " + path);
  return {};
}

Error remove_tree(const std::string& path) {
  std::error_code ec;
  fs::remove_all(path, ec);
  if (ec) return Error::from_errno(ec.value(), "remove " + path);
  return {};
}

}  // namespace

Error Workspace::create(const std::string& parent, Workspace& out) {
  std::string pattern = parent;
  while (pattern.size() > 1 && pattern.back() == '/') pattern.pop_back();
  pattern += "/concurrent_copy.XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr)
    return Error::from_errno(errno, "create a directory in " + parent);
  Workspace created;
  created.root_ = pattern;
  if (Error e = make_directory(created.source_dir())) return e;
  if (Error e = make_directory(created.destination_dir())) return e;
  out = std::move(created);
  return {};
}

Workspace::Workspace(Workspace&& other) noexcept
    : root_(std::exchange(other.root_, {})), keep_(other.keep_) {}

Workspace& Workspace::operator=(Workspace&& other) noexcept {
  if (this != &other) {
    (void)remove();
    root_ = std::exchange(other.root_, {});
    keep_ = other.keep_;
  }
  return *this;
}

Workspace::~Workspace() { (void)remove(); }

Error Workspace::remove() {
  if (root_.empty() || keep_) return {};
  Error e = remove_tree(root_);
  root_.clear();
  return e;
}

Error Workspace::reset_destination() const {
  if (Error e = remove_tree(destination_dir())) return e;
  return make_directory(destination_dir());
}

Error Workspace::reset_source() const {
  if (Error e = remove_tree(source_dir())) return e;
  return make_directory(source_dir());
}

std::vector<CopyJob> plan_jobs(const Workspace& workspace, std::size_t count, std::uint64_t size) {
  std::vector<CopyJob> jobs;
  jobs.reserve(count);
  const std::string src = workspace.source_dir();
  const std::string dst = workspace.destination_dir();
  for (std::size_t i = 0; i < count; ++i) {
    const std::string name = fmt::format("/file_{:06}", i);
    jobs.push_back(CopyJob{src + name, dst + name, size});
  }
  return jobs;
}

Error generate_sources(const std::vector<CopyJob>& jobs, std::uint64_t seed,
                       const std::atomic<bool>* cancel) {
  const unsigned threads =
      static_cast<unsigned>(std::clamp<std::size_t>(std::thread::hardware_concurrency(), 1, 4));
  std::atomic<std::size_t> next{0};
  std::vector<Error> errors(threads);
  auto work = [&](unsigned id) {
    std::vector<std::uint64_t> buffer(128 * 1024);
    for (std::size_t i = next++; i < jobs.size(); i = next++) {
      if (cancel != nullptr && cancel->load(std::memory_order_relaxed)) {
        errors[id] = Error::from_errno(ECANCELED, "generate source files");
        return;
      }
      if (Error e = fill_file(jobs[i], seed ^ (0x9e3779b97f4a7c15ULL * (i + 1)), buffer, cancel)) {
        errors[id] = std::move(e);
        next = jobs.size();
        return;
      }
    }
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work, t);
  work(0);
  for (auto& thread : pool) thread.join();
  for (Error& e : errors)
    if (e) return e;
  return {};
}

}  // namespace ccopy
