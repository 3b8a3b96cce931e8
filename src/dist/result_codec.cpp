#include "dist/result_codec.hpp"

#include <cstdint>
#include <cstring>
#include <set>
#include <tuple>

namespace ccopy::dist {
namespace {

class Writer {
 public:
  void u64(std::uint64_t v) {
    char b[8];
    std::memcpy(b, &v, 8);
    out.append(b, 8);
  }
  void i64(std::int64_t v) { u64(static_cast<std::uint64_t>(v)); }
  void str(const std::string& s) {
    u64(s.size());
    out += s;
  }
  std::string out;
};

class Reader {
 public:
  explicit Reader(const std::string& bytes) : in_(bytes) {}
  bool u64(std::uint64_t& v) {
    if (in_.size() - at_ < 8) return false;
    std::memcpy(&v, in_.data() + at_, 8);
    at_ += 8;
    return true;
  }
  bool i64(std::int64_t& v) {
    std::uint64_t u = 0;
    if (!u64(u)) return false;
    v = static_cast<std::int64_t>(u);
    return true;
  }
  bool i32(int& v) {
    std::int64_t w = 0;
    if (!i64(w)) return false;
    v = static_cast<int>(w);
    return true;
  }
  bool str(std::string& s) {
    std::uint64_t n = 0;
    if (!u64(n) || in_.size() - at_ < n) return false;
    s.assign(in_, at_, n);
    at_ += n;
    return true;
  }
  /// A count of things at least `each` bytes long, bounded by what is left.
  bool count(std::uint64_t& n, std::size_t each) {
    return u64(n) && n <= (in_.size() - at_) / each;
  }
  [[nodiscard]] bool finished() const { return at_ == in_.size(); }

 private:
  const std::string& in_;
  std::size_t at_ = 0;
};

constexpr std::uint64_t kMagic = 0x63636f7079726573ULL;         // "ccopyres"
constexpr std::uint64_t kVerdictMagic = 0x63636f7079766572ULL;  // "ccopyver"

}  // namespace

std::string encode_result(const CopyResult& r) {
  Writer w;
  w.u64(kMagic);
  const CopyCounts& c = r.copied;
  for (std::uint64_t v : {c.files, c.directories, c.symlinks, c.hardlinks, c.specials, c.bytes,
                          c.reflinked, c.skipped, r.failed})
    w.u64(v);
  w.u64(r.errors.size());
  for (const CopyError& e : r.errors) {
    w.str(e.path);
    w.str(e.destination);
    w.str(e.operation);
    w.i64(e.code);
    w.str(e.detail);
  }
  w.u64(r.notes.size());
  for (const std::string& n : r.notes) w.str(n);
  w.i64(r.fatal.code);
  w.str(r.fatal.context);
  w.u64(r.fatal.interrupted ? 1 : 0);
  w.u64(r.cancelled ? 1 : 0);
  w.u64(r.latencies_ns.size());
  for (std::int64_t l : r.latencies_ns) w.i64(l);
  return std::move(w.out);
}

bool decode_result(const std::string& bytes, CopyResult& r) {
  Reader in(bytes);
  std::uint64_t magic = 0;
  if (!in.u64(magic) || magic != kMagic) return false;
  CopyCounts& c = r.copied;
  for (std::uint64_t* v : {&c.files, &c.directories, &c.symlinks, &c.hardlinks, &c.specials,
                           &c.bytes, &c.reflinked, &c.skipped, &r.failed})
    if (!in.u64(*v)) return false;
  std::uint64_t n = 0;
  if (!in.count(n, 40)) return false;
  r.errors.assign(n, CopyError{});
  for (CopyError& e : r.errors)
    if (!in.str(e.path) || !in.str(e.destination) || !in.str(e.operation) || !in.i32(e.code) ||
        !in.str(e.detail))
      return false;
  if (!in.count(n, 8)) return false;
  r.notes.assign(n, std::string{});
  for (std::string& note : r.notes)
    if (!in.str(note)) return false;
  std::uint64_t interrupted = 0, cancelled = 0;
  if (!in.i32(r.fatal.code) || !in.str(r.fatal.context) || !in.u64(interrupted) ||
      !in.u64(cancelled))
    return false;
  r.fatal.interrupted = interrupted != 0;
  r.cancelled = cancelled != 0;
  if (!in.count(n, 8)) return false;
  r.latencies_ns.assign(n, 0);
  for (std::int64_t& l : r.latencies_ns)
    if (!in.i64(l)) return false;
  return in.finished();
}

std::string encode_error(const CopyError& e) {
  Writer w;
  w.str(e.path);
  w.str(e.destination);
  w.str(e.operation);
  w.i64(e.code);
  w.str(e.detail);
  return std::move(w.out);
}

bool decode_error(const std::string& bytes, CopyError& e) {
  Reader in(bytes);
  return in.str(e.path) && in.str(e.destination) && in.str(e.operation) && in.i32(e.code) &&
         in.str(e.detail) && in.finished();
}

std::string encode_verdict(const Error& error, const VerifyResult& v) {
  Writer w;
  w.u64(kVerdictMagic);
  w.i64(error.code);
  w.str(error.context);
  w.u64(error.interrupted ? 1 : 0);
  for (std::uint64_t n : {v.entries, v.bytes, v.differences}) w.u64(n);
  w.str(v.first);
  w.str(v.first_path);
  return std::move(w.out);
}

bool decode_verdict(const std::string& bytes, Error& error, VerifyResult& v) {
  Reader in(bytes);
  std::uint64_t magic = 0, interrupted = 0;
  if (!in.u64(magic) || magic != kVerdictMagic || !in.i32(error.code) || !in.str(error.context) ||
      !in.u64(interrupted))
    return false;
  error.interrupted = interrupted != 0;
  for (std::uint64_t* n : {&v.entries, &v.bytes, &v.differences})
    if (!in.u64(*n)) return false;
  return in.str(v.first) && in.str(v.first_path) && in.finished();
}

CopyResult merge_results(const std::vector<CopyResult>& parts) {
  CopyResult merged;
  using Key = std::tuple<std::string, std::string, std::string, int, std::string>;
  std::set<Key> seen_errors;
  std::set<std::string> seen_notes;
  for (const CopyResult& p : parts) {
    CopyCounts& c = merged.copied;
    c.files += p.copied.files;
    c.directories += p.copied.directories;
    c.symlinks += p.copied.symlinks;
    c.hardlinks += p.copied.hardlinks;
    c.specials += p.copied.specials;
    c.bytes += p.copied.bytes;
    c.reflinked += p.copied.reflinked;
    c.skipped += p.copied.skipped;
    // Failures beyond the errors a rank kept cannot be told apart: they are counted as they are.
    merged.failed += p.failed - std::min<std::uint64_t>(p.failed, p.errors.size());
    for (const CopyError& e : p.errors) {
      if (!seen_errors.emplace(e.path, e.destination, e.operation, e.code, e.detail).second)
        continue;
      ++merged.failed;
      if (merged.errors.size() < CopyResult::kMaxKeptErrors) merged.errors.push_back(e);
    }
    for (const std::string& n : p.notes)
      if (seen_notes.insert(n).second) merged.notes.push_back(n);
    if (!merged.fatal && p.fatal) merged.fatal = p.fatal;
    merged.cancelled = merged.cancelled || p.cancelled;
    merged.latencies_ns.insert(merged.latencies_ns.end(), p.latencies_ns.begin(),
                               p.latencies_ns.end());
  }
  return merged;
}

}  // namespace ccopy::dist
