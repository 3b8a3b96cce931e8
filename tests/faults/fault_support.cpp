#include "fault_support.hpp"

#include <sys/wait.h>
#include <uv.h>
#include <unistd.h>

#include <sstream>

#include "ccopy/verify.hpp"

namespace ccopy::testing {
namespace {

// One line per field, so messages with spaces survive; newlines in messages are not expected.
std::string serialize(const CopyReport& report, const std::vector<CopyJob>& jobs, long leaked) {
  std::ostringstream out;
  out << leaked << '\n' << report.engine_error.message() << '\n' << report.files.size() << '\n';
  for (std::size_t i = 0; i < report.files.size(); ++i) {
    const FileOutcome& f = report.files[i];
    const bool verified = !f.error && verify_copy(jobs[i]).ok();
    out << f.error.code << '\n' << f.error.message() << '\n' << (verified ? 1 : 0) << '\n';
  }
  return out.str();
}

ChildReport deserialize(const std::string& text) {
  ChildReport report;
  std::istringstream in(text);
  std::string line;
  if (!std::getline(in, line)) return report;
  if (line.rfind("skip:", 0) == 0) {
    report.skip = line.substr(5);
    return report;
  }
  report.descriptors_leaked = std::stol(line);
  std::getline(in, report.engine_error);
  std::getline(in, line);
  const std::size_t count = std::stoul(line);
  for (std::size_t i = 0; i < count; ++i) {
    ChildFile file;
    std::getline(in, line);
    file.code = std::stoi(line);
    std::getline(in, file.message);
    std::getline(in, line);
    file.verified = line == "1";
    report.files.push_back(std::move(file));
  }
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

// libuv makes a process-wide signal pipe (two descriptors, kept for the life of the process)
// at its first loop. Making it here, with a loop opened and closed at once, keeps it out of
// the descriptors a test counts around a copy, and starts no thread: the tests fork after
// this, and ThreadSanitizer refuses new threads after a multi-threaded fork.
static void make_libuv_signal_pipe() {
  uv_loop_t loop;
  if (uv_loop_init(&loop) == 0) (void)uv_loop_close(&loop);
}

std::unique_ptr<Engine> make_engine_or_skip(const std::string& name) {
  const EngineInfo* info = find_engine(name);
  if (info == nullptr) return nullptr;
  if (!info->probe().available) return nullptr;
  if (name == "uv") make_libuv_signal_pipe();
  return info->make();
}

void EngineUnderFaults::start(const std::string& name, std::uint64_t seed) {
  seed_ = seed;
  engine_ = make_engine_or_skip(name);
  if (!engine_) GTEST_SKIP() << name << " cannot run here";
  ASSERT_TRUE(dir_.ok());
  ASSERT_FALSE(Workspace::create(dir_.path(), workspace_));
}

std::vector<CopyJob> EngineUnderFaults::generate(std::size_t count, std::uint64_t size) {
  std::vector<CopyJob> jobs = plan_jobs(workspace_, count, size);
  EXPECT_FALSE(generate_sources(jobs, seed_));
  return jobs;
}

CopyReport EngineUnderFaults::expect_verified_copies(const std::vector<CopyJob>& jobs,
                                                     sys::FaultHook hook, void* context,
                                                     const EngineOptions& options) {
  const long fds_before = open_descriptors();
  CopyReport report;
  {
    ScopedFaultHook faults(hook, context);
    report = engine_->copy(jobs, options);
  }
  EXPECT_EQ(open_descriptors(), fds_before) << "descriptors leaked";
  EXPECT_FALSE(report.first_error()) << report.first_error().message();
  for (std::size_t i = 0; i < jobs.size(); ++i) EXPECT_EQ(report.files[i].bytes, jobs[i].size);
  const VerifyReport verdict = verify_copies(jobs);
  EXPECT_TRUE(verdict.ok()) << verdict.first_error().message();
  return report;
}

bool moves_data(sys::Op op) {
  return op == sys::Op::read || op == sys::Op::write || op == sys::Op::copy_range ||
         op == sys::Op::splice_in || op == sys::Op::splice_out;
}

long open_descriptors() { return sys::open_descriptor_count(); }

ChildReport copy_in_child(Engine& engine, const std::vector<CopyJob>& jobs,
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
    const long before = open_descriptors();
    const CopyReport report = engine.copy(jobs, options);
    const long leaked = open_descriptors() - before;
    if (after_copy) after_copy();
    write_all(pipe_fds[1], serialize(report, jobs, leaked));
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
  ::waitpid(pid, &status, 0);
  ChildReport report = deserialize(text);
  report.exited_cleanly = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  return report;
}

void expect_honest(const std::vector<CopyJob>& jobs, const ChildReport& report) {
  ASSERT_TRUE(report.exited_cleanly);
  EXPECT_EQ(report.descriptors_leaked, 0) << "descriptors leaked";
  ASSERT_EQ(report.files.size(), jobs.size());
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    const ChildFile& f = report.files[i];
    if (f.message.empty()) {
      EXPECT_TRUE(f.verified) << jobs[i].destination << " was reported copied but does not verify";
    } else {
      EXPECT_FALSE(f.verified);
      const bool names_file = f.message.find(jobs[i].source) != std::string::npos ||
                              f.message.find(jobs[i].destination) != std::string::npos;
      EXPECT_TRUE(names_file) << "'" << f.message << "' names neither " << jobs[i].source << " nor "
                              << jobs[i].destination;
    }
  }
}

}  // namespace ccopy::testing
