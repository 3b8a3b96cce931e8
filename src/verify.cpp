#include "ccopy/verify.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <thread>

#include "sys/sys.hpp"

namespace ccopy {
namespace {

constexpr std::size_t kBlock = 1 << 20;

// Reads up to `length` bytes at `offset`, resuming short reads; returns the count or -errno.
long read_fully(int fd, char* buffer, std::size_t length, std::uint64_t offset) {
  std::size_t done = 0;
  while (done < length) {
    const long n = sys::pread(fd, buffer + done, length - done, offset + done);
    if (n == -EINTR || n == -EAGAIN) continue;
    if (n < 0) return n;
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  return static_cast<long>(done);
}

Error open_for_verify(const std::string& path, sys::unique_fd& fd) {
  const long rc = sys::open_source(path.c_str());
  if (rc < 0) return Error::from_errno(static_cast<int>(-rc), "verify: open " + path);
  fd.reset(static_cast<int>(rc));
  return {};
}

// Compares with the caller's two buffers of kBlock bytes, so that verifying many files does
// not allocate (and, under sanitizers, map and clear) two blocks per file.
Error compare_files(const CopyJob& job, std::vector<char>& a, std::vector<char>& b) {
  sys::unique_fd src, dst;
  if (Error e = open_for_verify(job.source, src)) return e;
  if (Error e = open_for_verify(job.destination, dst)) return e;
  std::uint64_t offset = 0;
  for (;;) {
    const long na = read_fully(src.get(), a.data(), kBlock, offset);
    if (na < 0) return Error::from_errno(static_cast<int>(-na), "verify: read " + job.source);
    const long nb = read_fully(dst.get(), b.data(), kBlock, offset);
    if (nb < 0) return Error::from_errno(static_cast<int>(-nb), "verify: read " + job.destination);
    const auto common = static_cast<std::size_t>(std::min(na, nb));
    if (std::memcmp(a.data(), b.data(), common) != 0) {
      const auto mismatch =
          std::mismatch(a.begin(), a.begin() + static_cast<long>(common), b.begin());
      const auto at = offset + static_cast<std::uint64_t>(mismatch.first - a.begin());
      return Error::failure(
          fmt::format("{} differs from {} at byte {}", job.destination, job.source, at));
    }
    if (na != nb) {
      return Error::failure(fmt::format("{} differs from {}: {} is {} bytes, {} is {}",
                                        job.destination, job.source, job.destination,
                                        offset + static_cast<std::uint64_t>(nb), job.source,
                                        offset + static_cast<std::uint64_t>(na)));
    }
    if (na == 0) return {};
    offset += static_cast<std::uint64_t>(na);
  }
}

}  // namespace

Error verify_copy(const CopyJob& job) {
  std::vector<char> a(kBlock), b(kBlock);
  return compare_files(job, a, b);
}

Error VerifyReport::first_error() const {
  for (const Error& e : files)
    if (e) return e;
  return {};
}

VerifyReport verify_copies(std::span<const CopyJob> jobs, unsigned threads) {
  VerifyReport report;
  report.files.resize(jobs.size());
  threads = std::max(1u, std::min<unsigned>(threads, static_cast<unsigned>(jobs.size())));
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    std::vector<char> a(kBlock), b(kBlock);
    for (std::size_t i = next++; i < jobs.size(); i = next++)
      report.files[i] = compare_files(jobs[i], a, b);
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& thread : pool) thread.join();
  report.failed = static_cast<std::size_t>(std::count_if(report.files.begin(), report.files.end(),
                                                         [](const Error& e) { return bool(e); }));
  return report;
}

}  // namespace ccopy
