#include "fault_support.hpp"

#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <sstream>

namespace ccopy::testing {
namespace {

// libuv makes a process-wide signal pipe (two descriptors, kept for the life of the process)
// at its first loop. Making it here, with a loop opened and closed at once, keeps it out of
// the descriptors a test counts around a copy, and starts no thread: the tests fork after
// this, and ThreadSanitizer refuses new threads after a multi-threaded fork.
void make_libuv_signal_pipe() {
  uv_loop_t loop;
  if (uv_loop_init(&loop) == 0) (void)uv_loop_close(&loop);
}

// What the copy holds of every regular file of the source, and what else it holds.
struct CopyOnDisk {
  std::vector<ChildFile> files;
  std::vector<std::string> extra;  ///< regular files of the copy that the source lacks
};

CopyOnDisk look_at_copy(const std::string& source, const std::string& destination) {
  CopyOnDisk out;
  const std::vector<std::string> sources = files_below(source);
  for (const std::string& path : sources) {
    ChildFile file;
    file.path = path;
    std::error_code ec;
    file.copied = std::filesystem::is_regular_file(
        std::filesystem::symlink_status(destination + "/" + path, ec));
    if (file.copied) {
      VerifyOptions options;
      options.threads = 1;
      VerifyResult verdict;
      file.verified =
          !verify_copy(source + "/" + path, destination + "/" + path, options, verdict) &&
          verdict.ok();
    }
    out.files.push_back(std::move(file));
  }
  const std::set<std::string> known(sources.begin(), sources.end());
  for (const std::string& path : files_below(destination))
    if (known.count(path) == 0) out.extra.push_back(path);
  return out;
}

bool below(const std::string& path, const std::string& root) {
  return path == root || path.rfind(root + "/", 0) == 0;
}

// The checks of expect_honest_result(), on what was found on disk and what the result said.
std::size_t check_honest(const std::string& source, const std::string& destination,
                         const CopyOnDisk& disk, const std::vector<ChildError>& errors,
                         std::uint64_t counted, bool stopped) {
  for (const ChildError& e : errors) {
    EXPECT_TRUE(below(e.path, source))
        << "'" << e.reason << "' names " << e.path << ", not an entry of " << source;
    if (!e.destination.empty()) {
      EXPECT_TRUE(below(e.destination, destination))
          << "'" << e.reason << "' names " << e.destination << ", not an entry of " << destination;
    }
  }
  for (const std::string& path : disk.extra)
    ADD_FAILURE() << path << " is in the copy but not in the source (a temporary left behind?)";
  std::size_t found = 0;
  for (const ChildFile& f : disk.files) {
    if (f.copied) {
      ++found;
      EXPECT_TRUE(f.verified) << f.path << " is in the copy but differs from its source";
      continue;
    }
    const std::string full = source + "/" + f.path;
    const bool named = std::any_of(errors.begin(), errors.end(),
                                   [&](const ChildError& e) { return below(full, e.path); });
    EXPECT_TRUE(named || stopped) << f.path << " is missing from the copy, and no error says why";
  }
  EXPECT_EQ(found, counted) << "the files the result counts as copied are not those in the copy";
  return found;
}

std::vector<ChildError> errors_of(const CopyResult& result) {
  std::vector<ChildError> errors;
  for (const CopyError& e : result.errors)
    errors.push_back({e.path, e.destination, e.operation, e.code, e.path + ": " + e.reason()});
  return errors;
}

// One value per line, so that messages with spaces survive; a newline in one would become a
// space.
std::string line(std::string text) {
  std::replace(text.begin(), text.end(), '\n', ' ');
  return text + '\n';
}

std::string serialize(const CopyResult& result, const CopyOnDisk& disk, long leaked) {
  std::ostringstream out;
  out << leaked << '\n'
      << line(result.fatal ? result.fatal.message() : "") << result.fatal.code << '\n'
      << result.cancelled << '\n'
      << result.copied.files + result.copied.hardlinks << '\n'
      << result.failed << '\n'
      << result.errors.size() << '\n';
  for (const ChildError& e : errors_of(result))
    out << line(e.path) << line(e.destination) << line(e.operation) << e.code << '\n'
        << line(e.reason);
  out << result.notes.size() << '\n';
  for (const std::string& note : result.notes) out << line(note);
  out << disk.files.size() << '\n';
  for (const ChildFile& f : disk.files)
    out << line(f.path) << f.copied << '\n' << f.verified << '\n';
  out << disk.extra.size() << '\n';
  for (const std::string& path : disk.extra) out << line(path);
  return out.str();
}

struct Reader {
  std::istringstream in;
  std::string text() {
    std::string s;
    std::getline(in, s);
    return s;
  }
  long long number() {
    const std::string s = text();
    return s.empty() ? 0 : std::stoll(s);
  }
};

ChildReport deserialize(const std::string& text) {
  ChildReport report;
  Reader r{std::istringstream(text)};
  const std::string first = r.text();
  if (first.rfind("skip:", 0) == 0) {
    report.skip = first.substr(5);
    return report;
  }
  if (first.empty()) return report;
  report.descriptors_leaked = std::stol(first);
  report.fatal = r.text();
  report.fatal_code = static_cast<int>(r.number());
  report.cancelled = r.number() != 0;
  report.files_copied = static_cast<std::uint64_t>(r.number());
  report.failed = static_cast<std::uint64_t>(r.number());
  for (long long n = r.number(); n > 0; --n) {
    ChildError e;
    e.path = r.text();
    e.destination = r.text();
    e.operation = r.text();
    e.code = static_cast<int>(r.number());
    e.reason = r.text();
    report.errors.push_back(std::move(e));
  }
  for (long long n = r.number(); n > 0; --n) report.notes.push_back(r.text());
  for (long long n = r.number(); n > 0; --n) {
    ChildFile f;
    f.path = r.text();
    f.copied = r.number() != 0;
    f.verified = r.number() != 0;
    report.files.push_back(std::move(f));
  }
  for (long long n = r.number(); n > 0; --n) report.extra.push_back(r.text());
  return report;
}

void write_all(int fd, const std::string& text) {
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n <= 0) return;
    done += static_cast<std::size_t>(n);
  }
}

}  // namespace

std::vector<std::string> every_engine() {
  std::vector<std::string> names;
  for (const EngineInfo& info : engine_registry()) names.emplace_back(info.name);
  return names;
}

std::unique_ptr<Engine> make_engine_or_skip(const std::string& name) {
  const EngineInfo* info = find_engine(name);
  if (info == nullptr) return nullptr;
  if (!info->probe().available) return nullptr;
  if (name == "uv") make_libuv_signal_pipe();
  return info->make();
}

bool moves_data(sys::Op op) {
  return op == sys::Op::read || op == sys::Op::write || op == sys::Op::copy_range ||
         op == sys::Op::splice_in || op == sys::Op::splice_out;
}

std::vector<std::string> files_below(const std::string& root) {
  std::vector<std::string> files;
  std::error_code ec;
  auto it = std::filesystem::recursive_directory_iterator(
      root, std::filesystem::directory_options::skip_permission_denied, ec);
  for (; !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file(ec) && !it->is_symlink(ec))
      files.push_back(std::filesystem::relative(it->path(), root, ec).string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

void EngineUnderFaults::start(const std::string& name, std::uint64_t seed) {
  seed_ = seed;
  engine_ = make_engine_or_skip(name);
  if (!engine_) GTEST_SKIP() << name << " cannot run here";
}

std::unique_ptr<TreeFixture> EngineUnderFaults::generate(std::uint64_t count,
                                                         std::uint64_t size) const {
  TreeRecipe recipe;
  recipe.files = count;
  recipe.file_size = size;
  recipe.seed = seed_;
  auto tree = std::make_unique<TreeFixture>(recipe);
  EXPECT_TRUE(tree->ok()) << tree->error();
  return tree;
}

CopyResult EngineUnderFaults::expect_verified_copy(const TreeFixture& tree, sys::FaultHook hook,
                                                   void* context, const EngineOptions& options,
                                                   const CopyOptions& copy) {
  const std::size_t fds_before = open_descriptors();
  CopyResult result;
  {
    ScopedFaultHook faults(hook, context);
    result = tree.copy(*engine_, options, copy);
  }
  EXPECT_EQ(open_descriptors(), fds_before) << "descriptors leaked";
  EXPECT_TRUE(result.ok()) << first_error(result);
  std::uint64_t files = 0, bytes = 0;
  for (const ManifestEntry& e : tree.manifest().entries) {
    if (e.kind != EntryKind::regular) continue;
    ++files;
    bytes += e.size;
  }
  EXPECT_EQ(result.copied.files, files);
  if (tree.manifest().entries.size() == files + 1) {  // flat, dense: every byte is data
    EXPECT_EQ(result.copied.bytes, bytes);
  }
  const VerifyResult verdict = tree.verify();
  EXPECT_TRUE(verdict.ok()) << verdict.first;
  return result;
}

std::size_t expect_honest_result(const std::string& source, const std::string& destination,
                                 const CopyResult& result) {
  return check_honest(source, destination, look_at_copy(source, destination), errors_of(result),
                      result.copied.files + result.copied.hardlinks,
                      result.fatal || result.cancelled);
}

std::size_t ChildReport::failed_with(int code) const {
  std::size_t n = 0;
  for (const ChildError& e : errors) n += e.code == code ? 1 : 0;
  return n;
}

const ChildError* ChildReport::error_of(const std::string& source_root,
                                        const std::string& path) const {
  for (const ChildError& e : errors)
    if (e.path == source_root + "/" + path) return &e;
  return nullptr;
}

ChildReport copy_in_child(Engine& engine, const std::string& source, const std::string& destination,
                          const EngineOptions& options, const std::function<std::string()>& prepare,
                          const std::function<void()>& after_copy) {
  int pipe_fds[2];
  if (::pipe(pipe_fds) < 0) return {};
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(pipe_fds[0]);
    const std::string skip = prepare();
    if (!skip.empty()) {
      write_all(pipe_fds[1], "skip:" + skip + "\n");
      ::_exit(0);
    }
    // Counted with what the system says (-EMFILE included), not what a directory listing finds.
    const long before = sys::open_descriptor_count();
    CopyObserver quiet;
    const CopyResult result =
        copy_tree({{source, destination}}, engine, options, benchmark_options(), quiet);
    const long leaked = sys::open_descriptor_count() - before;
    if (after_copy) after_copy();
    write_all(pipe_fds[1], serialize(result, look_at_copy(source, destination), leaked));
    ::_exit(0);
  }
  ::close(pipe_fds[1]);
  std::string text;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(pipe_fds[0], buffer, sizeof buffer);
    if (n > 0)
      text.append(buffer, static_cast<std::size_t>(n));
    else if (n == 0 || errno != EINTR)
      break;
  }
  ::close(pipe_fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  ChildReport report = deserialize(text);
  report.exited_cleanly = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  return report;
}

void expect_honest(const std::string& source, const std::string& destination,
                   const ChildReport& report) {
  ASSERT_TRUE(report.exited_cleanly) << "the child did not exit cleanly";
  EXPECT_EQ(report.descriptors_leaked, 0) << "descriptors leaked";
  CopyOnDisk disk;
  disk.files = report.files;
  disk.extra = report.extra;
  check_honest(source, destination, disk, report.errors, report.files_copied,
               !report.fatal.empty() || report.cancelled);
}

}  // namespace ccopy::testing
