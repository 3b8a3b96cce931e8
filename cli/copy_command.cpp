#include "copy_command.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <fmt/format.h>
#include <fstream>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "build_info.hpp"
#include "ccopy/size.hpp"
#include "ccopy/tree.hpp"
#include "progress.hpp"
#include "quote.hpp"
#include "sys/sys.hpp"

namespace ccopy::cli {
namespace {

using Clock = std::chrono::steady_clock;

bool is_directory(const std::string& path) {
  struct ::stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// Why `path` cannot be the directory several sources go into, in cp 9's words ("No such file
// or directory", "Not a directory"), or "" when it is a directory.
std::string not_a_directory(const std::string& path) {
  struct ::stat st {};
  if (::stat(path.c_str(), &st) != 0) return sys::error_text(errno);
  return S_ISDIR(st.st_mode) ? std::string() : sys::error_text(ENOTDIR);
}

bool exists(const std::string& path) {
  struct ::stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

// The last component of a path, as cp names a copy inside a directory: "a/b/" -> "b".
std::string base_name(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  const std::size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string inside(const std::string& directory, const std::string& source) {
  std::string path = directory;
  if (path.empty() || path.back() != '/') path += '/';
  return path + base_name(source);
}

// stderr, shared by the progress line, the errors and the summary: each writer takes the lock,
// so a message never lands in the middle of the progress line.
class Terminal {
 public:
  explicit Terminal(bool progress) : progress_(progress), tty_(::isatty(STDERR_FILENO) == 1) {}

  void message(const std::string& line) {
    std::lock_guard lock(mutex_);
    erase_locked();
    std::fputs(line.c_str(), stderr);
    std::fputc('\n', stderr);
    std::fflush(stderr);
    if (!last_.empty()) draw_locked(last_);
  }

  void progress(const std::string& line) {
    std::lock_guard lock(mutex_);
    last_ = line;
    draw_locked(line);
  }

  void finish() {
    std::lock_guard lock(mutex_);
    erase_locked();
    last_.clear();
  }

  [[nodiscard]] bool shows_progress() const { return progress_; }
  [[nodiscard]] bool on_terminal() const { return tty_; }

 private:
  void draw_locked(const std::string& line) {
    if (!progress_) return;
    if (tty_) {
      std::fprintf(stderr, "\r\033[K%s", line.c_str());
      drawn_ = true;
    } else {
      std::fprintf(stderr, "progress: %s\n", line.c_str());
    }
    std::fflush(stderr);
  }

  void erase_locked() {
    if (!drawn_) return;
    std::fputs("\r\033[K", stderr);
    drawn_ = false;
  }

  std::mutex mutex_;
  bool progress_;
  bool tty_;
  bool drawn_ = false;
  std::string last_;
};

// What the user sees while the copy runs: errors as they happen, -v lines on stdout.
class Reporter final : public CopyObserver {
 public:
  Reporter(Terminal& terminal, const CopyCommand& command) : terminal_(terminal), command_(command) {}

  void copied(const CopiedEntry& entry) override {
    if (!command_.verbose) return;
    std::string line;
    if (command_.options.dry_run && entry.skipped)
      line = fmt::format("would copy {} -> {}", quote(entry.source), quote(entry.destination));
    else if (entry.skipped)
      line = fmt::format("skipped {}", quote(entry.destination));
    else
      line = fmt::format("{} -> {}{}", quote(entry.source), quote(entry.destination),
                         entry.reflinked ? " (reflinked)" : "");
    std::lock_guard lock(stdout_mutex_);
    std::fputs(line.c_str(), stdout);
    std::fputc('\n', stdout);
  }

  void failed(const CopyError& error) override {
    terminal_.message(fmt::format("concurrent_copy: {}", describe(error)));
  }

  // Notes (a file system that cannot clone, say) are for the curious: shown with -v.
  void note(std::string_view text) override {
    if (command_.verbose) terminal_.message(fmt::format("concurrent_copy: note: {}", text));
  }

  // "cannot copy 'PATH': REASON", with paths quoted as cp quotes them.
  static std::string describe(const CopyError& error) {
    // cp's own wording, with cp's quoting of both names.
    if (error.code == 0 && error.operation == "into itself")
      return fmt::format("cannot copy a directory, {}, into itself, {}", quote(error.path),
                         quote(error.destination));
    if (error.code == 0 && error.operation == "same file")
      return fmt::format("{} and {} are the same file", quote(error.path), quote(error.destination));
    if (error.operation == "copy" && error.code == 0) return error.detail;
    std::string reason = error.operation;
    if (!error.destination.empty()) reason += " " + quote(error.destination);
    reason += ": ";
    reason += error.code != 0 ? sys::error_text(error.code) : error.detail;
    return fmt::format("cannot copy {}: {}", quote(error.path), reason);
  }

 private:
  Terminal& terminal_;
  const CopyCommand& command_;
  std::mutex stdout_mutex_;
};

// Redraws the progress line a few times a second (every few seconds when stderr is not a
// terminal) from the copy's counters.
class ProgressTicker {
 public:
  ProgressTicker(Terminal& terminal, const CopyProgress& counters)
      : terminal_(terminal), counters_(counters), start_(Clock::now()) {
    if (!terminal_.shows_progress()) return;
    try {
      thread_ = std::thread([this] { tick(); });
    } catch (const std::system_error&) {
      // No thread for the progress line: the copy goes on without it.
    }
  }
  ProgressTicker(const ProgressTicker&) = delete;
  ProgressTicker& operator=(const ProgressTicker&) = delete;
  ~ProgressTicker() { stop(); }

  // Off a terminal (a log, mpirun's forwarding), one last line gives the final counts, however
  // short the copy was; on one, the line is erased for the summary.
  void stop() {
    {
      std::lock_guard lock(mutex_);
      if (stopped_) return;
      stopped_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
    if (terminal_.shows_progress() && !terminal_.on_terminal()) terminal_.progress(line());
    terminal_.finish();
  }

 private:
  std::string line() const {
    const double seconds = std::chrono::duration<double>(Clock::now() - start_).count();
    const std::uint64_t bytes = counters_.bytes_done.load();
    const std::uint64_t files = counters_.files_done.load();
    const std::uint64_t total_bytes = counters_.bytes_found.load();
    const std::uint64_t total_files = counters_.files_found.load();
    const bool known = counters_.walk_done.load();
    const double rate = seconds > 0 ? static_cast<double>(bytes) / seconds : 0;
    std::string text = fmt::format("{} of {}{}, {} of {}{} files | {}/s", format_bytes(bytes),
                                   format_bytes(total_bytes), known ? "" : "+", files, total_files,
                                   known ? "" : "+", format_bytes(static_cast<std::uint64_t>(rate)));
    if (known && rate > 0 && total_bytes > bytes) {
      const auto left = static_cast<long>(static_cast<double>(total_bytes - bytes) / rate);
      text += fmt::format(", ~{} left", format_clock(std::chrono::seconds(left)));
    }
    if (const std::uint64_t failures = counters_.failures.load(); failures > 0)
      text += fmt::format(" | {} failed", failures);
    return text;
  }

  void tick() {
    const auto period = terminal_.on_terminal() ? std::chrono::milliseconds(200)
                                                : std::chrono::milliseconds(5000);
    std::unique_lock lock(mutex_);
    while (!wake_.wait_for(lock, period, [this] { return stopped_; })) terminal_.progress(line());
  }

  Terminal& terminal_;
  const CopyProgress& counters_;
  Clock::time_point start_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopped_ = false;
  std::thread thread_;
};

std::string summary(const CopyResult& r, double seconds) {
  const CopyCounts& c = r.copied;
  std::string text = fmt::format("copied {} file{} ({})", c.files, c.files == 1 ? "" : "s",
                                 format_bytes(c.bytes));
  if (c.directories > 0) text += fmt::format(", {} director{}", c.directories, c.directories == 1 ? "y" : "ies");
  if (c.symlinks > 0) text += fmt::format(", {} symlink{}", c.symlinks, c.symlinks == 1 ? "" : "s");
  if (c.hardlinks > 0) text += fmt::format(", {} hardlink{}", c.hardlinks, c.hardlinks == 1 ? "" : "s");
  if (c.specials > 0) text += fmt::format(", {} special file{}", c.specials, c.specials == 1 ? "" : "s");
  if (c.reflinked > 0) text += fmt::format("; {} of the files reflinked", c.reflinked);
  if (c.skipped > 0) text += fmt::format("; {} kept as they were", c.skipped);
  text += fmt::format(" in {:.2f} s", seconds);
  if (seconds > 0)
    text += fmt::format(": {}/s, {:.0f} files/s",
                        format_bytes(static_cast<std::uint64_t>(static_cast<double>(c.bytes) / seconds)),
                        static_cast<double>(c.files) / seconds);
  return text;
}

nlohmann::ordered_json json_summary(const CopyCommand& command, const std::vector<CopyRoot>& roots,
                                    const std::string& engine, const std::string& reason,
                                    const CopyResult& r, double seconds, int verified,
                                    std::uint64_t differences, int exit_code) {
  using json = nlohmann::ordered_json;
  json root_list = json::array();
  for (const CopyRoot& root : roots)
    root_list.push_back({{"source", escape_name(root.source)},
                         {"destination", escape_name(root.destination)}});
  json errors = json::array();
  for (const CopyError& e : r.errors)
    errors.push_back({{"path", escape_name(e.path)},
                      {"destination", e.destination.empty() ? json(nullptr) : json(escape_name(e.destination))},
                      {"operation", e.operation},
                      {"errno", e.code != 0 ? json(e.code) : json(nullptr)},
                      {"reason", escape_name(e.code != 0 ? sys::error_text(e.code) : e.detail)}});
  const CopyCounts& c = r.copied;
  return {{"program", "concurrent_copy copy"},
          {"version", build::version},
          {"git_commit", build::git_commit},
          {"engine", engine},
          {"engine_reason", reason},
          {"dry_run", command.options.dry_run},
          {"roots", root_list},
          {"copied",
           {{"files", c.files},
            {"directories", c.directories},
            {"symlinks", c.symlinks},
            {"hardlinks", c.hardlinks},
            {"specials", c.specials},
            {"bytes", c.bytes},
            {"reflinked", c.reflinked},
            {"kept", c.skipped}}},
          {"failed", r.failed},
          {"errors", errors},
          {"errors_kept", r.errors.size()},
          {"notes", r.notes},
          {"seconds", seconds},
          {"bytes_per_second", seconds > 0 ? static_cast<double>(c.bytes) / seconds : 0.0},
          {"files_per_second", seconds > 0 ? static_cast<double>(c.files) / seconds : 0.0},
          {"verified", verified < 0 ? json(nullptr) : json(verified == 1)},
          {"differences", differences},
          {"interrupted", r.cancelled},
          {"stopped", r.fatal ? json(r.fatal.message()) : json(nullptr)},
          {"exit_code", exit_code}};
}

bool write_json(const std::string& path, const nlohmann::ordered_json& doc, Terminal& terminal) {
  const std::string text = doc.dump(2) + "\n";
  if (path == "-") {
    std::fwrite(text.data(), 1, text.size(), stdout);
    if (std::fflush(stdout) == 0 && !std::ferror(stdout)) return true;
    terminal.message(fmt::format("concurrent_copy: cannot write --json to stdout: {}",
                                 sys::error_text(errno)));
    return false;
  }
  errno = 0;
  std::ofstream file(path, std::ios::out | std::ios::trunc);
  if (file) {
    file << text;
    file.close();
  }
  if (file) return true;
  terminal.message(fmt::format("concurrent_copy: cannot write --json {}: {}", quote(path),
                               errno != 0 ? sys::error_text(errno) : std::string("write failed")));
  return false;
}

// Compares every root's copy with its source (--verify): what was kept as it was (-n, -u) and
// what could not be read is left out.
// `interrupted` is set when the verification was cancelled (the count is then of what it saw).
std::uint64_t verify_roots(const CopyCommand& command, const std::vector<CopyRoot>& roots,
                           const CopyFunctions& functions, Terminal& terminal, bool& interrupted) {
  VerifyOptions options;
  const Preserve& p = command.options.preserve;
  options.mode = p.mode;
  options.links = p.links;
  options.holes = command.options.sparse != Sparse::never;
  options.times = p.timestamps;
  options.ownership = p.ownership && ::geteuid() == 0;
  options.xattrs = p.xattrs;
  options.extra_allowed = true;
  options.follow_root = command.options.dereference || command.options.dereference_roots;
  std::uint64_t differences = 0;
  for (const CopyRoot& root : roots) {
    VerifyResult verdict;
    if (Error e = functions.verify(root.source, root.destination, options, verdict)) {
      if (e.cancelled()) {
        interrupted = true;
        break;
      }
      terminal.message(fmt::format("concurrent_copy: cannot verify {}: {}", quote(root.destination),
                                   e.message()));
      ++differences;
      continue;
    }
    if (!verdict.ok()) {
      terminal.message(fmt::format("concurrent_copy: {} differs from {}: {} ({} entr{})",
                                   quote(root.destination), quote(root.source), verdict.first,
                                   verdict.differences,
                                   verdict.differences == 1 ? "y differs" : "ies differ"));
      differences += verdict.differences;
    }
  }
  return differences;
}

}  // namespace

std::string resolve_roots(const CopyCommand& command, std::vector<CopyRoot>& roots) {
  roots.clear();
  const std::vector<std::string>& ops = command.operands;
  if (!command.target_directory.empty()) {
    if (std::string why = not_a_directory(command.target_directory); !why.empty())
      return fmt::format("target directory {}: {}", quote(command.target_directory), why);
    for (const std::string& source : ops)
      roots.push_back({source, inside(command.target_directory, source)});
    return {};
  }
  const std::string& dest = ops.back();
  if (command.no_target_directory) {
    roots.push_back({ops[0], dest});
    return {};
  }
  if (ops.size() > 2) {
    if (std::string why = not_a_directory(dest); !why.empty())
      return fmt::format("target {}: {}", quote(dest), why);
    for (std::size_t i = 0; i + 1 < ops.size(); ++i) roots.push_back({ops[i], inside(dest, ops[i])});
    return {};
  }
  // One source: into DEST when DEST is a directory, else DEST itself. A DEST ending in '/'
  // must be a directory.
  if (is_directory(dest)) {
    roots.push_back({ops[0], inside(dest, ops[0])});
  } else if (!dest.empty() && dest.back() == '/' && !exists(dest) && !is_directory(ops[0])) {
    return fmt::format("cannot create regular file {}: Not a directory", quote(dest));
  } else {
    roots.push_back({ops[0], dest});
  }
  return {};
}

int run_copy(const CopyCommand& command, const std::atomic<bool>& cancel) {
  CopyFunctions functions;
  functions.copy = [](const std::vector<CopyRoot>& roots, Engine& engine,
                      const EngineOptions& engine_options, const CopyOptions& options,
                      CopyObserver& observer, CopyProgress* progress) {
    return copy_tree(roots, engine, engine_options, options, observer, progress);
  };
  functions.verify = [&cancel](const std::string& source, const std::string& copy,
                               const VerifyOptions& options, VerifyResult& out) {
    return verify_copy(source, copy, options, out, &cancel);
  };
  return run_copy(command, cancel, functions);
}

int run_copy(const CopyCommand& command, const std::atomic<bool>& cancel,
             const CopyFunctions& functions) {
  std::vector<CopyRoot> roots;
  if (std::string why = resolve_roots(command, roots); !why.empty()) {
    std::cerr << "concurrent_copy: " << why << '\n';
    return 1;
  }
  AutoChoice choice;
  if (command.engine == "auto") {
    choice = choose_engine(roots.front().destination, command.options.reflink);
  } else {
    choice.engine = command.engine;
    choice.reason = "asked for with --engine";
  }
  const EngineInfo* info = find_engine(choice.engine);
  const Availability available = info->probe();
  if (!available.available) {
    if (command.engine != "auto") {
      std::cerr << fmt::format("concurrent_copy: the {} engine cannot run here: {}\n", choice.engine,
                               available.reason);
      return 1;
    }
    choice.reason = fmt::format("{} cannot run here ({}): threads instead", choice.engine, available.reason);
    choice.engine = "threads";
    info = find_engine(choice.engine);
  }
  std::unique_ptr<Engine> engine = info->make();
  EngineOptions engine_options;
  engine_options.fsync = command.fsync;
  if (command.jobs != 0) {
    engine_options.workers = command.jobs;
    engine_options.inflight = command.jobs;
  } else {
    // The thread engines' own default is a thread per waiting file (the benchmark's, after the
    // Go original's goroutine per file). For the copy command a pool of 4 per usable CPU is
    // faster: 1,000 files of 4 KiB on tmpfs in 18 to 22 ms against 49 to 61 ms (cp -a: 33 to
    // 35 ms), node_modules on a fresh ext4 in 253 to 294 ms against 298 to 351 ms, the Linux
    // tree on tmpfs within the noise (docs/results.md). Starting a thread costs about 150 us.
    engine_options.workers = 4 * static_cast<unsigned>(std::max(1L, sys::usable_cpu_count()));
  }
  CopyOptions options = command.options;
  options.cancel = &cancel;
  const bool progress = command.progress == CopyCommand::Progress::on ||
                        (command.progress == CopyCommand::Progress::automatic &&
                         ::isatty(STDERR_FILENO) == 1 && !command.options.dry_run);
  options.stat_in_walk = progress;
  Terminal terminal(progress);
  Reporter reporter(terminal, command);
  if (command.verbose)
    terminal.message(fmt::format("concurrent_copy: engine {} ({})", choice.engine, choice.reason));
  CopyProgress counters;
  const auto start = Clock::now();
  CopyResult result;
  {
    ProgressTicker ticker(terminal, counters);
    result = functions.copy(roots, *engine, engine_options, options, reporter, &counters);
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::fflush(stdout);
  int verified = -1;
  std::uint64_t differences = 0;
  bool verify_interrupted = false;
  if (command.verify && !command.options.dry_run && !result.cancelled && !result.fatal) {
    differences = verify_roots(command, roots, functions, terminal, verify_interrupted);
    verified = verify_interrupted ? -1 : differences == 0 ? 1 : 0;
  }
  if (command.verbose || progress) terminal.message("concurrent_copy: " + summary(result, seconds));
  int code = 0;
  if (result.cancelled) {
    terminal.message(fmt::format("concurrent_copy: interrupted: {}; the files in progress were removed",
                                 summary(result, seconds)));
    code = 130;
  } else if (verify_interrupted) {
    terminal.message(fmt::format("concurrent_copy: interrupted during --verify: {}; not verified",
                                 summary(result, seconds)));
    code = 130;
  } else {
    if (result.fatal) terminal.message("concurrent_copy: the copy stopped: " + result.fatal.message());
    if (result.failed > 0)
      terminal.message(fmt::format("concurrent_copy: {} entr{} could not be copied", result.failed,
                                   result.failed == 1 ? "y" : "ies"));
    if (verified == 0)
      terminal.message(fmt::format("concurrent_copy: --verify found {} entr{}", differences,
                                   differences == 1 ? "y that differs" : "ies that differ"));
    if (result.fatal || result.failed > 0 || verified == 0) code = 1;
  }
  if (!command.json.empty() &&
      !write_json(command.json,
                  json_summary(command, roots, choice.engine, choice.reason, result, seconds,
                               verified, differences, code),
                  terminal) &&
      code == 0)
    code = 1;
  if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
    std::cerr << fmt::format("concurrent_copy: cannot write to stdout: {}\n", sys::error_text(errno));
    if (code == 0) code = 1;
  }
  return code;
}

}  // namespace ccopy::cli
