#include "ipfix/send_thread.hpp"

#include <algorithm>
#include <utility>

namespace sockscope::ipfix {

SendThread::SendThread(std::size_t capacity, std::function<void(const Message&)> send,
                       std::chrono::milliseconds idle_every, std::function<void()> idle)
    : capacity_(capacity),
      max_batch_(1),
      wake_at_(1),
      send_([send = std::move(send)](std::span<const Message> batch, bool) {
        for (const Message& m : batch) send(m);
      }),
      idle_every_(idle_every),
      idle_(std::move(idle)),
      thread_([this] { run(); }) {}

SendThread::SendThread(std::size_t capacity, std::size_t max_batch, SendBatch send,
                       std::size_t wake_at)
    : capacity_(capacity),
      max_batch_(std::max<std::size_t>(max_batch, 1)),
      wake_at_(std::max<std::size_t>(wake_at, 1)),
      send_(std::move(send)),
      idle_every_(0),
      thread_([this] { run(); }) {}

void SendThread::push(std::span<const std::uint8_t> bytes, std::size_t records) {
  std::unique_lock lock(mutex_);
  // One message always fits, however large, so that the producer cannot wait forever.
  if (!queue_.empty() && queued_bytes_ + bytes.size() > capacity_) {
    ++waits_;
    kicked_ = true;  // an idle sender below its wake mark must make room
    not_empty_.notify_one();
    not_full_.wait(lock,
                   [&] { return queue_.empty() || queued_bytes_ + bytes.size() <= capacity_; });
  }
  Message m;
  if (!spare_.empty()) {
    m.bytes = std::move(spare_.back());
    spare_.pop_back();
  }
  m.bytes.assign(bytes.begin(), bytes.end());
  m.records = records;
  queued_bytes_ += m.bytes.size();
  queue_.push_back(std::move(m));
  const bool wake = due();
  lock.unlock();
  if (wake) not_empty_.notify_one();
}

void SendThread::kick() {
  {
    std::lock_guard lock(mutex_);
    kicked_ = true;
  }
  not_empty_.notify_one();
}

void SendThread::close() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(mutex_);
    closing_ = true;
  }
  not_empty_.notify_one();
  thread_.join();
}

void SendThread::run() {
  std::unique_lock lock(mutex_);
  auto woken = [&] { return closing_ || kicked_ || due(); };
  for (;;) {
    // Idle: until the wake mark, a kick or close().
    if (idle_ && idle_every_.count() > 0) {
      if (!not_empty_.wait_for(lock, idle_every_, woken)) {
        lock.unlock();
        idle_();
        lock.lock();
        continue;
      }
    } else {
      not_empty_.wait(lock, woken);
    }
    kicked_ = false;
    if (queue_.empty() && closing_) return;  // everything sent
    // Awake: everything queued goes, including what comes meanwhile.
    for (bool waited = true; !queue_.empty(); waited = false) {
      while (!queue_.empty() && batch_.size() < max_batch_) {
        batch_.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      lock.unlock();
      send_(batch_, waited);
      lock.lock();
      // The bytes leave the queue's count once sent, so that `capacity` bounds what
      // is held, the messages in flight included.
      for (Message& m : batch_) {
        queued_bytes_ -= m.bytes.size();
        if (spare_.size() < max_batch_ + 16) spare_.push_back(std::move(m.bytes));
      }
      batch_.clear();
      not_full_.notify_one();
    }
  }
}

}  // namespace sockscope::ipfix
