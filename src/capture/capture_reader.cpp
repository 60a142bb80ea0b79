// Our own reader for classic pcap and pcapng: large read() calls into one buffer and
// a walk over the record headers. This is the fast path (libpcap's pcap_next_ex costs
// about 8x more per record); libpcap stays for live capture and other formats.
#include "sockscope/capture_reader.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <string>

#include "capture/decompress.hpp"
#include "capture/wire.hpp"

namespace sockscope {
namespace {

using capture_detail::load16;
using capture_detail::load32;
using capture_detail::load64;

// Bytes per read() at most: small enough that what the kernel copies in is still in
// the core's L2 cache when the records are decoded, large enough that the system calls
// cost nothing (4,000 per GB).
constexpr std::size_t kBufferSize = 256u << 10;
constexpr std::uint32_t kPcapMagicUs = 0xa1b2c3d4;
constexpr std::uint32_t kPcapMagicNs = 0xa1b23c4d;
constexpr std::uint32_t kPcapNgSection = 0x0a0d0d0a;
constexpr std::uint32_t kPcapNgByteOrder = 0x1a2b3c4d;

// pcapng timestamp units (if_tsresol) to nanoseconds.
std::uint64_t units_to_ns(std::uint64_t units, std::uint64_t per_second) {
  if (per_second == 1'000'000) return units * 1000;
  if (per_second == 1'000'000'000) return units;
  const unsigned __int128 ns = (unsigned __int128)units * 1'000'000'000u / per_second;
  return std::uint64_t(ns);
}

}  // namespace

// Everything of the reader but the window next() walks inline: the input, the
// decompressor, the pcapng interfaces, the error. Its methods are the slow path.
struct CaptureReader::Impl {
  explicit Impl(Window& window) : w_(window) {}
  ~Impl() {
    if (own_fd_ && fd_ >= 0) ::close(fd_);
  }
  // Ensures `need` bytes at the window's position; false at the end of the input.
  bool fill(std::size_t need) { return w_.end - w_.pos >= need || refill(need); }
  bool refill(std::size_t need);
  void decompression_failed();
  bool next_slow(RawPacket& out) {
    if (error_) return false;
    return format_ == CaptureFormat::kPcap ? next_pcap(out) : next_pcapng(out);
  }
  bool next_pcap(RawPacket& out);
  bool next_pcapng(RawPacket& out);
  bool read_pcapng_section_header();
  bool read_pcapng_interface(const std::uint8_t* block, std::uint32_t length);
  bool fail(Error::Code code, std::string message);
  std::expected<void, Error> read_file_header();
  std::expected<void, Error> start_decompressing(std::string_view memory);

  Window& w_;
  int fd_ = -1;
  bool own_fd_ = false;
  bool eof_ = false;
  std::string name_;
  std::unique_ptr<std::uint8_t[]> storage_;
  std::size_t cap_ = 0;
  std::uint64_t file_size_ = 0;
  std::optional<Error> error_;
  CaptureFormat format_ = CaptureFormat::kPcap;
  bool swapped_ = false;  // file byte order differs from ours
  std::uint32_t snaplen_ = 0;
  struct Interface {
    std::uint32_t linktype = 0;
    std::uint32_t snaplen = 0;
    std::uint64_t units_per_second = 1'000'000;
    std::int64_t offset_seconds = 0;
  };
  std::unique_ptr<Interface[]> interfaces_;
  std::size_t interface_count_ = 0, interface_cap_ = 0;
  std::uint64_t last_ts_ns_ = 0;
  Compression compression_ = Compression::kNone;
  std::unique_ptr<capture_detail::Decompressor> decompressor_;
};

CaptureReader::CaptureReader() : impl_(std::make_unique<Impl>(window_)) {}
CaptureReader::~CaptureReader() = default;

bool CaptureReader::next_slow(RawPacket& out) { return impl_->next_slow(out); }
const std::optional<Error>& CaptureReader::error() const { return impl_->error_; }
CaptureFormat CaptureReader::format() const { return impl_->format_; }
const std::string& CaptureReader::name() const { return impl_->name_; }
Compression CaptureReader::compression() const { return impl_->compression_; }
std::uint64_t CaptureReader::size() const { return impl_->file_size_; }
std::uint64_t CaptureReader::input_offset() const {
  return impl_->decompressor_ ? impl_->decompressor_->consumed() : window_.consumed;
}

std::string_view to_string(Compression c) {
  switch (c) {
    case Compression::kNone: return "none";
    case Compression::kGzip: return "gzip";
    case Compression::kZlib: return "zlib";
    case Compression::kZstd: return "zstd";
    case Compression::kLz4: return "lz4";
  }
  return "none";
}

// When the bytes at the start are a compressed stream's magic number: from now on the
// buffer is filled by its decompressor (the bytes read so far are its first input).
std::expected<void, Error> CaptureReader::Impl::start_decompressing(std::string_view memory) {
  compression_ = capture_detail::detect_compression(w_.buf + w_.pos, w_.end - w_.pos);
  if (compression_ == Compression::kNone) return {};
  const std::string_view prefix(reinterpret_cast<const char*>(w_.buf + w_.pos), w_.end - w_.pos);
  decompressor_ = capture_detail::Decompressor::make(compression_, fd_, memory, prefix);
  if (!decompressor_->error().empty()) {
    return std::unexpected(Error{Error::Code::kIo, name_ + ": " + decompressor_->error(), 0, {}});
  }
  if (!storage_) {  // memory: the decompressed bytes need a buffer of their own
    storage_.reset(new std::uint8_t[kBufferSize]);
    cap_ = kBufferSize;
  }
  w_.buf = storage_.get();
  w_.pos = w_.end = 0;
  eof_ = false;
  return {};
}

std::expected<std::unique_ptr<CaptureReader>, Error> CaptureReader::open(const std::string& path) {
  std::unique_ptr<CaptureReader> r(new CaptureReader());
  Impl& m = *r->impl_;
  m.name_ = path == "-" ? "standard input" : path;
  if (path == "-") {
    m.fd_ = STDIN_FILENO;
  } else {
    m.fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (m.fd_ < 0) {
      const int err = errno;
      return std::unexpected(
          Error{err == EACCES || err == EPERM ? Error::Code::kPermission : Error::Code::kIo,
                "cannot open " + path + ": " + std::strerror(err), 0, path});
    }
    m.own_fd_ = true;
  }
  struct stat st;
  if (::fstat(m.fd_, &st) == 0 && S_ISREG(st.st_mode)) {
    m.file_size_ = std::uint64_t(st.st_size);
    ::posix_fadvise(m.fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
  } else if (::fstat(m.fd_, &st) == 0 && S_ISDIR(st.st_mode)) {
    return std::unexpected(Error{Error::Code::kIo, path + " is a directory", 0, path});
  }
  m.storage_.reset(new std::uint8_t[kBufferSize]);
  r->window_.buf = m.storage_.get();
  m.cap_ = kBufferSize;
  m.fill(4);  // the magic number: a capture's or a compressor's
  if (m.error_) return std::unexpected(*m.error_);
  if (auto ok = m.start_decompressing({}); !ok) return std::unexpected(ok.error());
  if (auto ok = m.read_file_header(); !ok) return std::unexpected(ok.error());
  return r;
}

std::expected<std::unique_ptr<CaptureReader>, Error> CaptureReader::from_memory(
    std::string_view bytes, std::string name) {
  std::unique_ptr<CaptureReader> r(new CaptureReader());
  Impl& m = *r->impl_;
  m.name_ = std::move(name);
  r->window_.buf = reinterpret_cast<const std::uint8_t*>(bytes.data());
  m.cap_ = r->window_.end = bytes.size();
  m.eof_ = true;
  m.file_size_ = bytes.size();
  if (auto ok = m.start_decompressing(bytes); !ok) return std::unexpected(ok.error());
  if (auto ok = m.read_file_header(); !ok) return std::unexpected(ok.error());
  return r;
}

bool CaptureReader::Impl::refill(std::size_t need) {
  if (eof_ || !storage_ || error_) return false;
  if (need > cap_) {  // a record larger than the buffer: grow it (bounded by kMaxRecord)
    std::size_t cap = cap_;
    while (cap < need) cap *= 2;
    std::unique_ptr<std::uint8_t[]> bigger(new std::uint8_t[cap]);
    std::memcpy(bigger.get(), w_.buf + w_.pos, w_.end - w_.pos);
    w_.end -= w_.pos;
    w_.pos = 0;
    storage_ = std::move(bigger);
    w_.buf = storage_.get();
    cap_ = cap;
  } else if (w_.pos > 0) {
    std::memmove(storage_.get(), w_.buf + w_.pos, w_.end - w_.pos);
    w_.end -= w_.pos;
    w_.pos = 0;
  }
  while (w_.end - w_.pos < need) {
    if (decompressor_) {
      const std::ptrdiff_t n = decompressor_->read(storage_.get() + w_.end, cap_ - w_.end);
      if (n <= 0) {
        eof_ = true;
        if (n < 0) decompression_failed();
        return false;
      }
      w_.end += std::size_t(n);
      continue;
    }
    ssize_t n = ::read(fd_, storage_.get() + w_.end, cap_ - w_.end);
    if (n < 0) {
      if (errno == EINTR) continue;
      eof_ = true;
      error_ = Error{Error::Code::kIo, name_ + ": read failed: " + std::strerror(errno), 0, {}};
      return false;
    }
    if (n == 0) {
      eof_ = true;
      return false;
    }
    w_.end += std::size_t(n);
  }
  return true;
}

void CaptureReader::Impl::decompression_failed() {
  const bool cut = decompressor_->truncated();
  error_ =
      Error{cut ? Error::Code::kTruncated : Error::Code::kBadSyntax,
            name_ + ": " + std::string(to_string(compression_)) + " " + decompressor_->error() +
                " (at compressed byte " + std::to_string(decompressor_->consumed()) +
                ", capture byte " + std::to_string(w_.consumed + (w_.end - w_.pos)) + ")",
            0,
            {}};
  w_.plain_pcap = false;
}

bool CaptureReader::Impl::fail(Error::Code code, std::string message) {
  w_.plain_pcap = false;
  if (compression_ != Compression::kNone) {  // byte offsets are the decompressed data's
    message += " of the " + std::string(to_string(compression_)) + "-decompressed data";
  }
  if (!error_) error_ = Error{code, name_ + ": " + std::move(message), 0, {}};
  return false;
}

std::expected<void, Error> CaptureReader::Impl::read_file_header() {
  auto bad = [&](Error::Code code, std::string message) {
    return std::unexpected(Error{code, name_ + ": " + std::move(message), 0, {}});
  };
  if (!fill(4)) {
    if (error_) return std::unexpected(*error_);
    return bad(w_.end == 0 ? Error::Code::kEmpty : Error::Code::kTruncated,
               w_.end == 0 ? "empty file" : "file too short for a capture header");
  }
  std::uint32_t magic;
  std::memcpy(&magic, w_.buf + w_.pos, 4);
  if (magic == kPcapNgSection) {
    format_ = CaptureFormat::kPcapNg;
    if (!read_pcapng_section_header()) {
      return std::unexpected(
          error_
              ? *error_
              : Error{Error::Code::kTruncated, name_ + ": pcapng section header cut short", 0, {}});
    }
    return {};
  }
  if (magic == kPcapMagicUs || magic == kPcapMagicNs) {
    swapped_ = false;
  } else if (magic == __builtin_bswap32(kPcapMagicUs) || magic == __builtin_bswap32(kPcapMagicNs)) {
    swapped_ = true;
  } else {
    return bad(Error::Code::kUnsupported,
               "not a pcap or pcapng file (magic number " + std::to_string(magic) + ")");
  }
  if (!fill(24)) return bad(Error::Code::kTruncated, "pcap file header cut short");
  const std::uint8_t* h = w_.buf + w_.pos;
  const std::uint32_t m = load32(h, swapped_);
  w_.ts_scale = m == kPcapMagicNs ? 1 : 1000;
  const std::uint16_t major = load16(h + 4, swapped_);
  if (major != 2) return bad(Error::Code::kUnsupported, "pcap version " + std::to_string(major));
  snaplen_ = load32(h + 16, swapped_);
  w_.linktype = load32(h + 20, swapped_) & 0x0fffffffu;  // upper bits: FCS length
  w_.pos += 24;
  w_.consumed += 24;
  format_ = CaptureFormat::kPcap;
  w_.plain_pcap = !swapped_;
  return {};
}

bool CaptureReader::Impl::next_pcap(RawPacket& out) {
  if (!fill(16)) {
    if (w_.end != w_.pos)
      fail(Error::Code::kTruncated,
           "file ends inside a record header at byte " + std::to_string(w_.consumed));
    return false;
  }
  const std::uint8_t* h = w_.buf + w_.pos;
  const std::uint32_t sec = load32(h, swapped_);
  const std::uint32_t frac = load32(h + 4, swapped_);
  const std::uint32_t caplen = load32(h + 8, swapped_);
  const std::uint32_t wire = load32(h + 12, swapped_);
  if (caplen > kMaxRecord) {
    return fail(Error::Code::kBadSyntax, "damaged record at byte " + std::to_string(w_.consumed) +
                                             ": captured length " + std::to_string(caplen));
  }
  if (!fill(16 + std::size_t(caplen))) {
    return fail(Error::Code::kTruncated,
                "file ends inside a packet record at byte " + std::to_string(w_.consumed));
  }
  out.ts_ns = std::uint64_t(sec) * 1'000'000'000u + std::uint64_t(frac) * w_.ts_scale;
  out.caplen = caplen;
  out.wire_len = wire;
  out.linktype = w_.linktype;
  out.data = w_.buf + w_.pos + 16;
  w_.pos += 16 + std::size_t(caplen);
  w_.consumed += 16 + std::uint64_t(caplen);
  return true;
}

bool CaptureReader::Impl::read_pcapng_section_header() {
  if (!fill(12)) return fail(Error::Code::kTruncated, "pcapng section header cut short");
  const std::uint8_t* b = w_.buf + w_.pos;
  const std::uint32_t order = load32(b + 8, false);
  if (order == kPcapNgByteOrder) {
    swapped_ = false;
  } else if (order == __builtin_bswap32(kPcapNgByteOrder)) {
    swapped_ = true;
  } else {
    return fail(Error::Code::kBadSyntax, "pcapng section header with a bad byte-order magic");
  }
  const std::uint32_t length = load32(b + 4, swapped_);
  if (length < 28 || length % 4 != 0 || length > kMaxRecord) {
    return fail(Error::Code::kBadSyntax,
                "pcapng section header of length " + std::to_string(length));
  }
  if (!fill(length)) return fail(Error::Code::kTruncated, "pcapng section header cut short");
  interface_count_ = 0;
  w_.pos += length;
  w_.consumed += length;
  return true;
}

bool CaptureReader::Impl::read_pcapng_interface(const std::uint8_t* block, std::uint32_t length) {
  if (length < 20) return fail(Error::Code::kBadSyntax, "pcapng interface block too short");
  Interface itf;
  itf.linktype = load16(block + 8, swapped_);
  itf.snaplen = load32(block + 12, swapped_);
  // Options: code(2) length(2) value padded to 4 bytes, until opt_endofopt or the end.
  std::size_t off = 16;
  const std::size_t end = length - 4;
  while (off + 4 <= end) {
    const std::uint16_t code = load16(block + off, swapped_);
    const std::uint16_t len = load16(block + off + 2, swapped_);
    off += 4;
    if (code == 0 || off + len > end) break;
    if (code == 9 && len >= 1) {  // if_tsresol
      const std::uint8_t v = block[off];
      const unsigned exp = v & 0x7f;
      if (v & 0x80) {
        if (exp <= 63) itf.units_per_second = std::uint64_t(1) << exp;
      } else if (exp <= 19) {
        std::uint64_t u = 1;
        for (unsigned i = 0; i < exp; ++i) u *= 10;
        itf.units_per_second = u;
      }
    } else if (code == 14 && len >= 8) {  // if_tsoffset
      itf.offset_seconds = std::int64_t(load64(block + off, swapped_));
    }
    off += (std::size_t(len) + 3) & ~std::size_t(3);
  }
  if (interface_count_ == interface_cap_) {
    const std::size_t cap = interface_cap_ ? interface_cap_ * 2 : 4;
    if (cap > 65536) return fail(Error::Code::kBadSyntax, "more than 65536 pcapng interfaces");
    std::unique_ptr<Interface[]> bigger(new Interface[cap]);
    for (std::size_t i = 0; i < interface_count_; ++i) bigger[i] = interfaces_[i];
    interfaces_ = std::move(bigger);
    interface_cap_ = cap;
  }
  interfaces_[interface_count_++] = itf;
  return true;
}

bool CaptureReader::Impl::next_pcapng(RawPacket& out) {
  for (;;) {
    if (!fill(8)) {
      if (w_.end != w_.pos)
        fail(Error::Code::kTruncated,
             "file ends inside a block header at byte " + std::to_string(w_.consumed));
      return false;
    }
    const std::uint32_t type = load32(w_.buf + w_.pos, swapped_);
    if (load32(w_.buf + w_.pos, false) == kPcapNgSection) {
      if (!read_pcapng_section_header()) return false;
      continue;
    }
    const std::uint32_t length = load32(w_.buf + w_.pos + 4, swapped_);
    if (length < 12 || length % 4 != 0 || length > kMaxRecord) {
      return fail(Error::Code::kBadSyntax, "damaged pcapng block at byte " +
                                               std::to_string(w_.consumed) + ": length " +
                                               std::to_string(length));
    }
    if (!fill(length)) {
      return fail(Error::Code::kTruncated,
                  "file ends inside a pcapng block at byte " + std::to_string(w_.consumed));
    }
    const std::uint8_t* b = w_.buf + w_.pos;
    const std::uint64_t at = w_.consumed;
    w_.pos += length;
    w_.consumed += length;
    if (type == 1) {
      if (!read_pcapng_interface(b, length)) return false;
      continue;
    }
    std::uint32_t interface = 0, caplen = 0, wire = 0;
    std::uint64_t units = 0;
    const std::uint8_t* data = nullptr;
    if (type == 6 || type == 2) {  // enhanced packet block; obsolete packet block
      if (length < 32) return fail(Error::Code::kBadSyntax, "pcapng packet block too short");
      interface = type == 6 ? load32(b + 8, swapped_) : load16(b + 8, swapped_);
      units = (std::uint64_t(load32(b + 12, swapped_)) << 32) | load32(b + 16, swapped_);
      caplen = load32(b + 20, swapped_);
      wire = load32(b + 24, swapped_);
      data = b + 28;
      if (caplen > length - 32) {
        return fail(Error::Code::kBadSyntax,
                    "damaged pcapng packet block at byte " + std::to_string(at));
      }
    } else if (type == 3) {  // simple packet block: interface 0, no timestamp
      if (length < 16) return fail(Error::Code::kBadSyntax, "pcapng simple block too short");
      wire = load32(b + 8, swapped_);
      caplen = std::min<std::uint32_t>(wire, length - 16);
      // The captured length is min(wire length, interface 0's snaplen), not the padding.
      if (interface_count_ > 0 && interfaces_[0].snaplen != 0) {
        caplen = std::min(caplen, interfaces_[0].snaplen);
      }
      data = b + 12;
    } else {
      continue;  // name resolution, statistics, custom and unknown blocks
    }
    if (interface >= interface_count_) {
      return fail(Error::Code::kBadSyntax, "pcapng packet for undeclared interface " +
                                               std::to_string(interface) + " at byte " +
                                               std::to_string(at));
    }
    const Interface& itf = interfaces_[interface];
    if (type == 3) {
      out.ts_ns = last_ts_ns_;
    } else {
      out.ts_ns = units_to_ns(units, itf.units_per_second) +
                  std::uint64_t(itf.offset_seconds) * 1'000'000'000u;
      last_ts_ns_ = out.ts_ns;
    }
    out.caplen = caplen;
    out.wire_len = wire;
    out.linktype = itf.linktype;
    out.data = data;
    return true;
  }
}

}  // namespace sockscope
