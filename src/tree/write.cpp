// write_tree(): a Manifest onto disk, in three phases.
//   1. In parallel, directory by directory (depth first, see tree/parallel.hpp): a directory's
//      job creates its subdirectories, symlinks and FIFOs, and hands its regular files to the
//      workers in batches, so that one directory of a million files is written by every thread.
//      Directories are created owner-writable and owner-searchable whatever their final mode,
//      so that a 0500 directory can be filled without privileges.
//   2. The hardlinks, once every file they name exists.
//   3. The modes of the directories whose mode differs from the one they were created with,
//      deepest first, so that a read-only directory is made read-only after what is in it.
// Every call is relative to a directory descriptor, so paths deeper than PATH_MAX are written
// like any other.
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <vector>

#include "ccopy/tree.hpp"
#include "sys/sys.hpp"
#include "tree/builder.hpp"
#include "tree/directory.hpp"
#include "tree/parallel.hpp"
#include "tree/random.hpp"

namespace ccopy {
namespace {

using tree::SharedFd;

constexpr std::size_t kBlock = 1 << 20;             // bytes per write: few, large writes
constexpr std::size_t kBatchFiles = 64;             // files per job, at most...
constexpr std::uint64_t kBatchBytes = 16ULL << 20;  // ...or this much data

struct Job {
  SharedFd parent;          // the directory that holds `index` (a directory job) or the batch
  std::uint32_t index = 0;  // a directory job: the directory
  std::uint32_t begin = 0, end = 0;  // a batch: positions in Context::children
  bool batch = false;
};

class Context {
 public:
  Context(const Manifest& m, std::uint64_t seed, const std::atomic<bool>* cancel,
          const std::string& root_path)
      : m_(m),
        seed_(seed),
        cancel_(cancel),
        umask_(sys::current_umask()),
        prefix_(root_path.empty() ? std::string() : root_path + "/") {
    index_children();
    fixup_.assign(m.entries.size(), 0);
  }

  void run(int root_fd, unsigned threads);
  Error link_all(int root_fd);
  Error fix_modes(int root_fd);
  [[nodiscard]] Error result() const { return first_; }

 private:
  void index_children();
  void work();
  void process(Job& job, std::vector<std::uint64_t>& buffer);
  void list_directory(const Job& job);
  void write_batch(const Job& job, std::vector<std::uint64_t>& buffer);
  Error make_entry(int dir, std::uint32_t index);
  Error make_directory(int dir, std::uint32_t index);
  Error write_file(int dir, std::uint32_t index, std::vector<std::uint64_t>& buffer);
  Error write_extent(int fd, std::uint32_t index, Extent extent, tree::Xoshiro256& random,
                     std::vector<std::uint64_t>& buffer);
  Error open_directory(int root_fd, std::uint32_t dir, sys::unique_fd& out);
  void fail(Error e);
  [[nodiscard]] bool stopping() const {
    return failed_.load(std::memory_order_relaxed) ||
           (cancel_ != nullptr && cancel_->load(std::memory_order_relaxed));
  }
  Error system_error(long rc, const char* what, std::uint32_t index) const {
    return Error::from_errno(static_cast<int>(-rc), std::string(what) + " " + prefix_ + m_.path(index));
  }
  [[nodiscard]] tree::CName name(std::uint32_t index) const {
    return tree::CName(m_.name(m_.entries[index]));
  }

  const Manifest& m_;
  const std::uint64_t seed_;
  const std::atomic<bool>* cancel_;
  const unsigned umask_;
  const std::string prefix_;  // the root's path and a slash, before entries' paths in messages
  std::vector<std::uint32_t> child_begin_, children_;
  std::vector<unsigned char> fixup_;  // directories whose mode is set in phase 3
  tree::WorkStack<Job> stack_;
  std::atomic<bool> failed_{false};
  std::mutex error_mutex_;
  Error first_;
};

void Context::index_children() {
  const std::size_t n = m_.entries.size();
  child_begin_.assign(n + 1, 0);
  for (std::size_t i = 1; i < n; ++i) ++child_begin_[m_.entries[i].parent + 1];
  for (std::size_t i = 0; i < n; ++i) child_begin_[i + 1] += child_begin_[i];
  children_.assign(n > 0 ? n - 1 : 0, 0);
  std::vector<std::uint32_t> next(child_begin_.begin(), child_begin_.end() - 1);
  for (std::size_t i = 1; i < n; ++i)
    children_[next[m_.entries[i].parent]++] = static_cast<std::uint32_t>(i);
}

void Context::fail(Error e) {
  {
    std::lock_guard lock(error_mutex_);
    if (first_.ok()) first_ = std::move(e);
  }
  failed_.store(true, std::memory_order_relaxed);
  stack_.stop();
}

void Context::run(int root_fd, unsigned threads) {
  const long fd = sys::open_directory_at(root_fd, ".", 0);
  if (fd < 0) return fail(Error::from_errno(static_cast<int>(-fd), "open the tree's root"));
  Job root;
  root.parent = std::make_shared<const sys::unique_fd>(static_cast<int>(fd));
  root.index = 0;
  stack_.push(std::move(root));
  tree::run_workers(std::max(threads, 1u), [this] { work(); });
}

void Context::work() {
  std::vector<std::uint64_t> buffer;
  try {
    buffer.resize(kBlock / 8);
  } catch (const std::bad_alloc&) {
    return fail(Error::from_errno(ENOMEM, "write the tree"));
  }
  Job job;
  while (stack_.pop(job)) {
    try {
      if (!stopping()) process(job, buffer);
    } catch (const std::bad_alloc&) {
      fail(Error::from_errno(ENOMEM, "write the tree"));
    }
    job = Job{};  // releases the directory before the stack may count the work as done
    stack_.done();
  }
}

void Context::process(Job& job, std::vector<std::uint64_t>& buffer) {
  if (job.batch)
    write_batch(job, buffer);
  else
    list_directory(job);
}

// A directory's job: open it (the root's job has it open already), create what is not a
// regular file, and push a job per subdirectory and per batch of files.
void Context::list_directory(const Job& job) {
  SharedFd self = job.parent;
  if (job.index != 0) {
    const long fd = sys::open_directory_at(job.parent->get(), name(job.index).get(), O_NOFOLLOW);
    if (fd < 0) return fail(system_error(fd, "open directory", job.index));
    self = std::make_shared<const sys::unique_fd>(static_cast<int>(fd));
  }
  const std::uint32_t first = child_begin_[job.index];
  const std::uint32_t last = child_begin_[job.index + 1];
  std::uint32_t batch_begin = first;
  std::size_t batch_files = 0;
  std::uint64_t batch_bytes = 0;
  auto flush = [&](std::uint32_t end) {
    if (batch_files > 0) {
      Job batch;
      batch.parent = self;
      batch.begin = batch_begin;
      batch.end = end;
      batch.batch = true;
      stack_.push(std::move(batch));
    }
    batch_begin = end;
    batch_files = 0;
    batch_bytes = 0;
  };
  for (std::uint32_t c = first; c < last; ++c) {
    if (stopping()) return;
    const std::uint32_t index = children_[c];
    const ManifestEntry& e = m_.entries[index];
    if (e.kind == EntryKind::regular) {
      if (batch_files == 0) batch_begin = c;
      ++batch_files;
      batch_bytes += e.data;
      if (batch_files == kBatchFiles || batch_bytes >= kBatchBytes) flush(c + 1);
      continue;
    }
    if (Error err = make_entry(self->get(), index)) return fail(std::move(err));
    if (e.kind == EntryKind::directory) {
      Job sub;
      sub.parent = self;
      sub.index = index;
      stack_.push(std::move(sub));
    }
  }
  flush(last);
}

void Context::write_batch(const Job& job, std::vector<std::uint64_t>& buffer) {
  for (std::uint32_t c = job.begin; c < job.end; ++c) {
    const std::uint32_t index = children_[c];
    if (m_.entries[index].kind != EntryKind::regular) continue;
    if (stopping()) return;
    if (Error e = write_file(job.parent->get(), index, buffer)) return fail(std::move(e));
  }
}

Error Context::make_entry(int dir, std::uint32_t index) {
  const ManifestEntry& e = m_.entries[index];
  switch (e.kind) {
    case EntryKind::directory:
      return make_directory(dir, index);
    case EntryKind::symlink: {
      const std::string target(m_.symlink_target(e));
      const long rc = sys::make_symlink_at(target.c_str(), dir, name(index).get());
      return rc < 0 ? system_error(rc, "symlink", index) : Error{};
    }
    case EntryKind::fifo: {
      long rc = sys::make_node_at(dir, name(index).get(), S_IFIFO | (e.mode & 07777u), 0);
      if (rc < 0) return system_error(rc, "mknod", index);
      // mknodat applies the umask; the manifest's mode is exact.
      if ((e.mode & umask_) != 0 || (e.mode & 07000) != 0)
        rc = sys::change_mode_at(dir, name(index).get(), e.mode & 07777u, 0);
      return rc < 0 ? system_error(rc, "chmod", index) : Error{};
    }
    case EntryKind::hardlink:  // phase 2
    case EntryKind::regular:   // batches
      return {};
  }
  return {};
}

Error Context::make_directory(int dir, std::uint32_t index) {
  const unsigned mode = m_.entries[index].mode & 07777u;
  const unsigned created = (mode | 0700u) & 0777u;
  long rc = sys::make_directory_at(dir, name(index).get(), created);
  if (rc < 0) return system_error(rc, "mkdir", index);
  // A umask that takes the owner's bits would leave a directory that cannot be filled.
  const bool owner_masked = (created & umask_ & 0700u) != 0;
  if (owner_masked) {
    rc = sys::change_mode_at(dir, name(index).get(), created, 0);
    if (rc < 0) return system_error(rc, "chmod", index);
  }
  const unsigned now = owner_masked ? created : created & ~umask_;
  fixup_[index] = now != mode;
  return {};
}

Error Context::write_file(int dir, std::uint32_t index, std::vector<std::uint64_t>& buffer) {
  const ManifestEntry& e = m_.entries[index];
  const unsigned mode = e.mode & 07777u;
  const long fd = sys::create_at(
      dir, name(index).get(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode & 0777u);
  if (fd < 0) return system_error(fd, "create", index);
  sys::unique_fd file(static_cast<int>(fd));
  tree::Xoshiro256 random(tree::file_stream_seed(seed_, index));
  const DataExtents extents = data_extents(e);
  std::uint64_t end = 0;
  for (unsigned i = 0; i < extents.count; ++i) {
    if (Error err = write_extent(file.get(), index, extents.extent[i], random, buffer)) return err;
    end = extents.extent[i].offset + extents.extent[i].length;
  }
  // A hole at the end (or a file that is all hole) gets its size without data.
  if (end < e.size) {
    const long rc = sys::truncate_fd(file.get(), e.size);
    if (rc < 0) return system_error(rc, "truncate", index);
  }
  if ((mode & umask_) != 0 || (mode & 07000) != 0) {
    const long rc = sys::change_mode(file.get(), mode);
    if (rc < 0) return system_error(rc, "chmod", index);
  }
  const long rc = sys::close(file.release());
  return rc < 0 ? system_error(rc, "close", index) : Error{};
}

// Writes `extent` with the file's stream, a block at a time; each block is generated whole
// (8 bytes a word), so a flat file holds exactly what src/fileset.cpp would have written.
Error Context::write_extent(int fd, std::uint32_t index, Extent extent, tree::Xoshiro256& random,
                            std::vector<std::uint64_t>& buffer) {
  const char* bytes = reinterpret_cast<const char*>(buffer.data());
  for (std::uint64_t done = 0; done < extent.length;) {
    if (cancel_ != nullptr && cancel_->load(std::memory_order_relaxed))
      return Error::cancelled("write the tree");
    const std::size_t want =
        static_cast<std::size_t>(std::min<std::uint64_t>(extent.length - done, kBlock));
    for (std::size_t w = 0; w < (want + 7) / 8; ++w) buffer[w] = random.next();
    for (std::size_t written = 0; written < want;) {
      const long n =
          sys::pwrite(fd, bytes + written, want - written, extent.offset + done + written);
      if (n == -EINTR || n == -EAGAIN) continue;
      if (n < 0) return system_error(n, "write", index);
      if (n == 0) return system_error(-EIO, "write", index);
      written += static_cast<std::size_t>(n);
    }
    done += want;
  }
  return {};
}

// Opens directory `dir` by walking its names from the root: for the few entries (hardlinks,
// modes) that are made after the parallel phase, when no descriptor of theirs is held.
Error Context::open_directory(int root_fd, std::uint32_t dir, sys::unique_fd& out) {
  std::vector<std::uint32_t> chain;
  for (std::uint32_t d = dir; d != 0; d = m_.entries[d].parent) chain.push_back(d);
  long fd = sys::open_directory_at(root_fd, ".", 0);
  if (fd < 0) return Error::from_errno(static_cast<int>(-fd), "open the tree's root");
  out.reset(static_cast<int>(fd));
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    fd = sys::open_directory_at(out.get(), name(*it).get(), O_NOFOLLOW);
    if (fd < 0) return system_error(fd, "open directory", *it);
    out.reset(static_cast<int>(fd));
  }
  return {};
}

Error Context::link_all(int root_fd) {
  for (std::uint32_t i = 1; i < m_.entries.size(); ++i) {
    const ManifestEntry& e = m_.entries[i];
    if (e.kind != EntryKind::hardlink) continue;
    if (stopping()) return Error::cancelled("write the tree");
    sys::unique_fd from, to;
    if (Error err = open_directory(root_fd, m_.entries[e.target].parent, from)) return err;
    if (Error err = open_directory(root_fd, e.parent, to)) return err;
    const long rc = sys::make_link_at(from.get(), name(e.target).get(), to.get(), name(i).get(), 0);
    if (rc < 0) return system_error(rc, "link", i);
  }
  return {};
}

// Phase 3: a post-order walk over the directories to fix and those above them, so that each
// gets its mode after everything below it is complete.
Error Context::fix_modes(int root_fd) {
  const std::size_t n = m_.entries.size();
  std::vector<unsigned char> on_path(fixup_);
  for (std::size_t i = n; i-- > 1;)
    if (on_path[i]) on_path[m_.entries[i].parent] = 1;
  if (!on_path[0]) return {};
  struct Frame {
    sys::unique_fd fd;
    std::uint32_t index;
    std::uint32_t next;  // position in children_
  };
  std::vector<Frame> stack;
  sys::unique_fd root;
  if (Error err = open_directory(root_fd, 0, root)) return err;
  stack.push_back(Frame{std::move(root), 0, child_begin_[0]});
  while (!stack.empty()) {
    Frame& top = stack.back();
    if (top.next == child_begin_[top.index + 1]) {
      if (fixup_[top.index]) {
        const long rc = sys::change_mode(top.fd.get(), m_.entries[top.index].mode & 07777u);
        if (rc < 0) return system_error(rc, "chmod", top.index);
      }
      stack.pop_back();
      continue;
    }
    const std::uint32_t child = children_[top.next++];
    if (m_.entries[child].kind != EntryKind::directory || !on_path[child]) continue;
    const long fd = sys::open_directory_at(top.fd.get(), name(child).get(), O_NOFOLLOW);
    if (fd < 0) return system_error(fd, "open directory", child);
    stack.push_back(Frame{sys::unique_fd(static_cast<int>(fd)), child, child_begin_[child]});
  }
  return {};
}

}  // namespace

Error write_tree(const Manifest& manifest, int root_fd, std::uint64_t seed, unsigned threads,
                 const std::atomic<bool>* cancel, const std::string& root_path) {
  try {
    // A manifest from elsewhere than plan_tree must hold what the phases rely on (parents first).
    if (Error e = tree::check_manifest(manifest)) return e;
    Context context(manifest, seed, cancel, root_path);
    context.run(root_fd, threads);
    if (Error e = context.result()) return e;
    if (cancel != nullptr && cancel->load()) return Error::cancelled("write the tree");
    if (Error e = context.link_all(root_fd)) return e;
    return context.fix_modes(root_fd);
  } catch (const std::bad_alloc&) {
    return Error::from_errno(ENOMEM, "write the tree");
  }
}

}  // namespace ccopy
