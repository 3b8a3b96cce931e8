// What the ranks of a shared copy tell rank 0 while it runs, over Comm's messages: each error
// and note as it happens, and their progress counters a few times a second. Rank 0 tells its
// observer every rank's errors and notes, each once, as they arrive, and keeps the caller's
// CopyProgress at the sum of every rank's counters, so that its progress line shows the whole
// copy.
//
// The end of a copy: each rank calls finish() once it will report nothing more. A rank other than
// 0 then sends its last counters and an end message, the last it sends, and waits until its
// messages have left; rank 0 takes messages until it has every other rank's end (messages from
// one rank arrive in order, so nothing of that rank's is still on its way). No message is
// then pending on any rank, and none is lost.
//
// Where the Comm has no messages (an MPI without MPI_THREAD_MULTIPLE), live() is false, nothing
// is sent, and the caller tells the errors once the results are merged.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <vector>

#include "ccopy/copy.hpp"
#include "dist/comm.hpp"

namespace ccopy::dist {

class Relay {
 public:
  /// Collective. `observer` is the caller's (told on rank 0 only); `shown` the caller's
  /// progress (may be null): on rank 0 the sum of every rank's counters, elsewhere this rank's.
  Relay(Comm& comm, CopyObserver& observer, CopyProgress* shown);
  /// Finishes, when finish() was not called.
  ~Relay();
  Relay(const Relay&) = delete;
  Relay& operator=(const Relay&) = delete;

  /// Whether errors and progress go to rank 0 as they happen (every rank's Comm has messages).
  [[nodiscard]] bool live() const { return live_; }
  /// The counters this rank's copy advances: rank 0's own when live (the caller's are the
  /// sums), else the caller's (or the Relay's own when the caller has none).
  [[nodiscard]] CopyProgress* counters();

  /// This rank met `error` (thread-safe): rank 0 tells its observer, unless it was told
  /// already; another rank sends it to rank 0. Only when live().
  void failed(const CopyError& error);
  /// The same for a note.
  void note(std::string_view text);

  /// Called once this rank reports nothing more; on rank 0 it returns once every other rank
  /// has called it too. Leaves `shown` at the final counters.
  void finish();

  /// On rank 0, after finish(): whether the observer was told this error (or note) already.
  [[nodiscard]] bool told(const CopyError& error) const;
  [[nodiscard]] bool told(const std::string& note) const;

 private:
  using ErrorKey = std::tuple<std::string, std::string, std::string, int, std::string>;
  struct Counters {
    std::uint64_t files_found = 0, bytes_found = 0, entries_done = 0, files_done = 0,
                  bytes_done = 0, failures = 0;
    bool walk_done = false;
    bool operator==(const Counters&) const = default;
  };

  static ErrorKey key_of(const CopyError& e);
  [[nodiscard]] Counters snapshot();
  static std::string encode_counters(char kind, const Counters& counters);
  void tell_failed(const CopyError& error);
  void tell_note(const std::string& text);
  bool take_messages();
  void publish();
  void collect();
  void report();

  Comm& comm_;
  CopyObserver& observer_;
  CopyProgress* shown_;
  CopyProgress own_;
  bool live_ = false;
  bool finished_ = false;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::set<ErrorKey> told_errors_;
  std::set<std::string> told_notes_;
  std::vector<Counters> others_;  // rank 0: each rank's last counters
  int ended_ = 0;                 // rank 0: ranks whose end message arrived
  std::thread thread_;            // rank 0: collect(); others: report()
};

}  // namespace ccopy::dist
