#include "output/sink.hpp"

#include <cerrno>

namespace sockscope::output {

void Sink::flush() {
  if (text_) {
    text_->append(buf_.data(), buf_.size());
    buf_.clear();
    return;
  }
  const char* p = buf_.data();
  std::size_t left = buf_.size();
  while (left > 0 && !failed_) {
    const ssize_t n = ::write(fd_, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      failed_ = true;  // EPIPE (e.g. `| head`): drop the rest quietly
      break;
    }
    p += n;
    left -= std::size_t(n);
  }
  buf_.clear();
}

}  // namespace sockscope::output
