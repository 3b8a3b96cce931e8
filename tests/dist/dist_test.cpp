// The ranks' side of a shared copy without MPI: ranks as threads (ThreadComm), so that these
// run in every build, ThreadSanitizer's included. The collectives, the deal of entries into
// shares, the results' encoding and merging, the roots check, copy_tree_shared() by 1, 2
// and 3 ranks giving what one process gives, and the benchmark run by 1, 2 and 3 ranks.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <mutex>
#include <set>
#include <thread>
#include <tuple>

#include "ccopy/benchmark.hpp"
#include "ccopy/engine.hpp"
#include "dist/comm.hpp"
#include "dist/deal.hpp"
#include "dist/listing.hpp"
#include "dist/relay.hpp"
#include "dist/result_codec.hpp"
#include "dist/shared_copy.hpp"
#include "dist/shared_verify.hpp"
#include "test_dir.hpp"
#include "engines/scoped_fault.hpp"
#include "tree_fixture.hpp"

namespace ccopy::dist {
namespace {

using testing::TreeFixture;

// Runs `body` as every rank of a group of `size`, each on its own thread.
void as_ranks(int size, const std::function<void(Comm&)>& body,
              std::vector<std::string> hosts = {}) {
  ThreadGroup group(size, std::move(hosts));
  std::vector<std::thread> threads;
  for (int r = 0; r < size; ++r)
    threads.emplace_back([&group, &body, r] {
      ThreadComm comm(group, r);
      body(comm);
    });
  for (std::thread& t : threads) t.join();
}

// copy_tree_shared() of `tree` by `ranks` ranks as threads with the threads engine, quietly:
// each rank's result, in rank order (and, given `progress`, each rank's counters).
std::vector<CopyResult> copy_by_ranks(int ranks, const TreeFixture& tree, const CopyOptions& options,
                                      std::vector<CopyProgress>* progress = nullptr) {
  const EngineInfo* info = find_engine("threads");
  std::vector<CopyResult> results(static_cast<std::size_t>(ranks));
  if (progress != nullptr) *progress = std::vector<CopyProgress>(static_cast<std::size_t>(ranks));
  as_ranks(ranks, [&](Comm& comm) {
    std::unique_ptr<Engine> engine = info->make();
    CopyObserver quiet;
    const auto r = static_cast<std::size_t>(comm.rank());
    results[r] = copy_tree_shared(comm, {{tree.source(), tree.destination()}}, *engine,
                                  EngineOptions{}, options, quiet,
                                  progress != nullptr ? &(*progress)[r] : nullptr);
  });
  return results;
}

TEST(ThreadComm, CollectivesCombineEveryRank) {
  constexpr int kRanks = 4;
  std::vector<std::uint64_t> sums(kRanks), maxima(kRanks);
  std::vector<std::string> received(kRanks);
  std::vector<std::vector<std::string>> gathered(kRanks);
  as_ranks(kRanks, [&](Comm& comm) {
    const auto r = static_cast<std::size_t>(comm.rank());
    std::uint64_t v[2] = {r + 1, 10 * (r + 1)};
    comm.all_reduce_sum(v);
    sums[r] = v[0] + v[1];
    maxima[r] = comm.max(r * 7);
    std::string text = comm.rank() == 2 ? "from two" : "";
    comm.broadcast(text, 2);
    received[r] = text;
    comm.barrier();
    gathered[r] = comm.gather("rank " + std::to_string(r), 1);
  });
  for (std::size_t r = 0; r < kRanks; ++r) {
    EXPECT_EQ(sums[r], 10u + 100u);
    EXPECT_EQ(maxima[r], 21u);
    EXPECT_EQ(received[r], "from two");
    if (r == 1)
      EXPECT_EQ(gathered[r], (std::vector<std::string>{"rank 0", "rank 1", "rank 2", "rank 3"}));
    else
      EXPECT_TRUE(gathered[r].empty());
  }
}

// Messages arrive at their rank, each once, in the order each sender sent them, while the
// senders go on to a collective without waiting for them to be taken.
TEST(ThreadComm, MessagesArriveInTheOrderEachRankSentThem) {
  constexpr int kRanks = 3;
  constexpr int kEach = 50;
  std::vector<std::vector<int>> received(kRanks);
  bool empty_after = false;
  as_ranks(kRanks, [&](Comm& comm) {
    ASSERT_TRUE(comm.has_messages());
    if (comm.rank() != 0) {
      for (int i = 0; i < kEach; ++i) comm.send(std::to_string(i), 0);
      comm.finish_sends();
    }
    comm.barrier();
    if (comm.rank() != 0) return;
    std::string bytes;
    int from = -1;
    while (comm.try_receive(bytes, from))
      received[static_cast<std::size_t>(from)].push_back(std::stoi(bytes));
    empty_after = !comm.try_receive(bytes, from);
  });
  std::vector<int> expected(kEach);
  for (int i = 0; i < kEach; ++i) expected[static_cast<std::size_t>(i)] = i;
  EXPECT_TRUE(received[0].empty());
  EXPECT_EQ(received[1], expected);
  EXPECT_EQ(received[2], expected);
  EXPECT_TRUE(empty_after);
}

// Rank 0's side of the relay: the errors told, and a way to wait for one.
class Heard final : public CopyObserver {
 public:
  void failed(const CopyError& error) override {
    std::lock_guard lock(mutex_);
    errors_.push_back(error.path);
    changed_.notify_all();
  }
  void note(std::string_view text) override {
    std::lock_guard lock(mutex_);
    notes_.emplace_back(text);
  }
  // Whether `path` was told within a minute (a guard against a hang, not a measure).
  bool wait_for(const std::string& path) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, std::chrono::minutes(1), [&] {
      return std::find(errors_.begin(), errors_.end(), path) != errors_.end();
    });
  }
  std::vector<std::string> errors() {
    std::lock_guard lock(mutex_);
    return errors_;
  }
  std::vector<std::string> notes() {
    std::lock_guard lock(mutex_);
    return notes_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::string> errors_;
  std::vector<std::string> notes_;
};

// Another rank's error reaches rank 0's observer while that rank still runs (it waits for it
// before it finishes), each error once however many ranks met it, and rank 0's progress is the
// sum of every rank's counters once every rank has finished.
TEST(Relay, TellsRankZeroOfEachErrorOnceAsItHappensAndSumsTheProgress) {
  constexpr int kRanks = 3;
  Heard heard;
  CopyProgress shown;
  bool heard_while_running = false;
  std::vector<char> live(kRanks);  // not vector<bool>: each rank writes its own element
  as_ranks(kRanks, [&](Comm& comm) {
    CopyObserver quiet;
    Relay relay(comm, comm.rank() == 0 ? static_cast<CopyObserver&>(heard) : quiet,
                comm.rank() == 0 ? &shown : nullptr);
    live[static_cast<std::size_t>(comm.rank())] = relay.live() ? 1 : 0;
    const auto r = static_cast<std::uint64_t>(comm.rank());
    CopyProgress& mine = *relay.counters();
    mine.files_found.store(10 * (r + 1));
    mine.files_done.store(r + 1);
    mine.bytes_done.store(1000 * (r + 1));
    mine.walk_done.store(true);
    CopyError shared_error;
    shared_error.path = "src/unreadable";
    shared_error.operation = "open";
    shared_error.code = EACCES;
    if (comm.rank() != 0) relay.failed(shared_error);
    if (comm.rank() == 1) {
      CopyError own;
      own.path = "src/one";
      own.operation = "read";
      own.code = EIO;
      relay.failed(own);
      relay.note("a note from rank 1");
      heard_while_running = heard.wait_for("src/one");
    }
    relay.finish();
  });
  for (char l : live) EXPECT_TRUE(l != 0);
  EXPECT_TRUE(heard_while_running);
  std::vector<std::string> errors = heard.errors();
  std::sort(errors.begin(), errors.end());
  EXPECT_EQ(errors, (std::vector<std::string>{"src/one", "src/unreadable"}));
  EXPECT_EQ(heard.notes(), std::vector<std::string>{"a note from rank 1"});
  EXPECT_EQ(shown.files_found.load(), 10u + 20u + 30u);
  EXPECT_EQ(shown.files_done.load(), 1u + 2u + 3u);
  EXPECT_EQ(shown.bytes_done.load(), 6000u);
  EXPECT_EQ(shown.failures.load(), 2u);
  EXPECT_TRUE(shown.walk_done.load());
}

TEST(CopyShare, EveryInodeFallsToExactlyOneShare) {
  for (unsigned count : {2u, 3u, 7u}) {
    std::vector<std::uint64_t> taken(count);
    for (std::uint64_t inode = 1000; inode < 31000; ++inode) {
      unsigned owners = 0;
      for (unsigned i = 0; i < count; ++i)
        if (CopyShare{i, count, true}.takes(inode)) {
          ++owners;
          ++taken[i];
        }
      ASSERT_EQ(owners, 1u) << "inode " << inode << " of " << count << " shares";
    }
    // Balanced by entries: each share within 5% of its even part of 30000 inodes.
    for (unsigned i = 0; i < count; ++i)
      EXPECT_NEAR(static_cast<double>(taken[i]), 30000.0 / count, 0.05 * 30000.0 / count) << i;
  }
  EXPECT_TRUE(CopyShare{}.takes(5));
  EXPECT_FALSE((CopyShare{0, 0, false}.takes(5)));
}

CopyResult sample_result(int seed) {
  CopyResult r;
  r.copied.files = 10u + static_cast<unsigned>(seed);
  r.copied.directories = 2;
  r.copied.bytes = 1000;
  r.copied.hardlinks = 1;
  r.failed = 2;
  r.errors.push_back({"src/shared", "", "read directory", EACCES, ""});
  r.errors.push_back({"src/f" + std::to_string(seed), "dst/f", "write", 0, "disk said no"});
  r.notes.push_back("a note");
  r.latencies_ns = {1, 2, 3};
  return r;
}

TEST(ResultCodec, RoundTripsEveryField) {
  CopyResult r = sample_result(1);
  r.fatal = Error::from_errno(ENOSPC, "write dst/f");
  r.cancelled = true;
  CopyResult back;
  ASSERT_TRUE(decode_result(encode_result(r), back));
  EXPECT_EQ(back.copied.files, r.copied.files);
  EXPECT_EQ(back.copied.bytes, r.copied.bytes);
  EXPECT_EQ(back.failed, 2u);
  ASSERT_EQ(back.errors.size(), 2u);
  EXPECT_EQ(back.errors[1].detail, "disk said no");
  EXPECT_EQ(back.errors[0].code, EACCES);
  EXPECT_EQ(back.notes, r.notes);
  EXPECT_EQ(back.fatal.code, ENOSPC);
  EXPECT_EQ(back.fatal.context, "write dst/f");
  EXPECT_TRUE(back.cancelled);
  EXPECT_EQ(back.latencies_ns, r.latencies_ns);
}

TEST(ResultCodec, RefusesBytesItDidNotWrite) {
  CopyResult back;
  EXPECT_FALSE(decode_result("", back));
  EXPECT_FALSE(decode_result("not a result at all, long enough", back));
  std::string bytes = encode_result(sample_result(1));
  bytes.pop_back();
  EXPECT_FALSE(decode_result(bytes, back));
}

TEST(ResultCodec, RoundTripsAVerdictAndRefusesOthers) {
  VerifyResult v;
  v.entries = 7;
  v.bytes = 1 << 20;
  v.differences = 2;
  v.first = "a/b: byte 3 differs";
  v.first_path = "a/b";
  Error e = Error::cancelled("verify the trees");
  Error back_error;
  VerifyResult back;
  const std::string bytes = encode_verdict(e, v);
  ASSERT_TRUE(decode_verdict(bytes, back_error, back));
  EXPECT_TRUE(back_error.cancelled());
  EXPECT_EQ(back_error.message(), e.message());
  EXPECT_EQ(back.entries, 7u);
  EXPECT_EQ(back.bytes, 1u << 20);
  EXPECT_EQ(back.differences, 2u);
  EXPECT_EQ(back.first, v.first);
  EXPECT_EQ(back.first_path, v.first_path);
  EXPECT_FALSE(decode_verdict(encode_result(sample_result(1)), back_error, back));
  EXPECT_FALSE(decode_verdict(bytes.substr(0, bytes.size() - 1), back_error, back));
}

TEST(MergeResults, SumsCountsAndKeepsAnErrorSeveralRanksMetOnce) {
  const CopyResult merged = merge_results({sample_result(1), sample_result(2), sample_result(3)});
  EXPECT_EQ(merged.copied.files, 11u + 12u + 13u);
  EXPECT_EQ(merged.copied.bytes, 3000u);
  // "src/shared" was met by every rank: one failure; each rank's own write error: three.
  EXPECT_EQ(merged.failed, 4u);
  ASSERT_EQ(merged.errors.size(), 4u);
  EXPECT_EQ(merged.errors[0].path, "src/shared");
  EXPECT_EQ(merged.errors[3].path, "src/f3");
  EXPECT_EQ(merged.notes, std::vector<std::string>{"a note"});
  EXPECT_EQ(merged.latencies_ns.size(), 9u);
  EXPECT_TRUE(merged.ok() == false);
}

TEST(MergeResults, OneRankCancelledOrStoppedIsTheWholeCopys) {
  CopyResult a = sample_result(1), b = sample_result(2);
  b.cancelled = true;
  b.fatal = Error::from_errno(ENOSPC, "write");
  const CopyResult merged = merge_results({a, b});
  EXPECT_TRUE(merged.cancelled);
  EXPECT_EQ(merged.fatal.code, ENOSPC);
}

TEST(CheckSameRoots, AgreesWhenEveryRankSeesTheSameRoots) {
  TreeFixture tree(3, 10);
  ASSERT_TRUE(tree.ok()) << tree.error();
  std::vector<std::string> verdicts(3);
  as_ranks(3, [&](Comm& comm) {
    verdicts[static_cast<std::size_t>(comm.rank())] =
        check_same_roots(comm, {{tree.source(), tree.destination()}});
  });
  for (const std::string& v : verdicts) EXPECT_EQ(v, "");
}

// A rank whose destination is elsewhere (as a node-local /tmp would be) is named, with its host,
// in the same message on every rank.
TEST(CheckSameRoots, NamesTheRankAndHostThatSeesAnotherDestination) {
  TreeFixture tree(3, 10);
  ASSERT_TRUE(tree.ok()) << tree.error();
  const std::string elsewhere = tree.directory() + "/elsewhere";
  ASSERT_EQ(::mkdir(elsewhere.c_str(), 0755), 0);
  std::vector<std::string> verdicts(3);
  as_ranks(3,
           [&](Comm& comm) {
             const std::string destination =
                 comm.rank() == 2 ? elsewhere + "/dst" : tree.destination();
             verdicts[static_cast<std::size_t>(comm.rank())] =
                 check_same_roots(comm, {{tree.source(), destination}});
           },
           {"node-a", "node-a", "node-c"});
  EXPECT_NE(verdicts[0].find("rank 2 on host node-c"), std::string::npos) << verdicts[0];
  EXPECT_NE(verdicts[0].find("rank 0 on host node-a"), std::string::npos) << verdicts[0];
  EXPECT_EQ(verdicts[1], verdicts[0]);
  EXPECT_EQ(verdicts[2], verdicts[0]);
}

class SharedCopy : public ::testing::TestWithParam<int> {};

// What `ranks` ranks copy together lists exactly as what one process copies, with cp -a's
// options: types, sizes, modes, owners, nanosecond times (directories' too), symlink targets,
// hardlink groups and bytes.
TEST_P(SharedCopy, GivesWhatOneProcessGives) {
  const int ranks = GetParam();
  TreeRecipe recipe;
  recipe.shape = Shape::mixed;
  recipe.seed = 11;
  const TreeFixture tree(recipe);
  ASSERT_TRUE(tree.ok()) << tree.error();
  const EngineInfo* info = find_engine("threads");
  ASSERT_NE(info, nullptr);
  const CopyOptions options = testing::archive_options();
  CopyOptions with_progress = options;
  with_progress.stat_in_walk = true;
  CopyProgress single_progress;
  {
    std::unique_ptr<Engine> engine = info->make();
    CopyObserver quiet;
    const CopyResult single = copy_tree({{tree.source(), tree.destination()}}, *engine,
                                        EngineOptions{}, with_progress, quiet, &single_progress);
    ASSERT_TRUE(single.ok()) << testing::first_error(single);
  }
  const std::string expected = testing::tree_listing(tree.destination());
  ASSERT_TRUE(tree.reset());
  std::vector<CopyResult> results(static_cast<std::size_t>(ranks));
  CopyProgress progress;
  as_ranks(ranks, [&](Comm& comm) {
    std::unique_ptr<Engine> engine = info->make();
    CopyObserver quiet;
    // Only rank 0 asks for the bytes found, as only its CLI draws the line.
    results[static_cast<std::size_t>(comm.rank())] = copy_tree_shared(
        comm, {{tree.source(), tree.destination()}}, *engine, EngineOptions{},
        comm.rank() == 0 ? with_progress : options, quiet, comm.rank() == 0 ? &progress : nullptr);
  });
  for (const CopyResult& r : results) {
    EXPECT_TRUE(r.ok()) << testing::first_error(r);
    EXPECT_EQ(r.copied.files, results[0].copied.files);
  }
  // Rank 0's counters are the whole copy's.
  EXPECT_EQ(progress.files_found.load(), single_progress.files_found.load());
  EXPECT_EQ(progress.bytes_found.load(), single_progress.bytes_found.load());
  EXPECT_EQ(progress.files_done.load(), single_progress.files_done.load());
  EXPECT_EQ(progress.bytes_done.load(), single_progress.bytes_done.load());
  EXPECT_EQ(progress.failures.load(), 0u);
  EXPECT_TRUE(progress.walk_done.load());
  EXPECT_EQ(testing::tree_listing(tree.destination()), expected);
  EXPECT_TRUE(tree.verify().ok());
}

INSTANTIATE_TEST_SUITE_P(Ranks, SharedCopy, ::testing::Values(1, 2, 3));

// With -L (a walk from rank 0, which finds loops): symlinks to directories are copied as the
// directories, and one that loops back above itself is the same error once, as one process has.
TEST(SharedCopyDereference, FollowsSymlinksAsOneProcessDoes) {
  TreeFixture tree(0, 0);
  ASSERT_TRUE(tree.ok()) << tree.error();
  const std::string src = tree.source();
  ASSERT_EQ(::mkdir((src + "/a").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir((src + "/a/inner").c_str(), 0755), 0);
  for (int i = 0; i < 20; ++i) std::ofstream(src + "/a/f" + std::to_string(i)) << "file " << i;
  std::ofstream(src + "/a/inner/deep") << "deep";
  ASSERT_EQ(::symlink("a", (src + "/b").c_str()), 0);
  ASSERT_EQ(::symlink("..", (src + "/a/inner/up").c_str()), 0);  // loops back to a
  ASSERT_EQ(::symlink("a/f1", (src + "/to-file").c_str()), 0);
  CopyOptions options = testing::archive_options();
  options.dereference = true;
  const EngineInfo* info = find_engine("threads");
  std::unique_ptr<Engine> engine = info->make();
  const CopyResult single = tree.copy(*engine, EngineOptions{}, options);
  ASSERT_EQ(single.failed, 2u) << "a/inner/up and b/inner/up loop";
  const std::string expected = testing::tree_listing(tree.destination());
  ASSERT_TRUE(tree.reset());
  const std::vector<CopyResult> results = copy_by_ranks(3, tree, options);
  for (const CopyResult& r : results) {
    EXPECT_EQ(r.failed, single.failed);
    EXPECT_EQ(r.copied.files, single.copied.files);
    EXPECT_EQ(r.copied.directories, single.copied.directories);
    ASSERT_EQ(r.errors.size(), single.errors.size());
    for (const CopyError& e : r.errors) EXPECT_EQ(e.code, ELOOP) << e.path;
  }
  EXPECT_EQ(testing::tree_listing(tree.destination()), expected);
}

// A dry run by 3 ranks creates nothing and counts what one process counts: each directory once,
// although every rank's walk plans it.
TEST(SharedCopyDryRun, CountsWhatOneProcessCounts) {
  TreeRecipe recipe;
  recipe.shape = Shape::mixed;
  const TreeFixture tree(recipe);
  ASSERT_TRUE(tree.ok()) << tree.error();
  const EngineInfo* info = find_engine("threads");
  CopyOptions options = testing::archive_options();
  options.dry_run = true;
  std::unique_ptr<Engine> single_engine = info->make();
  const CopyResult single = tree.copy(*single_engine, EngineOptions{}, options);
  ASSERT_GT(single.copied.skipped, 0u);
  const std::vector<CopyResult> results = copy_by_ranks(3, tree, options);
  for (const CopyResult& r : results) {
    EXPECT_EQ(r.copied.skipped, single.copied.skipped);
    EXPECT_EQ(r.copied.entries(), single.copied.entries());
  }
  EXPECT_FALSE(std::filesystem::exists(tree.destination()));
}

// An error every rank meets (a source directory no one may read) is reported once, and every
// rank returns the same failure count.
TEST(SharedCopyErrors, AnErrorEveryRankMeetsIsCountedOnce) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads every directory";
  TreeFixture tree(4, 100);
  ASSERT_TRUE(tree.ok()) << tree.error();
  const std::string closed = tree.source() + "/closed";
  ASSERT_EQ(::mkdir(closed.c_str(), 0), 0);
  const std::vector<CopyResult> results = copy_by_ranks(3, tree, CopyOptions{});
  ::chmod(closed.c_str(), 0700);
  for (const CopyResult& r : results) {
    EXPECT_EQ(r.failed, 1u);
    EXPECT_EQ(r.copied.files, 4u);
  }
}

// The same as root: a destination directory where the source has a file is an error of that one
// entry, met by the one rank whose share it is, and every rank returns it.
TEST(SharedCopyErrors, EveryRankReturnsTheErrorOfOne) {
  TreeFixture tree(6, 100);
  ASSERT_TRUE(tree.ok()) << tree.error();
  std::string victim;
  for (const auto& e : std::filesystem::directory_iterator(tree.source()))
    if (e.is_regular_file()) victim = e.path().filename().string();
  ASSERT_FALSE(victim.empty());
  ASSERT_EQ(::mkdir(tree.destination().c_str(), 0755), 0);
  ASSERT_EQ(::mkdir((tree.destination() + "/" + victim).c_str(), 0755), 0);
  const EngineInfo* info = find_engine("threads");
  std::vector<CopyResult> results(3);
  Heard heard;
  CopyProgress progress;
  as_ranks(3, [&](Comm& comm) {
    std::unique_ptr<Engine> engine = info->make();
    CopyObserver quiet;
    CopyOptions options;
    options.overwrite = Overwrite::replace;
    results[static_cast<std::size_t>(comm.rank())] =
        copy_tree_shared(comm, {{tree.source(), tree.destination()}}, *engine, EngineOptions{},
                         options, comm.rank() == 0 ? static_cast<CopyObserver&>(heard) : quiet,
                         comm.rank() == 0 ? &progress : nullptr);
  });
  for (const CopyResult& r : results) {
    EXPECT_EQ(r.failed, 1u);
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_NE(r.errors[0].path.find(victim), std::string::npos) << r.errors[0].path;
    EXPECT_EQ(r.copied.files, 5u);
  }
  // Rank 0 told it once, whichever rank met it, and counted every rank's files.
  const std::vector<std::string> told = heard.errors();
  ASSERT_EQ(told.size(), 1u);
  EXPECT_NE(told[0].find(victim), std::string::npos) << told[0];
  EXPECT_EQ(progress.files_found.load(), 6u);
  EXPECT_EQ(progress.files_done.load(), 5u);
  EXPECT_EQ(progress.failures.load(), 1u);
}

// The benchmark by ranks as threads: every rank gets the same outcome; rank 0's result has the
// ranks' context and, in every run, the latency of every file, whichever rank copied it; and the
// workspace rank 0 made is gone.
void benchmark_by_ranks(int size) {
  testing::TestDir dir;
  BenchmarkConfig config;
  config.directory = dir.path();
  config.scenarios = {Scenario(40, 4096)};
  config.engines = {{"threads", "threads"}};
  config.runs = 2;
  config.warmup = 1;
  std::vector<BenchmarkResult> results(static_cast<std::size_t>(size));
  as_ranks(size, [&](Comm& comm) {
    results[static_cast<std::size_t>(comm.rank())] = run_benchmark(config, {}, comm);
  });
  for (const BenchmarkResult& r : results) {
    EXPECT_TRUE(r.ok()) << r.first_error().message();
    ASSERT_EQ(r.scenarios.size(), 1u);
    ASSERT_EQ(r.scenarios[0].engines.size(), 1u);
    EXPECT_TRUE(r.scenarios[0].engines[0].verified);
    EXPECT_EQ(r.scenarios[0].engines[0].runs.size(), 2u);
  }
  const BenchmarkResult& lead = results[0];
  ASSERT_TRUE(lead.context.ranks.has_value());
  EXPECT_EQ(lead.context.ranks->ranks, static_cast<unsigned>(size));
  EXPECT_EQ(lead.context.ranks->hosts.size(), 1u);
  EXPECT_GE(lead.context.ranks->startup_seconds, 0.0);
  for (const RunSample& run : lead.scenarios[0].engines[0].runs)
    EXPECT_EQ(run.file_latencies_ns.size(), 40u);
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

TEST(SharedBenchmark, OneRankVerifies) { benchmark_by_ranks(1); }
TEST(SharedBenchmark, TwoRanksVerify) { benchmark_by_ranks(2); }
TEST(SharedBenchmark, ThreeRanksVerify) { benchmark_by_ranks(3); }

// A -src directory benchmarked by two ranks playing two hosts: both verify, and rank 0's context
// names the two hosts in rank order.
TEST(SharedBenchmark, ASourceDirectoryByRanksOnTwoHosts) {
  testing::TestDir dir, source;
  const std::string tree = source.path() + "/tree";
  std::filesystem::create_directories(tree + "/sub");
  for (const char* name : {"/a", "/sub/b", "/sub/c"}) {
    std::FILE* f = std::fopen((tree + name).c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs(name, f);
    std::fclose(f);
  }
  BenchmarkConfig config;
  config.directory = dir.path();
  Scenario from_source;
  from_source.kind = Scenario::Kind::source;
  from_source.source = tree;
  config.scenarios = {from_source};
  config.engines = {{"threads", "threads"}};
  config.runs = 1;
  config.warmup = 0;
  std::vector<BenchmarkResult> results(2);
  as_ranks(
      2,
      [&](Comm& comm) {
        results[static_cast<std::size_t>(comm.rank())] = run_benchmark(config, {}, comm);
      },
      {"node-a", "node-b"});
  for (const BenchmarkResult& r : results) {
    EXPECT_TRUE(r.ok()) << r.first_error().message();
    ASSERT_EQ(r.scenarios.size(), 1u);
    EXPECT_TRUE(r.scenarios[0].engines[0].verified);
  }
  ASSERT_TRUE(results[0].context.ranks.has_value());
  EXPECT_EQ(results[0].context.ranks->hosts, (std::vector<std::string>{"node-a", "node-b"}));
  ASSERT_EQ(results[0].scenarios[0].engines[0].runs.size(), 1u);
  EXPECT_EQ(results[0].scenarios[0].engines[0].runs[0].file_latencies_ns.size(), 3u);
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

// Rank 0's set-up failing (its workspace cannot be made) is every rank's error, with the same
// message, and no rank waits for the others for ever.
TEST(SharedBenchmark, RankZerosSetUpErrorIsEveryRanks) {
  testing::TestDir dir;
  BenchmarkConfig config;
  config.directory = dir.path() + "/missing";
  config.scenarios = {Scenario(5, 4096)};
  config.engines = {{"threads", "threads"}};
  std::vector<BenchmarkResult> results(3);
  as_ranks(3, [&](Comm& comm) {
    results[static_cast<std::size_t>(comm.rank())] = run_benchmark(config, {}, comm);
  });
  ASSERT_TRUE(results[0].setup_error) << "rank 0 made a workspace in a missing directory";
  EXPECT_NE(results[0].setup_error.message().find("missing"), std::string::npos);
  for (const BenchmarkResult& r : results) {
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.setup_error.message(), results[0].setup_error.message());
    EXPECT_TRUE(r.scenarios.empty());
  }
}

// ---- Verification shared by the ranks ----

// verify_copy_shared() by 1, 2 and 3 ranks gives every rank the verdict of verify_copy() by one
// process, on a faithful copy and on one with differences of several kinds.
TEST(SharedVerify, EveryRankGetsTheVerdictOfOneProcess) {
  TreeRecipe recipe;
  recipe.shape = Shape::mixed;
  TreeFixture tree(recipe);
  ASSERT_TRUE(tree.ok()) << tree.error();
  std::unique_ptr<Engine> engine = find_engine("threads")->make();
  const CopyResult copied = tree.copy(*engine, EngineOptions{});
  ASSERT_TRUE(copied.ok()) << copied.failed << " entries failed";
  const VerifyOptions options;
  for (int broken = 0; broken < 2; ++broken) {
    if (broken == 1) {
      const std::string dst = tree.destination();
      ASSERT_EQ(::unlink((dst + "/names/with space").c_str()), 0);
      ASSERT_EQ(::chmod((dst + "/modes/mode-0640").c_str(), 0600), 0);
      const int fd = ::open((dst + "/sizes/3m+17").c_str(), O_WRONLY);
      ASSERT_GE(fd, 0);
      ASSERT_EQ(::pwrite(fd, "!", 1, 1 << 20), 1);
      ::close(fd);
    }
    VerifyResult alone;
    ASSERT_FALSE(verify_copy(tree.source(), tree.destination(), options, alone));
    EXPECT_EQ(alone.ok(), broken == 0) << alone.first;
    for (int ranks : {1, 2, 3}) {
      std::vector<VerifyResult> verdicts(static_cast<std::size_t>(ranks));
      std::vector<Error> errors(static_cast<std::size_t>(ranks));
      as_ranks(ranks, [&](Comm& comm) {
        const auto r = static_cast<std::size_t>(comm.rank());
        errors[r] =
            verify_copy_shared(comm, tree.source(), tree.destination(), options, verdicts[r]);
      });
      for (int r = 0; r < ranks; ++r) {
        const auto i = static_cast<std::size_t>(r);
        EXPECT_FALSE(errors[i]) << errors[i].message();
        EXPECT_EQ(verdicts[i].entries, alone.entries) << ranks << " ranks, rank " << r;
        EXPECT_EQ(verdicts[i].bytes, alone.bytes) << ranks << " ranks, rank " << r;
        EXPECT_EQ(verdicts[i].differences, alone.differences) << ranks << " ranks, rank " << r;
        EXPECT_EQ(verdicts[i].first, alone.first) << ranks << " ranks, rank " << r;
      }
    }
  }
}

// A rank that cannot verify its part (its copy is gone, here: the destination each rank sees is
// its own) makes the verification fail on every rank, with that rank and host named.
TEST(SharedVerify, AnErrorOfOneRankIsEveryRanksNamingIt) {
  TreeFixture tree(20, 100);
  ASSERT_TRUE(tree.ok()) << tree.error();
  std::unique_ptr<Engine> engine = find_engine("threads")->make();
  ASSERT_TRUE(tree.copy(*engine, EngineOptions{}).ok());
  std::vector<Error> errors(2);
  std::vector<VerifyResult> verdicts(2);
  as_ranks(
      2,
      [&](Comm& comm) {
        const auto r = static_cast<std::size_t>(comm.rank());
        // Rank 1 is pointed at a file where rank 0 sees the copied directory.
        const std::string copy =
            r == 0 ? tree.destination() : tree.destination() + "/" + tree.manifest().path(1);
        errors[r] = verify_copy_shared(comm, tree.source(), copy, VerifyOptions{}, verdicts[r]);
      },
      {"node-a", "node-b"});
  for (const Error& e : errors) {
    ASSERT_TRUE(e) << "a rank that could not read its part verified";
    EXPECT_TRUE(e.message().starts_with("rank 1 on host node-b: ")) << e.message();
    EXPECT_EQ(e.message(), errors[0].message());
  }
}

// ---- The shared walk: directories dealt to the ranks ----

// Directories with skewed counts of entries (a few large, many small), as real trees have.
std::vector<SharedDirectory> skewed_directories(std::size_t count) {
  std::vector<SharedDirectory> all;
  std::uint64_t x = 12345;
  for (std::size_t i = 0; i < count; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    const std::uint64_t r = x >> 33;
    const std::uint64_t entries = r % 100 == 0 ? 500 + r % 2000 : r % 40;
    all.push_back(
        SharedDirectory{static_cast<unsigned>(i % 2), "d/" + std::to_string(i), entries, {}});
  }
  return all;
}

TEST(DealDirectories, EachDirectoryToExactlyOneRankBalancedByEntries) {
  const std::vector<SharedDirectory> all = skewed_directories(3000);
  std::uint64_t total = 0, largest = 0;
  for (const SharedDirectory& d : all) {
    total += d.entries + 1;
    largest = std::max(largest, d.entries + 1);
  }
  for (const unsigned ranks : {1u, 2u, 3u, 7u}) {
    const auto dealt = deal_directories(all, ranks);
    ASSERT_EQ(dealt.size(), ranks);
    std::map<std::pair<unsigned, std::string>, int> seen;
    std::uint64_t least = total, most = 0, sum = 0;
    for (const auto& share : dealt) {
      for (const SharedDirectory& d : share) ++seen[{d.root, d.path}];
      const std::uint64_t load = dealt_entries(share);
      least = std::min(least, load);
      most = std::max(most, load);
      sum += load;
    }
    EXPECT_EQ(seen.size(), all.size()) << ranks;
    for (const auto& [key, times] : seen) EXPECT_EQ(times, 1) << key.second;
    EXPECT_EQ(sum, total);
    // Largest first into the least loaded: no rank is more than one directory above another.
    EXPECT_LE(most - least, largest) << ranks;
    // And here, within 1% of the fair share.
    EXPECT_LE(most, total / ranks + total / ranks / 100 + 1) << ranks;
  }
}

TEST(DealDirectories, TheSameDealWhateverTheOrderOfTheList) {
  std::vector<SharedDirectory> all = skewed_directories(500);
  const auto dealt = deal_directories(all, 3);
  std::reverse(all.begin(), all.end());
  const auto again = deal_directories(all, 3);
  for (std::size_t r = 0; r < 3; ++r) {
    ASSERT_EQ(again[r].size(), dealt[r].size());
    for (std::size_t i = 0; i < dealt[r].size(); ++i) EXPECT_EQ(again[r][i].path, dealt[r][i].path);
  }
}

TEST(DealDirectories, ListsRoundTripAndNamesGroupByDirectory) {
  std::vector<SharedDirectory> names = {{1, "a\nb", 0, {"x"}}, {0, "", 0, {"y"}},
                                        {1, "a\nb", 0, {"w\tz"}}, {1, "a\nb", 0, {"x"}}};
  const std::vector<SharedDirectory> grouped = group_names(names);
  ASSERT_EQ(grouped.size(), 2u);
  EXPECT_EQ(grouped[0].root, 0u);
  EXPECT_EQ(grouped[0].names, std::vector<std::string>{"y"});
  EXPECT_EQ(grouped[1].path, "a\nb");
  EXPECT_EQ(grouped[1].names, (std::vector<std::string>{"w\tz", "x"}));
  std::vector<SharedDirectory> back;
  ASSERT_TRUE(decode_directories(encode_directories(grouped), back));
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[1].path, "a\nb");
  EXPECT_EQ(back[1].names, grouped[1].names);
  EXPECT_EQ(back[1].entries, 2u);
  EXPECT_FALSE(back[1].fresh);
  std::vector<SharedDirectory> made = {{0, "new", 7, {}, true}};
  ASSERT_TRUE(decode_directories(encode_directories(made), back));
  ASSERT_EQ(back.size(), 1u);
  EXPECT_TRUE(back[0].fresh);
  EXPECT_EQ(back[0].entries, 7u);
  std::string bytes = encode_directories(grouped);
  EXPECT_FALSE(decode_directories(bytes.substr(0, bytes.size() - 1), back));
  EXPECT_FALSE(decode_directories("not a list", back));
}

// What rank 0's first pass records: every directory of the tree, once, with its entries.
std::vector<SharedDirectory> directories_of(const std::string& source) {
  const EngineInfo* info = find_engine("threads");
  std::unique_ptr<Engine> engine = info->make();
  CopyObserver quiet;
  SharedLog log;
  CopyOptions options = testing::archive_options();
  options.dry_run = true;
  options.share = CopyShare{0, 0, false};
  options.share.log = &log;
  (void)copy_tree({{source, "/nonexistent-ccopy-destination"}}, *engine, EngineOptions{}, options,
                  quiet);
  return log.take();
}

// Each rank's copied entries, as its observer hears them (with -v).
class Entries final : public CopyObserver {
 public:
  void copied(const CopiedEntry& entry) override {
    std::lock_guard lock(mutex_);
    if (entry.type != EntryType::directory) sources.push_back(entry.source);
  }
  std::mutex mutex_;
  std::vector<std::string> sources;
};

// The ranks together read each directory of the tree once, level by level (the number of
// directory listings read is one process's, for 1 rank as for 3, and each directory is read to
// its end once: no second walk creates the directories or sets their metadata), and all the
// single-link entries of a directory are copied by the one rank that read it.
TEST(SharedWalk, EachDirectoryIsReadOnceByOneRank) {
  TreeRecipe recipe;  // shaped like the Linux tree, small, and with paths the tests can lstat
  recipe.shape = Shape::linux;
  recipe.scale = 0.01;
  recipe.seed = 5;
  const TreeFixture tree(recipe);
  ASSERT_TRUE(tree.ok()) << tree.error();
  const std::vector<SharedDirectory> directories = directories_of(tree.source());
  ASSERT_GT(directories.size(), 3u);
  const EngineInfo* info = find_engine("threads");
  CopyOptions options = testing::archive_options();
  options.report_entries = true;
  std::atomic<std::uint64_t> listings{0};
  const auto listings_by = [&](int ranks, std::vector<std::unique_ptr<Entries>>& heard) {
    listings = 0;
    heard.clear();
    for (int r = 0; r < ranks; ++r) heard.push_back(std::make_unique<Entries>());
    {
      testing::ScopedFault count([&](sys::Op op, long result) {
        if (op == sys::Op::list_directory) listings.fetch_add(1);
        return result;
      });
      as_ranks(ranks, [&](Comm& comm) {
        std::unique_ptr<Engine> engine = info->make();
        const CopyResult r = copy_tree_shared(comm, {{tree.source(), tree.destination()}},
                                              *engine, EngineOptions{}, options,
                                              *heard[static_cast<std::size_t>(comm.rank())]);
        EXPECT_TRUE(r.ok()) << testing::first_error(r);
      });
    }
    return listings.load();
  };
  std::vector<std::unique_ptr<Entries>> heard;
  const std::uint64_t by_one = listings_by(1, heard);
  ASSERT_TRUE(tree.reset());
  const std::uint64_t by_three = listings_by(3, heard);
  // Each directory read to its end (a read of entries, then one that finds no more), once.
  EXPECT_GE(by_one, 2 * directories.size());
  EXPECT_LT(by_one, 4 * directories.size());
  EXPECT_EQ(by_three, by_one);
  // Every single-link entry, copied once, by the rank that read its directory.
  std::set<std::string> copied;
  std::map<std::string, std::size_t> reader;
  std::set<std::size_t> ranks_that_copied;
  for (std::size_t r = 0; r < 3; ++r) {
    for (const std::string& source : heard[r]->sources) {
      struct ::stat st {};
      ASSERT_EQ(::lstat(source.c_str(), &st), 0) << source;
      if (st.st_nlink > 1) continue;  // a hardlink group's: taken by its inode
      const std::string below = source.substr(tree.source().size() + 1);
      const std::size_t slash = below.rfind('/');
      const std::string parent = slash == std::string::npos ? "" : below.substr(0, slash);
      const auto [at, first] = reader.emplace(parent, r);
      EXPECT_EQ(at->second, r) << below << " copied by rank " << r << ", its directory read by "
                               << at->second;
      EXPECT_TRUE(copied.insert(below).second) << below << " copied twice";
      ranks_that_copied.insert(r);
    }
  }
  EXPECT_EQ(ranks_that_copied.size(), 3u);
  std::size_t single_links = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(tree.source())) {
    struct ::stat st {};
    ASSERT_EQ(::lstat(e.path().c_str(), &st), 0);
    if (!S_ISDIR(st.st_mode) && st.st_nlink == 1) ++single_links;
  }
  EXPECT_EQ(copied.size(), single_links);
  EXPECT_GT(single_links, 0u);
}

// A hardlink group whose names are in directories dealt to different ranks is one inode in the
// copy, as it is in one process's.
TEST(SharedWalk, AHardlinkGroupAcrossRanksDirectoriesStaysOneInode) {
  TreeFixture tree(0, 0);
  ASSERT_TRUE(tree.ok()) << tree.error();
  constexpr int kDirectories = 6;
  for (int d = 0; d < kDirectories; ++d) {
    const std::string dir = tree.source() + "/d" + std::to_string(d);
    ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0);
    for (int f = 0; f < 10 + d; ++f) std::ofstream(dir + "/f" + std::to_string(f)) << "file " << f;
  }
  const std::string first = tree.source() + "/d0/shared";
  std::ofstream(first) << "one inode, six names";
  for (int d = 1; d < kDirectories; ++d)
    ASSERT_EQ(
        ::link(first.c_str(), (tree.source() + "/d" + std::to_string(d) + "/shared").c_str()), 0);
  // The names are in directories dealt to every rank.
  const auto dealt = deal_directories(directories_of(tree.source()), 3);
  for (const auto& share : dealt) {
    EXPECT_TRUE(std::any_of(share.begin(), share.end(),
                            [](const SharedDirectory& d) { return d.path.starts_with("d"); }));
  }
  const std::vector<CopyResult> results = copy_by_ranks(3, tree, testing::archive_options());
  for (const CopyResult& r : results) {
    EXPECT_TRUE(r.ok()) << testing::first_error(r);
    EXPECT_EQ(r.copied.hardlinks, static_cast<std::uint64_t>(kDirectories - 1));
  }
  struct ::stat one {};
  ASSERT_EQ(::stat((tree.destination() + "/d0/shared").c_str(), &one), 0);
  EXPECT_EQ(one.st_nlink, static_cast<nlink_t>(kDirectories));
  for (int d = 1; d < kDirectories; ++d) {
    struct ::stat st {};
    ASSERT_EQ(::stat((tree.destination() + "/d" + std::to_string(d) + "/shared").c_str(), &st), 0);
    EXPECT_EQ(st.st_ino, one.st_ino) << d;
  }
  EXPECT_TRUE(tree.verify().ok()) << tree.verify().first;
}

// Drops, on the calling thread only (and the threads it starts), the capabilities that let
// root read any directory. False where capabilities cannot be read or set.
bool drop_read_override_on_this_thread() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (::syscall(SYS_capget, &header, data) != 0) return false;
  for (const int cap : {CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH})
    data[cap / 32].effective &= ~(1u << (cap % 32));
  return ::syscall(SYS_capset, &header, data) == 0;
}

// A directory no rank may read is told once, by rank 0 (the one that read the tree's directories
// and met it), and counted once on every rank; the rest is copied.
TEST(SharedWalk, AnUnreadableDirectoryIsToldOnce) {
  TreeFixture tree(5, 100);
  ASSERT_TRUE(tree.ok()) << tree.error();
  const std::string closed = tree.source() + "/closed";
  ASSERT_EQ(::mkdir(closed.c_str(), 0755), 0);
  std::ofstream(closed + "/inside") << "unreadable";
  ASSERT_EQ(::chmod(closed.c_str(), 0), 0);
  const EngineInfo* info = find_engine("threads");
  std::vector<CopyResult> results(3);
  std::atomic<bool> dropped{true};
  Heard heard;
  as_ranks(3, [&](Comm& comm) {
    if (::geteuid() == 0 && !drop_read_override_on_this_thread()) dropped = false;
    std::unique_ptr<Engine> engine = info->make();
    CopyObserver quiet;
    results[static_cast<std::size_t>(comm.rank())] = copy_tree_shared(
        comm, {{tree.source(), tree.destination()}}, *engine, EngineOptions{}, CopyOptions{},
        comm.rank() == 0 ? static_cast<CopyObserver&>(heard) : quiet);
  });
  ::chmod(closed.c_str(), 0700);
  if (!dropped) GTEST_SKIP() << "cannot drop CAP_DAC_OVERRIDE on a thread";
  for (const CopyResult& r : results) {
    EXPECT_EQ(r.failed, 1u);
    EXPECT_EQ(r.copied.files, 5u);
  }
  const std::vector<std::string> told = heard.errors();
  ASSERT_EQ(told.size(), 1u);
  EXPECT_EQ(told[0], closed);
}

// ---- Large files in pieces (CopyOptions::split_size) ----

// Every byte of every file in exactly one piece, the pieces of all files dealt round robin (no
// rank more than one piece ahead of another), each file owned by the rank of its first piece.
TEST(DealPieces, EveryByteOnceBalancedWithinAPiece) {
  std::vector<SharedDirectory> files = {{0, "b", 1000, {"x"}}, {0, "a", 2500, {"y"}},
                                        {1, "", 999, {"z"}},  {0, "a", 10, {"w"}}};
  const PieceDeal deal = deal_pieces(files, 300, 3);
  ASSERT_EQ(deal.pieces.size(), 3u);
  std::map<std::string, std::uint64_t> covered;
  std::vector<std::uint64_t> bytes(3, 0);
  std::size_t owned = 0;
  std::vector<SharedPiece> all;
  for (unsigned r = 0; r < 3; ++r)
    for (const SharedPiece& p : deal.pieces[r]) {
      EXPECT_LE(p.length, 300u);
      bytes[r] += p.length;
      all.push_back(p);
    }
  std::sort(all.begin(), all.end(), [](const SharedPiece& a, const SharedPiece& b) {
    return std::tie(a.path, a.name, a.offset) < std::tie(b.path, b.name, b.offset);
  });
  for (const SharedPiece& p : all) {
    EXPECT_EQ(covered[p.path + "/" + p.name], p.offset) << "no gap, no overlap";
    covered[p.path + "/" + p.name] += p.length;
  }
  for (unsigned r = 0; r < 3; ++r) {
    EXPECT_TRUE(std::is_sorted(deal.pieces[r].begin(), deal.pieces[r].end(),
                               [](const SharedPiece& a, const SharedPiece& b) {
                                 return std::tie(a.root, a.path, a.name, a.offset) <
                                        std::tie(b.root, b.path, b.name, b.offset);
                               }));
    for (const SharedPiece& f : deal.files[r]) {
      ++owned;
      EXPECT_EQ(f.offset, 0u);
      EXPECT_EQ(f.length, f.size);
      // Its owner copies its first piece.
      EXPECT_TRUE(std::any_of(deal.pieces[r].begin(), deal.pieces[r].end(),
                              [&](const SharedPiece& p) {
                                return p.path == f.path && p.name == f.name && p.offset == 0;
                              }));
    }
  }
  EXPECT_EQ(owned, 4u);
  EXPECT_EQ(covered["b/x"], 1000u);
  EXPECT_EQ(covered["a/y"], 2500u);
  EXPECT_EQ(covered["/z"], 999u);
  EXPECT_EQ(covered["a/w"], 10u);
  const auto [low, high] = std::minmax_element(bytes.begin(), bytes.end());
  EXPECT_LE(*high - *low, 300u);
  // The same deal whatever the order of the list.
  std::reverse(files.begin(), files.end());
  const PieceDeal again = deal_pieces(files, 300, 3);
  for (unsigned r = 0; r < 3; ++r) {
    ASSERT_EQ(again.pieces[r].size(), deal.pieces[r].size());
    for (std::size_t i = 0; i < deal.pieces[r].size(); ++i) {
      EXPECT_EQ(again.pieces[r][i].path + "/" + again.pieces[r][i].name,
                deal.pieces[r][i].path + "/" + deal.pieces[r][i].name);
      EXPECT_EQ(again.pieces[r][i].offset, deal.pieces[r][i].offset);
    }
  }
}

// The number of names in the directory `path`.
std::size_t names_in(const std::string& path) {
  const std::filesystem::directory_iterator all(path);
  return static_cast<std::size_t>(std::distance(begin(all), end(all)));
}

// Writes `size` bytes of a pattern that differs at every offset (and between files) to `path`.
void write_pattern(const std::string& path, std::uint64_t size, unsigned seed) {
  std::ofstream out(path, std::ios::binary);
  std::string block(64 * 1024, '\0');
  for (std::uint64_t at = 0; at < size; at += block.size()) {
    for (std::size_t i = 0; i < block.size(); ++i)
      block[i] = static_cast<char>((at + i) * 2654435761u >> (13 + seed % 7));
    out.write(block.data(), static_cast<std::streamsize>(std::min<std::uint64_t>(block.size(), size - at)));
  }
}

// Large files (dense, sparse, read-only, one just at the size that splits), copied by 3 ranks
// in pieces of 256 KiB: the tree lists as one process's copy, the sparse file keeps its holes,
// no temporary name is left, and every rank wrote some of the bytes.
class SplitCopy : public ::testing::TestWithParam<const char*> {};

TEST_P(SplitCopy, PiecesByEveryRankGiveWhatOneProcessGives) {
  const EngineInfo* info = find_engine(GetParam());
  ASSERT_NE(info, nullptr);
  TreeFixture tree(0, 0);
  ASSERT_TRUE(tree.ok()) << tree.error();
  constexpr std::uint64_t kPiece = 256 * 1024;
  const std::string src = tree.source();
  ASSERT_EQ(::mkdir((src + "/deep").c_str(), 0755), 0);
  write_pattern(src + "/deep/dense", 3 * kPiece + 12345, 1);
  write_pattern(src + "/exactly", kPiece, 2);  // not more than a piece: copied whole
  write_pattern(src + "/small", 1000, 3);
  write_pattern(src + "/readonly", 2 * kPiece + 1, 4);
  ASSERT_EQ(::chmod((src + "/readonly").c_str(), 0444), 0);
  {
    const int fd = ::open((src + "/sparse").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0640);
    ASSERT_GE(fd, 0);
    const std::string data(100 * 1024, 'd');
    ASSERT_EQ(::pwrite(fd, data.data(), data.size(), 300 * 1024), static_cast<ssize_t>(data.size()));
    ASSERT_EQ(::pwrite(fd, data.data(), data.size(), 900 * 1024), static_cast<ssize_t>(data.size()));
    ASSERT_EQ(::ftruncate(fd, 1536 * 1024), 0);
    ::close(fd);
  }
  CopyOptions options = testing::archive_options();
  options.split_size = kPiece;
  {
    std::unique_ptr<Engine> engine = info->make();
    const CopyResult single = tree.copy(*engine, EngineOptions{}, options);
    if (!single.ok() && single.fatal) GTEST_SKIP() << single.fatal.message();
    ASSERT_TRUE(single.ok()) << testing::first_error(single);
  }
  const std::string expected = testing::tree_listing(tree.destination());
  ASSERT_TRUE(tree.reset());
  std::vector<CopyResult> results(3);
  std::vector<CopyProgress> progress(3);
  as_ranks(3, [&](Comm& comm) {
    std::unique_ptr<Engine> engine = info->make();
    CopyObserver quiet;
    const auto r = static_cast<std::size_t>(comm.rank());
    results[r] = copy_tree_shared(comm, {{tree.source(), tree.destination()}}, *engine,
                                  EngineOptions{}, options, quiet, &progress[r]);
  });
  std::uint64_t bytes = 0;
  for (const char* name : {"deep/dense", "exactly", "small", "readonly"})
    bytes += std::filesystem::file_size(src + "/" + name);
  for (const CopyResult& r : results) {
    EXPECT_TRUE(r.ok()) << testing::first_error(r);
    EXPECT_EQ(r.copied.files, 5u);
    EXPECT_EQ(r.copied.bytes, bytes + 2 * 100 * 1024);  // the sparse file's data, not its holes
  }
  // Ranks 1 and 2 count their own share: each wrote pieces.
  EXPECT_GT(progress[1].bytes_done.load(), 0u);
  EXPECT_GT(progress[2].bytes_done.load(), 0u);
  EXPECT_EQ(progress[0].files_done.load(), 5u);
  EXPECT_EQ(progress[0].files_found.load(), 5u);
  EXPECT_EQ(testing::tree_listing(tree.destination()), expected);
  struct ::stat st {};
  ASSERT_EQ(::stat((tree.destination() + "/sparse").c_str(), &st), 0);
  EXPECT_LT(static_cast<std::uint64_t>(st.st_blocks) * 512, 1536u * 1024) << "holes kept";
  for (const auto& entry : std::filesystem::recursive_directory_iterator(tree.destination()))
    EXPECT_FALSE(entry.path().filename().string().starts_with(".ccopy-")) << entry.path();
}

INSTANTIATE_TEST_SUITE_P(Engines, SplitCopy,
                         ::testing::Values("threads", "kernel", "uring", "uv"),
                         [](const auto& param) { return std::string(param.param); });

// A file split over an existing one is written under a temporary name and renamed over it once
// every piece is in (a new inode, the old content whole until then), as one process does.
TEST(SplitCopyOverwrite, ReplacesAnExistingFileAtomically) {
  TreeFixture tree(0, 0);
  ASSERT_TRUE(tree.ok()) << tree.error();
  write_pattern(tree.source() + "/big", 5 * 64 * 1024 + 7, 5);
  ASSERT_EQ(::mkdir(tree.destination().c_str(), 0755), 0);
  write_pattern(tree.destination() + "/big", 100, 6);
  struct ::stat before {};
  ASSERT_EQ(::stat((tree.destination() + "/big").c_str(), &before), 0);
  CopyOptions options = testing::archive_options();
  options.overwrite = Overwrite::replace;
  options.split_size = 64 * 1024;
  std::vector<CopyProgress> progress;
  const std::vector<CopyResult> results = copy_by_ranks(2, tree, options, &progress);
  for (const CopyResult& r : results) {
    EXPECT_TRUE(r.ok()) << testing::first_error(r);
    EXPECT_EQ(r.copied.files, 1u);
  }
  EXPECT_GT(progress[1].bytes_done.load(), 0u) << "both ranks wrote pieces of the one file";
  EXPECT_LT(progress[1].bytes_done.load(), 5u * 64 * 1024 + 7);
  struct ::stat after {};
  ASSERT_EQ(::stat((tree.destination() + "/big").c_str(), &after), 0);
  EXPECT_NE(after.st_ino, before.st_ino);
  EXPECT_TRUE(tree.verify().ok()) << tree.verify().first;
  EXPECT_EQ(names_in(tree.destination()), 1u) << "no temporary name left";
}

// A piece that fails (a write refused on one rank) fails its file once, with its name: the
// file its owner created is removed, the other file is whole, and every rank says so.
TEST(SplitCopyErrors, AFailedPieceRemovesItsFileAndIsToldOnce) {
  TreeFixture tree(0, 0);
  ASSERT_TRUE(tree.ok()) << tree.error();
  constexpr std::uint64_t kPiece = 64 * 1024;
  write_pattern(tree.source() + "/one", 6 * kPiece, 7);
  write_pattern(tree.source() + "/two", 6 * kPiece, 8);
  CopyOptions options = testing::archive_options();
  options.split_size = kPiece;
  std::atomic<int> writes{0};
  std::vector<CopyResult> results;
  std::vector<CopyProgress> progress;
  {
    // The threads engine writes a piece in one write: the fifth write anywhere fails.
    testing::ScopedFault fault([&](sys::Op op, long result) {
      if (op == sys::Op::write && result > 0 && writes.fetch_add(1) == 4) return -long{EIO};
      return result;
    });
    results = copy_by_ranks(3, tree, options, &progress);
  }
  ASSERT_GE(writes.load(), 5);
  // Both files were in pieces on every rank (one directory alone would be one rank's).
  for (const CopyProgress& p : progress) EXPECT_GT(p.bytes_done.load(), 0u);
  for (const CopyResult& r : results) {
    EXPECT_EQ(r.failed, 1u);
    EXPECT_EQ(r.copied.files, 1u);
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_EQ(r.errors[0].operation, "write");
    EXPECT_EQ(r.errors[0].code, EIO);
  }
  const std::string failed = results[0].errors[0].path;
  const std::string name = failed.substr(failed.rfind('/') + 1);
  ASSERT_TRUE(name == "one" || name == "two") << failed;
  const std::string other = name == "one" ? "two" : "one";
  EXPECT_FALSE(std::filesystem::exists(tree.destination() + "/" + name));
  VerifyResult verdict;
  EXPECT_FALSE(verify_copy(tree.source() + "/" + other, tree.destination() + "/" + other, {}, verdict));
  EXPECT_TRUE(verdict.ok()) << verdict.first;
  EXPECT_EQ(names_in(tree.destination()), 1u) << "nothing but the whole file";
}

// Cancelled while the pieces are copied: what the owners created is removed, and no temporary
// name is left behind.
TEST(SplitCopyCancel, LeavesNoPartialFileNorTemporaryName) {
  TreeFixture tree(0, 0);
  ASSERT_TRUE(tree.ok()) << tree.error();
  constexpr std::uint64_t kPiece = 64 * 1024;
  write_pattern(tree.source() + "/big", 8 * kPiece, 9);
  ASSERT_EQ(::mkdir(tree.destination().c_str(), 0755), 0);
  write_pattern(tree.destination() + "/big", 100, 10);  // replaced under a temporary name
  write_pattern(tree.source() + "/new", 8 * kPiece, 11);  // created under its own name
  CopyOptions options = testing::archive_options();
  options.overwrite = Overwrite::replace;
  options.split_size = kPiece;
  std::atomic<bool> cancel{false};
  options.cancel = &cancel;
  std::vector<CopyResult> results;
  {
    // The first write of a piece cancels the copy: every step after the create step stops.
    testing::ScopedFault fault([&](sys::Op op, long result) {
      if (op == sys::Op::write) cancel.store(true);
      return result;
    });
    results = copy_by_ranks(3, tree, options);
  }
  ASSERT_TRUE(cancel.load());
  for (const CopyResult& r : results) EXPECT_TRUE(r.cancelled);
  EXPECT_FALSE(std::filesystem::exists(tree.destination() + "/new"));
  EXPECT_EQ(std::filesystem::file_size(tree.destination() + "/big"), 100u) << "the old file stays";
  std::size_t names = 0;
  for (const auto& entry : std::filesystem::directory_iterator(tree.destination())) {
    EXPECT_FALSE(entry.path().filename().string().starts_with(".ccopy-")) << entry.path();
    ++names;
  }
  EXPECT_EQ(names, 1u);
}

}  // namespace
}  // namespace ccopy::dist
