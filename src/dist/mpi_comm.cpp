#include "dist/mpi_comm.hpp"

#include <fmt/format.h>
#include <mpi.h>

#include <climits>
#include <list>
#include <mutex>
#include <utility>

namespace ccopy::dist {
namespace {

// MPI counts are ints: a message longer than INT_MAX bytes would need derived datatypes, and
// nothing the ranks say to each other (a result, a check) comes near it.
int count_of(std::size_t n) { return n > INT_MAX ? INT_MAX : static_cast<int>(n); }

constexpr int kMessageTag = 1;

}  // namespace

// The messages go on a duplicate of MPI_COMM_WORLD, so that nothing else the program might send
// on the world is ever taken for one. A send's bytes live until its request completes.
struct MpiComm::Messages {
  MPI_Comm comm = MPI_COMM_NULL;
  std::mutex send_mutex;
  std::list<std::pair<std::string, MPI_Request>> in_flight;
  std::mutex receive_mutex;

  // Forgets the sends that are complete (under send_mutex).
  void reap() {
    for (auto it = in_flight.begin(); it != in_flight.end();) {
      int done = 0;
      MPI_Test(&it->second, &done, MPI_STATUS_IGNORE);
      it = done != 0 ? in_flight.erase(it) : std::next(it);
    }
  }
};

MpiComm::MpiComm(int* argc, char*** argv) {
  int provided = 0;
  if (MPI_Init_thread(argc, argv, MPI_THREAD_MULTIPLE, &provided) != MPI_SUCCESS) {
    problem_ = "MPI_Init_thread failed";
    return;
  }
  started_ = true;
  if (provided >= MPI_THREAD_MULTIPLE) {
    auto messages = std::make_unique<Messages>();
    if (MPI_Comm_dup(MPI_COMM_WORLD, &messages->comm) == MPI_SUCCESS)
      messages_ = std::move(messages);
  }
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
  char name[MPI_MAX_PROCESSOR_NAME] = {};
  int length = 0;
  if (MPI_Get_processor_name(name, &length) == MPI_SUCCESS)
    host_.assign(name, static_cast<std::size_t>(length));
  if (host_.empty()) host_ = "unknown";
}

MpiComm::~MpiComm() {
  if (!started_) return;
  if (messages_) {
    finish_sends();
    MPI_Comm_free(&messages_->comm);
  }
  MPI_Finalize();
}

void MpiComm::send(std::string bytes, int to) {
  std::lock_guard lock(messages_->send_mutex);
  messages_->reap();
  auto& sent = messages_->in_flight.emplace_back(std::move(bytes), MPI_REQUEST_NULL);
  MPI_Isend(sent.first.data(), count_of(sent.first.size()), MPI_CHAR, to, kMessageTag,
            messages_->comm, &sent.second);
}

bool MpiComm::try_receive(std::string& bytes, int& from) {
  std::lock_guard lock(messages_->receive_mutex);
  int found = 0;
  MPI_Message message = MPI_MESSAGE_NULL;
  MPI_Status status{};
  MPI_Improbe(MPI_ANY_SOURCE, kMessageTag, messages_->comm, &found, &message, &status);
  if (found == 0) return false;
  int count = 0;
  MPI_Get_count(&status, MPI_CHAR, &count);
  bytes.resize(static_cast<std::size_t>(count < 0 ? 0 : count));
  MPI_Mrecv(bytes.data(), count, MPI_CHAR, &message, MPI_STATUS_IGNORE);
  from = status.MPI_SOURCE;
  return true;
}

void MpiComm::finish_sends() {
  std::lock_guard lock(messages_->send_mutex);
  for (auto& [bytes, request] : messages_->in_flight) MPI_Wait(&request, MPI_STATUS_IGNORE);
  messages_->in_flight.clear();
}

void MpiComm::barrier() { MPI_Barrier(MPI_COMM_WORLD); }

void MpiComm::broadcast(std::string& bytes, int root) {
  unsigned long long n = bytes.size();
  MPI_Bcast(&n, 1, MPI_UNSIGNED_LONG_LONG, root, MPI_COMM_WORLD);
  bytes.resize(static_cast<std::size_t>(n));
  MPI_Bcast(bytes.data(), count_of(bytes.size()), MPI_CHAR, root, MPI_COMM_WORLD);
}

std::vector<std::string> MpiComm::gather(const std::string& bytes, int root) {
  const int mine = count_of(bytes.size());
  std::vector<int> counts(rank_ == root ? static_cast<std::size_t>(size_) : 0);
  MPI_Gather(&mine, 1, MPI_INT, counts.data(), 1, MPI_INT, root, MPI_COMM_WORLD);
  std::vector<int> offsets(counts.size());
  std::string all;
  if (rank_ == root) {
    long long total = 0;
    for (std::size_t r = 0; r < counts.size(); ++r) {
      offsets[r] = static_cast<int>(total);
      total += counts[r];
    }
    all.resize(static_cast<std::size_t>(total));
  }
  MPI_Gatherv(bytes.data(), mine, MPI_CHAR, all.data(), counts.data(), offsets.data(), MPI_CHAR,
              root, MPI_COMM_WORLD);
  std::vector<std::string> parts;
  for (std::size_t r = 0; r < counts.size(); ++r)
    parts.emplace_back(all, static_cast<std::size_t>(offsets[r]),
                       static_cast<std::size_t>(counts[r]));
  return parts;
}

void MpiComm::all_reduce_sum(std::span<std::uint64_t> values) {
  MPI_Allreduce(MPI_IN_PLACE, values.data(), count_of(values.size()), MPI_UINT64_T, MPI_SUM,
                MPI_COMM_WORLD);
}

void MpiComm::all_reduce_max(std::span<std::uint64_t> values) {
  MPI_Allreduce(MPI_IN_PLACE, values.data(), count_of(values.size()), MPI_UINT64_T, MPI_MAX,
                MPI_COMM_WORLD);
}

}  // namespace ccopy::dist
