// Comm: what the processes (ranks) that share one copy say to each other. Every call is
// collective (each rank of the group calls it, in the same order, or the group waits for ever),
// except the messages: send(), try_receive() and finish_sends() go from one rank to another,
// while the collectives run on another thread (a rank tells rank 0 of its errors and progress
// as they happen).
// Three implementations: LocalComm (one process, the plain binary), ThreadComm (ranks as threads
// of one process, for tests that must run without MPI and under ThreadSanitizer) and MpiComm
// (src/dist/mpi_comm.cpp, compiled only into concurrent_copy_mpi: the one file that includes
// <mpi.h>).
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

namespace ccopy::dist {

class Comm {
 public:
  virtual ~Comm() = default;
  Comm() = default;
  Comm(const Comm&) = delete;
  Comm& operator=(const Comm&) = delete;

  [[nodiscard]] virtual int rank() const = 0;
  [[nodiscard]] virtual int size() const = 0;
  /// The name of the host this rank runs on, as the others should see it in a message.
  [[nodiscard]] virtual std::string host_name() const = 0;

  /// Returns once every rank has called it.
  virtual void barrier() = 0;
  /// Makes `bytes` on every rank what it is on `root`.
  virtual void broadcast(std::string& bytes, int root) = 0;
  /// On `root`: every rank's `bytes`, in rank order; elsewhere: empty.
  [[nodiscard]] virtual std::vector<std::string> gather(const std::string& bytes, int root) = 0;
  /// Replaces each element of `values` by its sum (or maximum) over the ranks.
  virtual void all_reduce_sum(std::span<std::uint64_t> values) = 0;
  virtual void all_reduce_max(std::span<std::uint64_t> values) = 0;

  // ---- Messages: not collective ----

  /// Whether send(), try_receive() and finish_sends() may be used: from any thread, while
  /// another thread of the rank is in a collective call. When false (an MPI without
  /// MPI_THREAD_MULTIPLE), they must not be called at all.
  [[nodiscard]] virtual bool has_messages() const = 0;
  /// Sends `bytes` to rank `to` and returns without waiting for it to be received. Messages from
  /// one rank to another are received in the order they were sent. Thread-safe.
  virtual void send(std::string bytes, int to) = 0;
  /// Takes the next message sent to this rank, when one has arrived: true, with its bytes and
  /// its sender. Never waits. Thread-safe.
  [[nodiscard]] virtual bool try_receive(std::string& bytes, int& from) = 0;
  /// Waits until every message this rank sent has left it (MPI: its requests are complete),
  /// so that none is pending when the rank ends. Call it only once the receivers are known to
  /// take every message they are sent, or it may wait for ever.
  virtual void finish_sends() = 0;

  /// One value's sum or maximum over the ranks.
  [[nodiscard]] std::uint64_t sum(std::uint64_t value) {
    all_reduce_sum(std::span(&value, 1));
    return value;
  }
  [[nodiscard]] std::uint64_t max(std::uint64_t value) {
    all_reduce_max(std::span(&value, 1));
    return value;
  }
};

/// One process alone: rank 0 of 1.
class LocalComm final : public Comm {
 public:
  [[nodiscard]] int rank() const override { return 0; }
  [[nodiscard]] int size() const override { return 1; }
  [[nodiscard]] std::string host_name() const override;
  void barrier() override {}
  void broadcast(std::string&, int) override {}
  [[nodiscard]] std::vector<std::string> gather(const std::string& bytes, int) override {
    return {bytes};
  }
  void all_reduce_sum(std::span<std::uint64_t>) override {}
  void all_reduce_max(std::span<std::uint64_t>) override {}
  [[nodiscard]] bool has_messages() const override { return true; }
  void send(std::string bytes, int to) override;
  [[nodiscard]] bool try_receive(std::string& bytes, int& from) override;
  void finish_sends() override {}

 private:
  std::mutex mutex_;
  std::deque<std::string> mailbox_;  // what rank 0 sent itself
};

/// `size` ranks as threads of one process: make one ThreadGroup, and give each thread its own
/// ThreadComm of it. The host name of rank r is the one the group was given for it, so that a
/// test can play ranks on different hosts.
class ThreadGroup;
class ThreadComm final : public Comm {
 public:
  ThreadComm(ThreadGroup& group, int rank) : group_(group), rank_(rank) {}
  [[nodiscard]] int rank() const override { return rank_; }
  [[nodiscard]] int size() const override;
  [[nodiscard]] std::string host_name() const override;
  void barrier() override;
  void broadcast(std::string& bytes, int root) override;
  [[nodiscard]] std::vector<std::string> gather(const std::string& bytes, int root) override;
  void all_reduce_sum(std::span<std::uint64_t> values) override;
  void all_reduce_max(std::span<std::uint64_t> values) override;
  [[nodiscard]] bool has_messages() const override { return true; }
  void send(std::string bytes, int to) override;
  [[nodiscard]] bool try_receive(std::string& bytes, int& from) override;
  void finish_sends() override {}

 private:
  ThreadGroup& group_;
  int rank_;
};

/// The shared state of a ThreadComm group. Thread-safe.
class ThreadGroup {
 public:
  /// `hosts`: each rank's host name; empty: every rank on this process's host.
  explicit ThreadGroup(int size, std::vector<std::string> hosts = {});
  ~ThreadGroup();
  ThreadGroup(const ThreadGroup&) = delete;
  ThreadGroup& operator=(const ThreadGroup&) = delete;

  struct State;  ///< thread_comm.cpp's

 private:
  friend class ThreadComm;
  std::unique_ptr<State> state_;
};

}  // namespace ccopy::dist
