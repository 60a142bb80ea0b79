// The decompressors under the capture reader (decompress.hpp): zlib's inflate for gzip
// and zlib streams, libzstd's streaming decoder, liblz4's frame decoder.
#include "capture/decompress.hpp"

#include <lz4frame.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>

namespace sockscope::capture_detail {
namespace {

// Compressed input read at a time: large enough that the system calls cost nothing,
// small enough to stay in the cache while it is decoded.
constexpr std::size_t kInputSize = 128u << 10;

// A codec over its compressed input (a file descriptor or memory), on the caller's
// thread: input read in kInputSize pieces, one library call at a time.
class Codec : public Decompressor {
 public:
  void attach(int fd, std::string_view memory, std::string_view prefix);
  std::ptrdiff_t read(std::uint8_t* out, std::size_t n) override;
  std::string error() const override { return error_; }
  bool truncated() const override { return truncated_; }
  std::uint64_t consumed() const override { return consumed_; }
  bool failed() const { return !error_.empty(); }

 protected:
  // One step over [in, in + *in_len) into [out, out + *out_len): on return the lengths
  // are what was used and produced. False with error_ set on damage. `done()` says
  // whether the last step ended a frame (or member) exactly.
  virtual bool step(const std::uint8_t* in, std::size_t* in_len, std::uint8_t* out,
                    std::size_t* out_len) = 0;
  virtual bool done() const = 0;
  virtual void next_frame() = 0;  // after done(), when more input follows
  std::string error_;

 private:
  bool refill_input();
  int fd_ = -1;
  std::string_view memory_;
  std::unique_ptr<std::uint8_t[]> in_;
  std::size_t in_size_ = 0, in_pos_ = 0, in_end_ = 0;
  bool eof_ = false, truncated_ = false;
  std::uint64_t consumed_ = 0;
};

class Inflate final : public Codec {
 public:
  Inflate() {
    // 15 + 32: a 32 KiB window, gzip or zlib header detected by inflate itself.
    ok_ = inflateInit2(&z_, 15 + 32) == Z_OK;
    if (!ok_) error_ = "zlib cannot start";
  }
  ~Inflate() override {
    if (ok_) inflateEnd(&z_);
  }

 private:
  bool step(const std::uint8_t* in, std::size_t* in_len, std::uint8_t* out,
            std::size_t* out_len) override {
    if (!ok_) return false;
    z_.next_in = const_cast<Bytef*>(in);
    z_.avail_in = uInt(*in_len > 0xffffffffu ? 0xffffffffu : *in_len);
    z_.next_out = out;
    z_.avail_out = uInt(*out_len > 0xffffffffu ? 0xffffffffu : *out_len);
    const uInt in_before = z_.avail_in, out_before = z_.avail_out;
    const int rc = inflate(&z_, Z_NO_FLUSH);
    *in_len = in_before - z_.avail_in;
    *out_len = out_before - z_.avail_out;
    ended_ = rc == Z_STREAM_END;
    if (rc == Z_OK || rc == Z_STREAM_END || rc == Z_BUF_ERROR) return true;
    error_ = z_.msg ? z_.msg : "damaged data";
    return false;
  }
  bool done() const override { return ended_; }
  void next_frame() override {
    inflateReset(&z_);
    ended_ = false;
  }
  z_stream z_{};
  bool ok_ = false, ended_ = false;
};

class Zstd final : public Codec {
 public:
  Zstd() : ctx_(ZSTD_createDCtx()) {
    if (!ctx_) error_ = "libzstd cannot start";
  }
  ~Zstd() override { ZSTD_freeDCtx(ctx_); }

 private:
  bool step(const std::uint8_t* in, std::size_t* in_len, std::uint8_t* out,
            std::size_t* out_len) override {
    if (!ctx_) return false;
    ZSTD_inBuffer i{in, *in_len, 0};
    ZSTD_outBuffer o{out, *out_len, 0};
    const std::size_t rc = ZSTD_decompressStream(ctx_, &o, &i);
    *in_len = i.pos;
    *out_len = o.pos;
    if (ZSTD_isError(rc)) {
      error_ = ZSTD_getErrorName(rc);
      return false;
    }
    ended_ = rc == 0;  // a frame decoded and flushed whole
    return true;
  }
  bool done() const override { return ended_; }
  void next_frame() override { ended_ = false; }  // libzstd starts the next frame itself
  ZSTD_DCtx* ctx_;
  bool ended_ = false;
};

class Lz4 final : public Codec {
 public:
  Lz4() {
    if (LZ4F_isError(LZ4F_createDecompressionContext(&ctx_, LZ4F_VERSION))) {
      ctx_ = nullptr;
      error_ = "liblz4 cannot start";
    }
  }
  ~Lz4() override { LZ4F_freeDecompressionContext(ctx_); }

 private:
  bool step(const std::uint8_t* in, std::size_t* in_len, std::uint8_t* out,
            std::size_t* out_len) override {
    if (!ctx_) return false;
    const std::size_t rc = LZ4F_decompress(ctx_, out, out_len, in, in_len, nullptr);
    if (LZ4F_isError(rc)) {
      error_ = LZ4F_getErrorName(rc);
      return false;
    }
    ended_ = rc == 0;  // the frame is complete; the context is ready for the next one
    return true;
  }
  bool done() const override { return ended_; }
  void next_frame() override { ended_ = false; }
  LZ4F_dctx* ctx_ = nullptr;
  bool ended_ = false;
};

}  // namespace

Compression detect_compression(const std::uint8_t* p, std::size_t n) {
  if (n >= 2 && p[0] == 0x1f && p[1] == 0x8b) return Compression::kGzip;
  if (n >= 4 && p[0] == 0x28 && p[1] == 0xb5 && p[2] == 0x2f && p[3] == 0xfd) {
    return Compression::kZstd;
  }
  if (n >= 4 && p[0] == 0x04 && p[1] == 0x22 && p[2] == 0x4d && p[3] == 0x18) {
    return Compression::kLz4;
  }
  // zlib (RFC 1950): deflate with a window of at most 32 KiB, a header that is a
  // multiple of 31, no preset dictionary. No capture magic number looks like one.
  if (n >= 2 && (p[0] & 0x0f) == 8 && (p[0] >> 4) <= 7 && ((p[0] << 8) | p[1]) % 31 == 0 &&
      !(p[1] & 0x20)) {
    return Compression::kZlib;
  }
  return Compression::kNone;
}

namespace {

// A codec on a thread of its own, kChunks chunks ahead of the reader: the reader copies
// what it needs out of the chunks (a memcpy, far cheaper than the decoding it no longer
// waits for).
class Threaded final : public Decompressor {
 public:
  explicit Threaded(std::unique_ptr<Codec> codec) : codec_(std::move(codec)) {
    for (Chunk& c : ring_) c.data.reset(new std::uint8_t[kChunkSize]);
    thread_ = std::thread([this] { run(); });
  }
  ~Threaded() override {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    changed_.notify_all();
    thread_.join();
  }
  std::ptrdiff_t read(std::uint8_t* out, std::size_t n) override;
  std::string error() const override { return finished_ ? codec_->error() : std::string(); }
  bool truncated() const override { return finished_ && codec_->truncated(); }
  std::uint64_t consumed() const override { return consumed_.load(std::memory_order_relaxed); }

 private:
  static constexpr std::size_t kChunks = 4, kChunkSize = 256u << 10;
  struct Chunk {
    std::unique_ptr<std::uint8_t[]> data;
    std::ptrdiff_t status = 0;  // bytes, or what the codec's read() returned (0 end, -1 error)
  };
  void run();
  std::unique_ptr<Codec> codec_;
  Chunk ring_[kChunks];
  std::uint64_t produced_ = 0, taken_ = 0;  // chunks (under mutex_)
  std::size_t pos_ = 0;                     // in the chunk being read (reader's)
  bool have_ = false;                       // the reader holds chunk taken_ % kChunks
  bool stop_ = false, finished_ = false;
  std::atomic<std::uint64_t> consumed_{0};
  std::mutex mutex_;
  std::condition_variable changed_;
  std::thread thread_;
};

void Threaded::run() {
  for (std::uint64_t i = 0;; ++i) {
    {
      std::unique_lock lock(mutex_);
      changed_.wait(lock, [&] { return stop_ || i - taken_ < kChunks; });
      if (stop_) return;
    }
    Chunk& c = ring_[i % kChunks];
    c.status = codec_->read(c.data.get(), kChunkSize);
    consumed_.store(codec_->consumed(), std::memory_order_relaxed);
    {
      std::lock_guard lock(mutex_);
      produced_ = i + 1;
    }
    changed_.notify_all();
    if (c.status <= 0) return;
  }
}

std::ptrdiff_t Threaded::read(std::uint8_t* out, std::size_t n) {
  if (!have_) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return produced_ > taken_; });
    have_ = true;
    pos_ = 0;
  }
  const Chunk& c = ring_[taken_ % kChunks];
  if (c.status <= 0) {
    finished_ = true;  // the codec is done: its error (if any) may be read now
    return c.status;
  }
  const std::size_t k = std::min(n, std::size_t(c.status) - pos_);
  std::memcpy(out, c.data.get() + pos_, k);
  pos_ += k;
  if (pos_ == std::size_t(c.status)) {  // hand the chunk back to the codec
    {
      std::lock_guard lock(mutex_);
      ++taken_;
      have_ = false;
    }
    changed_.notify_all();
  }
  return std::ptrdiff_t(k);
}

}  // namespace

std::unique_ptr<Decompressor> Decompressor::make(Compression kind, int fd, std::string_view memory,
                                                 std::string_view prefix) {
  std::unique_ptr<Codec> codec;
  switch (kind) {
    case Compression::kGzip:
    case Compression::kZlib: codec = std::make_unique<Inflate>(); break;
    case Compression::kZstd: codec = std::make_unique<Zstd>(); break;
    case Compression::kLz4: codec = std::make_unique<Lz4>(); break;
    case Compression::kNone: return nullptr;
  }
  codec->attach(fd, memory, prefix);
  if (fd < 0 || codec->failed()) return codec;
  return std::make_unique<Threaded>(std::move(codec));
}

Decompressor::~Decompressor() = default;

void Codec::attach(int fd, std::string_view memory, std::string_view prefix) {
  fd_ = fd;
  memory_ = memory;
  if (fd >= 0) {  // the look ahead may be a whole read of the reader's buffer
    in_size_ = std::max(kInputSize, prefix.size());
    in_.reset(new std::uint8_t[in_size_]);
    std::memcpy(in_.get(), prefix.data(), prefix.size());
    in_end_ = prefix.size();
  }
}

// More compressed input: false at its end (or on a read error, error_ set).
bool Codec::refill_input() {
  if (eof_) return false;
  if (fd_ < 0) {  // memory: all of it at once
    eof_ = true;
    return false;
  }
  for (;;) {
    const ssize_t n = ::read(fd_, in_.get(), in_size_);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) error_ = std::string("read failed: ") + std::strerror(errno);
    if (n <= 0) {
      eof_ = true;
      return false;
    }
    in_pos_ = 0;
    in_end_ = std::size_t(n);
    return true;
  }
}

std::ptrdiff_t Codec::read(std::uint8_t* out, std::size_t n) {
  if (!error_.empty()) return -1;
  if (fd_ < 0 && !eof_ && in_end_ == 0) in_end_ = memory_.size();
  const std::uint8_t* in =
      fd_ >= 0 ? in_.get() : reinterpret_cast<const std::uint8_t*>(memory_.data());
  std::size_t produced = 0;
  while (produced == 0) {
    if (in_pos_ == in_end_ && !refill_input()) {
      if (!error_.empty()) return -1;
      if (!done() && consumed_ > 0) {
        error_ = "compressed data ends inside a frame";
        truncated_ = true;
        return -1;
      }
      return 0;
    }
    if (done()) next_frame();  // another member or frame follows
    std::size_t used = in_end_ - in_pos_, made = n - produced;
    if (!step(in + in_pos_, &used, out + produced, &made)) return -1;
    in_pos_ += used;
    consumed_ += used;
    produced += made;
    if (used == 0 && made == 0 && !done() && in_pos_ < in_end_) {
      error_ = "damaged data (no progress)";
      return -1;
    }
  }
  return std::ptrdiff_t(produced);
}

}  // namespace sockscope::capture_detail
