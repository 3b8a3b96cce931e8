#include "dist/relay.hpp"

#include <chrono>
#include <cstring>
#include <system_error>

#include "dist/result_codec.hpp"

namespace ccopy::dist {
namespace {

// A message is one byte saying what it is, then its bytes.
constexpr char kError = 'e';
constexpr char kNote = 'n';
constexpr char kProgress = 'p';
constexpr char kEnd = 'd';  // the last counters, and the last message of its rank

// How often rank 0 looks for messages (and refreshes the sums), and another rank sends its
// counters when they changed; rank 0 looks more often once it only waits for the ends.
constexpr auto kCollectEvery = std::chrono::milliseconds(100);
constexpr auto kCollectAtEnd = std::chrono::milliseconds(2);
constexpr auto kReportEvery = std::chrono::milliseconds(250);

constexpr std::size_t kCounters = 7;

}  // namespace

Relay::Relay(Comm& comm, CopyObserver& observer, CopyProgress* shown)
    : comm_(comm), observer_(observer), shown_(shown) {
  // Every rank must agree, or rank 0 would wait for ends that never come.
  live_ = comm_.size() > 1 && comm_.max(comm_.has_messages() ? 0 : 1) == 0;
  if (!live_) return;
  if (comm_.rank() == 0) others_.resize(static_cast<std::size_t>(comm_.size()));
  try {
    if (comm_.rank() == 0)
      thread_ = std::thread([this] { collect(); });
    else
      thread_ = std::thread([this] { report(); });
  } catch (const std::system_error&) {
    // No thread: rank 0 takes every message in finish(), the others send no counters before it.
  }
}

Relay::~Relay() {
  if (!finished_) finish();
}

Relay::ErrorKey Relay::key_of(const CopyError& e) {
  return {e.path, e.destination, e.operation, e.code, e.detail};
}

CopyProgress* Relay::counters() {
  if (live_ && comm_.rank() == 0) return &own_;
  return shown_ != nullptr ? shown_ : &own_;
}

Relay::Counters Relay::snapshot() {
  const CopyProgress& p = *counters();
  Counters c;
  c.files_found = p.files_found.load();
  c.bytes_found = p.bytes_found.load();
  c.entries_done = p.entries_done.load();
  c.files_done = p.files_done.load();
  c.bytes_done = p.bytes_done.load();
  c.failures = p.failures.load();
  c.walk_done = p.walk_done.load();
  return c;
}

std::string Relay::encode_counters(char kind, const Counters& c) {
  const std::uint64_t values[kCounters] = {c.files_found,        c.bytes_found, c.entries_done,
                                           c.files_done,         c.bytes_done,  c.failures,
                                           c.walk_done ? 1u : 0u};
  std::string bytes(1 + sizeof values, kind);
  std::memcpy(bytes.data() + 1, values, sizeof values);
  return bytes;
}

void Relay::failed(const CopyError& error) {
  if (comm_.rank() == 0) return tell_failed(error);
  comm_.send(kError + encode_error(error), 0);
}

void Relay::note(std::string_view text) {
  if (comm_.rank() == 0) return tell_note(std::string(text));
  std::string bytes(1, kNote);
  bytes += text;
  comm_.send(std::move(bytes), 0);
}

void Relay::tell_failed(const CopyError& error) {
  {
    std::lock_guard lock(mutex_);
    if (!told_errors_.insert(key_of(error)).second) return;
  }
  observer_.failed(error);
}

void Relay::tell_note(const std::string& text) {
  {
    std::lock_guard lock(mutex_);
    if (!told_notes_.insert(text).second) return;
  }
  observer_.note(text);
}

bool Relay::told(const CopyError& error) const {
  std::lock_guard lock(mutex_);
  return told_errors_.count(key_of(error)) != 0;
}

bool Relay::told(const std::string& note) const {
  std::lock_guard lock(mutex_);
  return told_notes_.count(note) != 0;
}

// Rank 0: takes every message that has arrived. Bytes that are no message of a Relay's are
// dropped: the only senders on this channel are the other ranks' Relays.
bool Relay::take_messages() {
  bool took = false;
  std::string bytes;
  int from = 0;
  while (comm_.try_receive(bytes, from)) {
    took = true;
    if (bytes.empty() || from <= 0 || from >= comm_.size()) continue;
    const std::string body = bytes.substr(1);
    switch (bytes[0]) {
      case kError: {
        CopyError error;
        if (decode_error(body, error)) tell_failed(error);
        break;
      }
      case kNote:
        tell_note(body);
        break;
      case kProgress:
      case kEnd: {
        if (bytes[0] == kEnd) {  // counted even if its counters cannot be read: it is the last
          std::lock_guard lock(mutex_);
          ++ended_;
        }
        if (body.size() != kCounters * sizeof(std::uint64_t)) break;
        std::uint64_t v[kCounters];
        std::memcpy(v, body.data(), sizeof v);
        others_[static_cast<std::size_t>(from)] =
            Counters{v[0], v[1], v[2], v[3], v[4], v[5], v[6] != 0};
        break;
      }
      default:
        break;
    }
  }
  return took;
}

// Rank 0: the caller's counters become the sum of every rank's; the failures, the errors told
// (an error several ranks met is one failure, as in the result).
void Relay::publish() {
  if (shown_ == nullptr) return;
  Counters sum = snapshot();
  for (std::size_t r = 1; r < others_.size(); ++r) {
    const Counters& o = others_[r];
    sum.files_found += o.files_found;
    sum.bytes_found += o.bytes_found;
    sum.entries_done += o.entries_done;
    sum.files_done += o.files_done;
    sum.bytes_done += o.bytes_done;
    sum.walk_done = sum.walk_done && o.walk_done;
  }
  {
    std::lock_guard lock(mutex_);
    sum.failures = told_errors_.size();
  }
  shown_->files_found.store(sum.files_found);
  shown_->bytes_found.store(sum.bytes_found);
  shown_->entries_done.store(sum.entries_done);
  shown_->files_done.store(sum.files_done);
  shown_->bytes_done.store(sum.bytes_done);
  shown_->failures.store(sum.failures);
  shown_->walk_done.store(sum.walk_done);
}

// Rank 0's thread: takes the messages as they come, until finish() and every other rank's end.
void Relay::collect() {
  std::unique_lock lock(mutex_);
  for (;;) {
    lock.unlock();
    const bool took = take_messages();
    publish();
    lock.lock();
    if (stopping_ && ended_ == comm_.size() - 1) return;
    if (!took) wake_.wait_for(lock, stopping_ ? kCollectAtEnd : kCollectEvery);
  }
}

// Another rank's thread: sends its counters when they changed, until finish().
void Relay::report() {
  Counters last;
  std::unique_lock lock(mutex_);
  while (!wake_.wait_for(lock, kReportEvery, [this] { return stopping_; })) {
    lock.unlock();
    const Counters now = snapshot();
    if (now != last) {
      comm_.send(encode_counters(kProgress, now), 0);
      last = now;
    }
    lock.lock();
  }
}

void Relay::finish() {
  if (finished_) return;
  finished_ = true;
  if (!live_) return;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (comm_.rank() == 0) {
    if (thread_.joinable())
      thread_.join();
    else
      collect();
    publish();
    return;
  }
  if (thread_.joinable()) thread_.join();
  comm_.send(encode_counters(kEnd, snapshot()), 0);
  comm_.finish_sends();
}

}  // namespace ccopy::dist
