// CaptureInput: our reader first (fast), libpcap for filters, formats ours declines
// and live capture.
#include "sockscope/capture_input.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace sockscope {

CaptureInput::~CaptureInput() = default;

namespace {

// Standard input is a pipe or socket (not a file redirected in).
bool stdin_is_pipe() {
  struct stat st;
  return ::fstat(STDIN_FILENO, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode));
}

}  // namespace

std::expected<std::unique_ptr<CaptureInput>, Error> CaptureInput::open_file(
    const std::string& path, const std::string& filter, bool stream) {
  std::unique_ptr<CaptureInput> in(new CaptureInput());
  in->piped_ = stream && path == "-" && stdin_is_pipe();
  if (filter.empty() && !in->piped_) {
    auto reader = CaptureReader::open(path);
    if (reader) {
      in->reader_ = std::move(*reader);
      return in;
    }
    if (reader.error().code != Error::Code::kUnsupported) return std::unexpected(reader.error());
  }
  if (path != "-" && ::access(path.c_str(), R_OK) != 0) {
    return std::unexpected(Error::os(path, errno));  // missing or unreadable: not a usage error
  }
  auto source = PcapSource::open_file(path, filter);
  if (!source) {
    Error e = source.error();
    // A file neither reader takes is not a capture (a usage error, not an I/O one).
    if (e.code != Error::Code::kBadSyntax && e.code != Error::Code::kPermission) {
      e.code = Error::Code::kUnsupported;
    }
    return std::unexpected(std::move(e));
  }
  in->pcap_ = std::move(*source);
  return in;
}

std::expected<std::unique_ptr<CaptureInput>, Error> CaptureInput::open_interface(
    const LiveOptions& options) {
  auto source = PcapSource::open_live(options);
  if (!source) return std::unexpected(source.error());
  std::unique_ptr<CaptureInput> in(new CaptureInput());
  in->pcap_ = std::move(*source);
  in->live_ = true;
  return in;
}

void CaptureInput::read(ConversationTable& table, CaptureStats& stats,
                        const std::function<void(std::uint64_t)>& progress) {
  if (reader_) {
    read_capture(*reader_, table, stats, progress);
  } else {
    read_pcap(*pcap_, table, stats);
  }
}

void CaptureInput::read_streaming(ConversationTable& table, CaptureStats& stats,
                                  const std::function<void(std::uint64_t now_ns)>& tick,
                                  int tick_ms) {
  if (!pcap_ || !streams()) return read(table, stats);
  read_pcap_streaming(*pcap_, table, stats, tick, tick_ms);
}

void CaptureInput::stop() {
  if (pcap_) pcap_->stop();
}

const std::optional<Error>& CaptureInput::error() const {
  return reader_ ? reader_->error() : pcap_->error();
}

const std::string& CaptureInput::name() const { return reader_ ? reader_->name() : pcap_->name(); }

std::uint64_t CaptureInput::size() const { return reader_ ? reader_->size() : 0; }

std::optional<std::uint64_t> CaptureInput::kernel_drops() const {
  return pcap_ ? pcap_->kernel_drops() : std::nullopt;
}

}  // namespace sockscope
