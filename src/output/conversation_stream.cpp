#include "output/conversation_stream.hpp"

namespace sockscope::output {

RowStream::RowStream(const Naming& naming, ConversationEncoder row)
    : naming_(naming), row_(row), thread_([this] { run(); }) {
  filling_.reserve(kChunk);
}

RowStream::~RowStream() {
  if (!finished_) {
    try {
      finish();
    } catch (...) {  // a destructor must not throw; finish() reports errors to callers
    }
  }
}

void RowStream::push(const Conversation& c) {
  filling_.push_back(c);
  if (filling_.size() == kChunk) hand_over();
}

void RowStream::hand_over() {
  std::unique_lock lock(mu_);
  room_.wait(lock, [&] { return queue_.size() < kQueued || error_; });
  queue_.push_back(std::move(filling_));
  ready_.notify_one();
  if (spare_.empty()) {
    lock.unlock();
    filling_ = {};
    filling_.reserve(kChunk);
  } else {
    filling_ = std::move(spare_.back());
    spare_.pop_back();
  }
}

void RowStream::finish() {
  if (finished_) return;
  finished_ = true;
  if (!filling_.empty()) hand_over();
  {
    std::lock_guard lock(mu_);
    done_ = true;
    ready_.notify_one();
  }
  thread_.join();
  if (error_) std::rethrow_exception(error_);
}

void RowStream::run() {
  for (;;) {
    std::vector<Conversation> chunk;
    {
      std::unique_lock lock(mu_);
      ready_.wait(lock, [&] { return !queue_.empty() || done_; });
      if (queue_.empty()) break;
      chunk = std::move(queue_.front());
      queue_.pop_front();
      room_.notify_one();
      if (error_) continue;  // after a failure: drain and discard until finish()
    }
    try {
      for (const Conversation& c : chunk) {
        row_(out_.buffer(), c, service_name(naming_, c));
        out_.maybe_flush();
      }
      chunk.clear();  // keeps its room
      std::lock_guard lock(mu_);
      spare_.push_back(std::move(chunk));
    } catch (...) {
      std::lock_guard lock(mu_);
      error_ = std::current_exception();
      queue_.clear();
      room_.notify_all();
    }
  }
  out_.flush();
}

}  // namespace sockscope::output
