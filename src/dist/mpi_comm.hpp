// Comm over MPI: MPI_COMM_WORLD. This header does not include <mpi.h>; its source does, and is
// compiled only into concurrent_copy_mpi.
#pragma once

#include <memory>
#include <string>

#include "dist/comm.hpp"

namespace ccopy::dist {

class MpiComm final : public Comm {
 public:
  /// Starts MPI (MPI_Init_thread), asking for MPI_THREAD_MULTIPLE so that messages may go while
  /// the collectives run on another thread; an MPI that grants less (MPI_THREAD_FUNNELED at
  /// least: only the thread that started it calls MPI) has no messages (has_messages()). Call
  /// once; check started() before anything else.
  MpiComm(int* argc, char*** argv);
  /// Ends MPI (MPI_Finalize), when it was started and not abandoned, once the messages sent
  /// are complete.
  ~MpiComm() override;
  /// Leaves MPI without MPI_Finalize: the launcher is tearing the job down (mpirun, sent
  /// SIGINT or SIGTERM, sends its ranks SIGTERM and stops answering them), and a finalize
  /// would wait for it until it kills the rank.
  void abandon() { started_ = false; }

  [[nodiscard]] bool started() const { return started_; }
  /// Why MPI could not start, when it could not.
  [[nodiscard]] const std::string& problem() const { return problem_; }

  [[nodiscard]] int rank() const override { return rank_; }
  [[nodiscard]] int size() const override { return size_; }
  [[nodiscard]] std::string host_name() const override { return host_; }
  void barrier() override;
  void broadcast(std::string& bytes, int root) override;
  [[nodiscard]] std::vector<std::string> gather(const std::string& bytes, int root) override;
  void all_reduce_sum(std::span<std::uint64_t> values) override;
  void all_reduce_max(std::span<std::uint64_t> values) override;
  [[nodiscard]] bool has_messages() const override { return messages_ != nullptr; }
  void send(std::string bytes, int to) override;
  [[nodiscard]] bool try_receive(std::string& bytes, int& from) override;
  void finish_sends() override;

 private:
  struct Messages;  ///< mpi_comm.cpp's: a communicator of their own, the sends in flight
  std::unique_ptr<Messages> messages_;
  bool started_ = false;
  std::string problem_;
  int rank_ = 0;
  int size_ = 1;
  std::string host_;
};

}  // namespace ccopy::dist
