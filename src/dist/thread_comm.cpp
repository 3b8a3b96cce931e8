#include <unistd.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <utility>

#include "dist/comm.hpp"

namespace ccopy::dist {

std::string LocalComm::host_name() const {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return "localhost";
  return name;
}

void LocalComm::send(std::string bytes, int) {
  std::lock_guard lock(mutex_);
  mailbox_.push_back(std::move(bytes));
}

bool LocalComm::try_receive(std::string& bytes, int& from) {
  std::lock_guard lock(mutex_);
  if (mailbox_.empty()) return false;
  bytes = std::move(mailbox_.front());
  mailbox_.pop_front();
  from = 0;
  return true;
}

// Every collective is an exchange: each rank puts its contribution in its slot and waits until
// all have; then each reads what it needs, and waits again until all have read, so that the
// slots may be reused by the next collective.
struct ThreadGroup::State {
  int size = 1;
  std::vector<std::string> hosts;
  std::mutex mutex;
  std::condition_variable changed;
  int arrived = 0;
  std::uint64_t generation = 0;
  std::vector<std::string> slots;
  std::vector<std::vector<std::uint64_t>> numbers;
  // The messages, apart from the collectives: each rank's mailbox, (sender, bytes) in order.
  std::mutex mail_mutex;
  std::vector<std::deque<std::pair<int, std::string>>> mailboxes;

  void wait_for_all(std::unique_lock<std::mutex>& lock) {
    const std::uint64_t mine = generation;
    if (++arrived == size) {
      arrived = 0;
      ++generation;
      changed.notify_all();
      return;
    }
    changed.wait(lock, [&] { return generation != mine; });
  }
};

ThreadGroup::ThreadGroup(int size, std::vector<std::string> hosts)
    : state_(std::make_unique<State>()) {
  state_->size = size < 1 ? 1 : size;
  const std::string here = LocalComm().host_name();
  hosts.resize(static_cast<std::size_t>(state_->size), here);
  for (std::string& h : hosts)
    if (h.empty()) h = here;
  state_->hosts = std::move(hosts);
  state_->slots.resize(static_cast<std::size_t>(state_->size));
  state_->numbers.resize(static_cast<std::size_t>(state_->size));
  state_->mailboxes.resize(static_cast<std::size_t>(state_->size));
}

ThreadGroup::~ThreadGroup() = default;

int ThreadComm::size() const { return group_.state_->size; }

std::string ThreadComm::host_name() const {
  return group_.state_->hosts[static_cast<std::size_t>(rank_)];
}

void ThreadComm::barrier() {
  ThreadGroup::State& s = *group_.state_;
  std::unique_lock lock(s.mutex);
  s.wait_for_all(lock);
}

void ThreadComm::broadcast(std::string& bytes, int root) {
  ThreadGroup::State& s = *group_.state_;
  std::unique_lock lock(s.mutex);
  if (rank_ == root) s.slots[static_cast<std::size_t>(root)] = bytes;
  s.wait_for_all(lock);
  if (rank_ != root) bytes = s.slots[static_cast<std::size_t>(root)];
  s.wait_for_all(lock);
}

std::vector<std::string> ThreadComm::gather(const std::string& bytes, int root) {
  ThreadGroup::State& s = *group_.state_;
  std::unique_lock lock(s.mutex);
  s.slots[static_cast<std::size_t>(rank_)] = bytes;
  s.wait_for_all(lock);
  std::vector<std::string> all;
  if (rank_ == root) all = s.slots;
  s.wait_for_all(lock);
  return all;
}

void ThreadComm::send(std::string bytes, int to) {
  ThreadGroup::State& s = *group_.state_;
  std::lock_guard lock(s.mail_mutex);
  s.mailboxes[static_cast<std::size_t>(to)].emplace_back(rank_, std::move(bytes));
}

bool ThreadComm::try_receive(std::string& bytes, int& from) {
  ThreadGroup::State& s = *group_.state_;
  std::lock_guard lock(s.mail_mutex);
  auto& mine = s.mailboxes[static_cast<std::size_t>(rank_)];
  if (mine.empty()) return false;
  from = mine.front().first;
  bytes = std::move(mine.front().second);
  mine.pop_front();
  return true;
}

namespace {

template <typename Combine>
void all_reduce(ThreadGroup::State& s, int rank, std::span<std::uint64_t> values, Combine combine) {
  std::unique_lock lock(s.mutex);
  s.numbers[static_cast<std::size_t>(rank)].assign(values.begin(), values.end());
  s.wait_for_all(lock);
  for (std::size_t i = 0; i < values.size(); ++i) {
    std::uint64_t v = s.numbers[0][i];
    for (std::size_t r = 1; r < s.numbers.size(); ++r) v = combine(v, s.numbers[r][i]);
    values[i] = v;
  }
  s.wait_for_all(lock);
}

}  // namespace

void ThreadComm::all_reduce_sum(std::span<std::uint64_t> values) {
  all_reduce(*group_.state_, rank_, values, [](std::uint64_t a, std::uint64_t b) { return a + b; });
}

void ThreadComm::all_reduce_max(std::span<std::uint64_t> values) {
  all_reduce(*group_.state_, rank_, values,
             [](std::uint64_t a, std::uint64_t b) { return a > b ? a : b; });
}

}  // namespace ccopy::dist
