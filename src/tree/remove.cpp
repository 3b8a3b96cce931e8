// remove_tree(): a tree removed in parallel, depth first, relative to descriptors.
//
// A directory's job opens it (first making it readable, writable and searchable by its owner
// when it is not: a 0500 or 0000 directory cannot be emptied otherwise), unlinks what is not a
// directory in batches shared with the other workers, and pushes a job per subdirectory. Each
// directory is a Node that counts the work still to do below it; the job that brings the count
// to zero closes the directory and removes it from its parent, which may complete the parent in
// turn, and so on up: post-order without recursion.
#include <dirent.h>
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
#include "tree/directory.hpp"
#include "tree/parallel.hpp"

namespace ccopy {
namespace {

constexpr std::size_t kBatch = 256;

struct Node {
  std::shared_ptr<Node> parent;  // null for the top: its parent is the caller's descriptor
  std::string name;
  sys::unique_fd fd;
  std::atomic<std::size_t> pending{1};  // jobs below it still to finish, and its own listing
};

struct Job {
  std::shared_ptr<Node> parent;    // a directory job: where it is; a batch: the directory emptied
  std::string name;                // a directory job: its name
  std::vector<std::string> names;  // a batch: the entries to unlink
  bool batch = false;
};

class Remover {
 public:
  explicit Remover(int top_parent) : top_parent_(top_parent) {}
  void run(const char* name, unsigned threads);
  [[nodiscard]] Error result() {
    std::lock_guard lock(mutex_);
    return error_;
  }

 private:
  void work();
  void remove_directory(const Job& job);
  void unlink_batch(const Job& job);
  Error open_for_removal(int parent, const std::string& name, const Node* where,
                         sys::unique_fd& out);
  void complete(std::shared_ptr<Node> node);
  void fail(Error e);
  std::string path_of(const Node* node, std::string_view name = {}) const;
  int fd_of(const Node* node) const { return node == nullptr ? top_parent_ : node->fd.get(); }
  [[nodiscard]] bool failed() const { return failed_.load(std::memory_order_relaxed); }

  const int top_parent_;
  tree::WorkStack<Job> stack_;
  std::atomic<bool> failed_{false};
  std::mutex mutex_;
  Error error_;
};

std::string Remover::path_of(const Node* node, std::string_view name) const {
  std::vector<const std::string*> parts;
  for (const Node* n = node; n != nullptr; n = n->parent.get()) parts.push_back(&n->name);
  std::string path;
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) path = tree::join_path(path, **it);
  return name.empty() ? path : tree::join_path(path, name);
}

void Remover::fail(Error e) {
  {
    std::lock_guard lock(mutex_);
    if (error_.ok()) error_ = std::move(e);
  }
  failed_.store(true, std::memory_order_relaxed);
  stack_.stop();
}

void Remover::run(const char* name, unsigned threads) {
  Job top;
  top.name = name;
  stack_.push(std::move(top));
  tree::run_workers(std::max(threads, 1u), [this] { work(); });
}

void Remover::work() {
  Job job;
  while (stack_.pop(job)) {
    try {
      if (!failed()) {
        if (job.batch)
          unlink_batch(job);
        else
          remove_directory(job);
      }
    } catch (const std::bad_alloc&) {
      fail(Error::from_errno(ENOMEM, "remove the tree"));
    }
    job = Job{};
    stack_.done();
  }
}

// Opens a directory to empty it. One without read, write or search permission for its owner
// is given them first: by name when it cannot even be opened, else through its descriptor.
Error Remover::open_for_removal(int parent, const std::string& name, const Node* where,
                                sys::unique_fd& out) {
  long fd = sys::open_directory_at(parent, name.c_str(), O_NOFOLLOW);
  if (fd == -EACCES) {
    const long rc = sys::change_mode_at(parent, name.c_str(), 0700, 0);
    if (rc < 0) return Error::from_errno(static_cast<int>(-rc), "chmod " + path_of(where, name));
    fd = sys::open_directory_at(parent, name.c_str(), O_NOFOLLOW);
  }
  if (fd < 0)
    return Error::from_errno(static_cast<int>(-fd), "open directory " + path_of(where, name));
  out.reset(static_cast<int>(fd));
  struct ::stat st {};
  long rc = sys::stat_fd(out.get(), st);
  if (rc == 0 && (st.st_mode & 0700) != 0700)
    rc = sys::change_mode(out.get(), (st.st_mode & 07777) | 0700);
  if (rc < 0) return Error::from_errno(static_cast<int>(-rc), "chmod " + path_of(where, name));
  return {};
}

void Remover::remove_directory(const Job& job) {
  const Node* where = job.parent.get();
  auto node = std::make_shared<Node>();
  node->parent = job.parent;
  node->name = job.name;
  if (Error e = open_for_removal(fd_of(where), job.name, where, node->fd))
    return fail(std::move(e));
  std::vector<char> buffer;
  std::vector<std::string> files;
  auto flush = [&] {
    if (files.empty()) return;
    node->pending.fetch_add(1);
    Job batch;
    batch.parent = node;
    batch.names.swap(files);
    batch.batch = true;
    stack_.push(std::move(batch));
  };
  const long rc = tree::for_each_entry(node->fd.get(), buffer, [&](const tree::ListedEntry& e) {
    if (e.type == DT_DIR) {
      node->pending.fetch_add(1);
      Job sub;
      sub.parent = node;
      sub.name = std::string(e.name);
      stack_.push(std::move(sub));
    } else {
      files.emplace_back(e.name);
      if (files.size() == kBatch) flush();
    }
    return !failed();
  });
  if (rc < 0)
    return fail(Error::from_errno(static_cast<int>(-rc), "read directory " + path_of(node.get())));
  flush();
  complete(std::move(node));
}

// Unlinks a batch; an entry the listing could not type (DT_UNKNOWN) that turns out to be a
// directory (EISDIR) becomes a directory job.
void Remover::unlink_batch(const Job& job) {
  const std::shared_ptr<Node>& node = job.parent;
  for (const std::string& name : job.names) {
    if (failed()) return;
    const long rc = sys::remove_at(node->fd.get(), name.c_str(), 0);
    if (rc == 0 || rc == -ENOENT) continue;
    if (rc == -EISDIR) {
      node->pending.fetch_add(1);
      Job sub;
      sub.parent = node;
      sub.name = name;
      stack_.push(std::move(sub));
      continue;
    }
    return fail(Error::from_errno(static_cast<int>(-rc), "remove " + path_of(node.get(), name)));
  }
  complete(node);
}

// One piece of the work under `node` is done; the last one removes the directory, and so on up.
void Remover::complete(std::shared_ptr<Node> node) {
  while (node != nullptr && node->pending.fetch_sub(1) == 1) {
    if (failed()) return;
    node->fd.reset();
    const long rc = sys::remove_at(fd_of(node->parent.get()), node->name.c_str(), AT_REMOVEDIR);
    if (rc < 0 && rc != -ENOENT)
      return fail(Error::from_errno(static_cast<int>(-rc), "remove " + path_of(node.get())));
    node = node->parent;
  }
}

}  // namespace

Error remove_tree(int parent_fd, const char* name, unsigned threads) {
  struct ::stat st {};
  const long rc = sys::stat_at(parent_fd, name, st, AT_SYMLINK_NOFOLLOW);
  if (rc == -ENOENT) return {};
  if (rc < 0) return Error::from_errno(static_cast<int>(-rc), std::string("remove ") + name);
  if (!S_ISDIR(st.st_mode)) {
    const long gone = sys::remove_at(parent_fd, name, 0);
    if (gone < 0 && gone != -ENOENT)
      return Error::from_errno(static_cast<int>(-gone), std::string("remove ") + name);
    return {};
  }
  try {
    Remover remover(parent_fd);
    remover.run(name, threads);
    return remover.result();
  } catch (const std::bad_alloc&) {
    return Error::from_errno(ENOMEM, std::string("remove ") + name);
  }
}

}  // namespace ccopy
