// The thread that sends a network transport's messages (UDP, TCP), behind a bounded
// queue: the encoder runs on the caller's thread (the capture reader) while the
// sender paces, writes and reconnects, so pacing overlaps reading. Internal.
//
// Nothing is dropped here: when the queue holds `capacity` bytes, push() waits
// until the sender has taken a message (an export is complete or reports its
// drops; a slow collector slows the producer, it does not lose records).
// An idle sender is woken when `wake_at` messages or half the capacity are queued,
// or by kick() (the producer has nothing more for now: a flush), not for every
// message: a wake-up is a futex call on each side and a cross-CPU interrupt, and a
// sender faster than its producer would otherwise sleep and wake once a message.
// Thread safety: push() and close() from one producer thread; the handlers run
// on the sender thread only, and what they touch is the producer's again after
// close() returns.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

namespace sockscope::ipfix {

class SendThread {
 public:
  struct Message {
    std::vector<std::uint8_t> bytes;
    std::size_t records = 0;
  };
  // `waited`: the queue was empty before this batch (the sender was idle).
  using SendBatch = std::function<void(std::span<const Message>, bool waited)>;
  // `send` runs for each message in order; `idle` (when set) every `idle_every`
  // while no message comes (TCP: the next connection attempt).
  SendThread(std::size_t capacity, std::function<void(const Message&)> send,
             std::chrono::milliseconds idle_every = std::chrono::milliseconds(0),
             std::function<void()> idle = {});
  // `send` runs for the messages queued so far, in order, at most `max_batch` at a
  // time (UDP: one sendmmsg(2) for several); an idle sender waits for `wake_at`
  // messages or a kick().
  SendThread(std::size_t capacity, std::size_t max_batch, SendBatch send, std::size_t wake_at = 1);
  ~SendThread() { close(); }
  SendThread(const SendThread&) = delete;
  SendThread& operator=(const SendThread&) = delete;

  // Queues a copy of `bytes`; waits while the queue is full.
  void push(std::span<const std::uint8_t> bytes, std::size_t records);
  // Wakes the sender for what is queued, however little (after a flush).
  void kick();
  // Waits until every queued message has been sent, then ends the thread.
  void close();
  // How often push() had to wait for the sender (after close()).
  std::uint64_t waits() const { return waits_; }

 private:
  void run();
  // An idle sender's wake mark (under mutex_).
  bool due() const { return queue_.size() >= wake_at_ || 2 * queued_bytes_ >= capacity_; }
  std::size_t capacity_;
  std::size_t max_batch_;
  std::size_t wake_at_;
  SendBatch send_;
  std::chrono::milliseconds idle_every_;
  std::function<void()> idle_;
  std::mutex mutex_;
  std::condition_variable not_empty_, not_full_;
  std::deque<Message> queue_;
  std::vector<Message> batch_;                    // the sender thread's: the messages being sent
  std::vector<std::vector<std::uint8_t>> spare_;  // sent messages' buffers, reused
  std::size_t queued_bytes_ = 0;
  bool closing_ = false;
  bool kicked_ = false;      // kick(): wake for what is queued, however little
  std::uint64_t waits_ = 0;  // the producer's only
  std::thread thread_;       // last: started once the rest is in place
};

}  // namespace sockscope::ipfix
