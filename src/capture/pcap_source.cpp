// libpcap as a packet source: live capture, files our own reader declines, and BPF
// filters for the files it takes (compiled per link type, run by pcap_offline_filter).
// libpcap is loaded on first use (capture/libpcap.hpp), not linked.
#include <pcap/pcap.h>
#include <poll.h>

#include <algorithm>
#include <chrono>
#include <cstring>

#include "capture/libpcap.hpp"
#include "capture/link_types.hpp"
#include "capture/packet_loop.hpp"
#include "sockscope/capture_live.hpp"

namespace sockscope {
namespace {

std::uint64_t now_ns() {
  return std::uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(
                           std::chrono::steady_clock::now().time_since_epoch())
                           .count());
}

// The loaded library. REQUIRES: Libpcap::get() succeeded (true once a pcap_t exists).
const capture::Libpcap& lib() { return **capture::Libpcap::get(); }

Error pcap_error(std::string what, const char* detail) {
  std::string message = std::move(what) + ": " + detail;
  Error::Code code = Error::Code::kIo;
  if (std::strstr(detail, "ermission") || std::strstr(detail, "not permitted")) {
    code = Error::Code::kPermission;
  }
  return Error{code, std::move(message), 0, {}};
}

std::expected<void, Error> apply_filter(pcap_t* p, const std::string& filter,
                                        const std::string& name) {
  if (filter.empty()) return {};
  bpf_program program;
  if (lib().compile(p, &program, filter.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0) {
    return std::unexpected(
        Error{Error::Code::kBadSyntax, "filter '" + filter + "': " + lib().geterr(p), 0, filter});
  }
  const int rc = lib().setfilter(p, &program);
  lib().freecode(&program);
  if (rc != 0)
    return std::unexpected(pcap_error(name + ": cannot set the filter", lib().geterr(p)));
  return {};
}

}  // namespace

// A filter compiled for one link type (a "dead" pcap_t names the link type).
struct PcapSource::Program {
  std::uint32_t linktype = 0;
  pcap_t* dead = nullptr;
  bpf_program code{};
  ~Program() {
    if (!dead) return;
    lib().freecode(&code);
    lib().close(dead);
  }
};

PcapSource::PcapSource() = default;

PcapSource::~PcapSource() {
  if (pcap_) lib().close(pcap_);
}

namespace {

// The DLT_ value libpcap compiles for, of a file's LINKTYPE_ value: the same number but
// for raw IP, whose DLT_ differs by platform (libpcap maps it the same way when it
// reads a file).
int dlt_of(std::uint32_t linktype) {
  return linktype == capture_detail::kLinkRaw ? DLT_RAW : int(linktype);
}

// The filter compiled for `linktype`, or the error libpcap gives.
std::expected<std::unique_ptr<PcapSource::Program>, std::string> compile_for(
    const std::string& filter, std::uint32_t linktype) {
  auto program = std::make_unique<PcapSource::Program>();
  program->linktype = linktype;
  program->dead = lib().open_dead(dlt_of(linktype), 262144);
  if (!program->dead) return std::unexpected(std::string("libpcap cannot open a dead handle"));
  if (lib().compile(program->dead, &program->code, filter.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0) {
    std::string why = lib().geterr(program->dead);
    lib().close(program->dead);
    program->dead = nullptr;
    return std::unexpected(why);
  }
  return program;
}

}  // namespace

const PcapSource::Program* PcapSource::program_for(std::uint32_t linktype) {
  for (const auto& p : programs_) {
    if (p->linktype == linktype) return p.get();
  }
  auto program = compile_for(filter_, linktype);
  if (!program) {
    error_ = Error{Error::Code::kBadSyntax,
                   name_ + ": filter '" + filter_ + "' does not apply to link type " +
                       std::to_string(linktype) + ": " + program.error(),
                   0, filter_};
    return nullptr;
  }
  programs_.push_back(std::move(*program));
  return programs_.back().get();
}

// Our reader's records, those the filter takes: each packet by the program of its own
// interface's link type.
bool PcapSource::next_from_reader(RawPacket& out) {
  while (!stopped_.load(std::memory_order_relaxed)) {
    if (!reader_->next(out)) {
      if (reader_->error()) error_ = reader_->error();
      return false;
    }
    if (filter_.empty()) return true;
    const Program* program = program_for(out.linktype);
    if (!program) return false;
    pcap_pkthdr h{};
    h.ts.tv_sec = time_t(out.ts_ns / 1'000'000'000u);
    h.ts.tv_usec = suseconds_t(out.ts_ns % 1'000'000'000u / 1000);
    h.caplen = out.caplen;
    h.len = out.wire_len;
    if (lib().offline_filter(&program->code, &h, out.data) != 0) return true;
  }
  return false;
}

std::expected<std::unique_ptr<PcapSource>, Error> PcapSource::open_live(
    const LiveOptions& options) {
  if (auto loaded = capture::Libpcap::get(); !loaded) return std::unexpected(loaded.error());
  std::unique_ptr<PcapSource> s(new PcapSource());
  s->name_ = options.interface;
  s->live_ = true;
  char err[PCAP_ERRBUF_SIZE] = {};
  pcap_t* p = lib().create(options.interface.c_str(), err);
  if (!p) return std::unexpected(pcap_error("interface " + options.interface, err));
  s->pcap_ = p;
  lib().set_snaplen(p, options.snaplen);
  lib().set_promisc(p, options.promiscuous ? 1 : 0);
  lib().set_timeout(p, 100);  // ms: lets next() notice stop() and deadlines
  lib().set_buffer_size(p, 32 << 20);
  const int rc = lib().activate(p);
  if (rc < 0) {
    Error e = pcap_error("interface " + options.interface, lib().geterr(p));
    if (rc == PCAP_ERROR_PERM_DENIED || e.code == Error::Code::kPermission) {
      e.code = Error::Code::kPermission;
      e.message = "interface " + options.interface +
                  ": live capture needs root or CAP_NET_RAW (libpcap: " + lib().geterr(p) + ")";
    }
    if (rc == PCAP_ERROR_NO_SUCH_DEVICE) e.message = "no such interface: " + options.interface;
    return std::unexpected(e);
  }
  if (auto ok = apply_filter(p, options.filter, s->name_); !ok) return std::unexpected(ok.error());
  s->linktype_ = std::uint32_t(lib().datalink(p));
  // Non-blocking, waited on with poll(): with TPACKET_V3 a blocking read returns
  // only once a packet has come, whatever the timeout, so a quiet interface would
  // never reach --duration's deadline.
  if (lib().setnonblock(p, 1, err) == 0) s->fd_ = lib().get_selectable_fd(p);
  s->max_packets_ = options.max_packets;
  if (options.max_seconds > 0) {
    s->deadline_ns_ = now_ns() + std::uint64_t(options.max_seconds * 1e9);
  }
  return s;
}

std::expected<std::unique_ptr<PcapSource>, Error> PcapSource::open_file(const std::string& path,
                                                                        const std::string& filter) {
  if (auto loaded = capture::Libpcap::get(); !loaded) return std::unexpected(loaded.error());
  std::unique_ptr<PcapSource> s(new PcapSource());
  s->name_ = path == "-" ? "standard input" : path;
  auto reader = CaptureReader::open(path);
  if (reader) {
    s->reader_ = std::move(*reader);
    s->filter_ = filter;
    if (!filter.empty()) {  // its syntax now (Ethernet's compiler), each link type when met
      if (auto program = compile_for(filter, 1); !program) {
        return std::unexpected(Error{Error::Code::kBadSyntax,
                                     "filter '" + filter + "': " + program.error(), 0, filter});
      }
    }
    return s;
  }
  if (reader.error().code != Error::Code::kUnsupported) return std::unexpected(reader.error());
  char err[PCAP_ERRBUF_SIZE] = {};
  pcap_t* p =
      lib().open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_NANO, err);
  if (!p) return std::unexpected(pcap_error(s->name_, err));
  s->pcap_ = p;
  if (auto ok = apply_filter(p, filter, s->name_); !ok) return std::unexpected(ok.error());
  s->linktype_ = std::uint32_t(lib().datalink(p));
  return s;
}

bool PcapSource::next(RawPacket& out) {
  if (reader_) return next_from_reader(out);
  bool idle = false;
  while (next_or_idle(out, idle)) {
    if (!idle) return true;
  }
  return false;
}

bool PcapSource::next_or_idle(RawPacket& out, bool& idle, int idle_ms) {
  idle = false;
  if (reader_) return next_from_reader(out);
  for (;;) {
    if (stopped_.load(std::memory_order_relaxed)) return false;
    if (max_packets_ && count_ >= max_packets_) return false;
    if (deadline_ns_ && now_ns() >= deadline_ns_) return false;
    pcap_pkthdr* h;
    const u_char* data;
    const int rc = lib().next_ex(pcap_, &h, &data);
    if (rc == 1) {
      ++count_;
      // Live captures and files opened with nanosecond precision both give ns here.
      const std::uint64_t frac = std::uint64_t(h->ts.tv_usec);
      out.ts_ns = std::uint64_t(h->ts.tv_sec) * 1'000'000'000u + (live_ ? frac * 1000 : frac);
      out.caplen = h->caplen;
      out.wire_len = h->len;
      out.linktype = linktype_;
      out.data = data;
      return true;
    }
    if (rc == 0) {
      if (fd_ < 0) continue;  // a blocking handle's timeout: check stop and deadlines
      // Nothing now: wait for the descriptor, at most idle_ms, never past the deadline.
      int wait_ms = idle_ms;
      if (deadline_ns_) {
        const std::uint64_t now = now_ns();
        const std::uint64_t left = deadline_ns_ > now ? deadline_ns_ - now : 0;
        wait_ms = int(std::min<std::uint64_t>(std::uint64_t(idle_ms), left / 1'000'000 + 1));
      }
      pollfd pfd{fd_, POLLIN, 0};
      if (::poll(&pfd, 1, wait_ms) == 0) {
        idle = true;
        return true;
      }
      continue;  // readable, interrupted (stop()), or an error next_ex will report
    }
    if (rc == PCAP_ERROR_BREAK) return false;
    if (rc == PCAP_ERROR) error_ = pcap_error(name_, lib().geterr(pcap_));
    return false;
  }
}

void PcapSource::stop() {
  stopped_.store(true, std::memory_order_relaxed);
  if (pcap_) lib().breakloop(pcap_);
}

std::optional<std::uint64_t> PcapSource::kernel_drops() const {
  if (!live_) return std::nullopt;
  pcap_stat st;
  if (lib().stats(pcap_, &st) != 0) return std::nullopt;
  return std::uint64_t(st.ps_drop) + st.ps_ifdrop;
}

void read_pcap(PcapSource& source, ConversationTable& table, CaptureStats& stats) {
  if (source.reader_) {  // a file: read and filter on this thread, count on a worker
    capture_detail::feed_table_pipelined(source, table, stats, [] {});
    return;
  }
  capture_detail::feed_table(source, table, stats, [] {});
}

void read_pcap_streaming(PcapSource& source, ConversationTable& table, CaptureStats& stats,
                         const std::function<void(std::uint64_t now_ns)>& tick, int tick_ms) {
  const capture_detail::TableCounters before(table);
  auto wall_ns = [] {
    return std::uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count());
  };
  const std::uint64_t every = std::uint64_t(tick_ms) * 1'000'000;
  std::uint64_t next_tick = wall_ns() + every;
  RawPacket raw;
  PacketInfo packet;
  DropReason why;
  bool idle = false;
  while (source.next_or_idle(raw, idle, tick_ms)) {
    if (!idle) {
      ++stats.packets;
      stats.wire_bytes += raw.wire_len;
      if (capture_detail::decode_common(raw, packet) || decode_packet(raw, packet, why)) {
        ++stats.decoded;
        table.add(packet);
      } else {
        ++stats.dropped[std::size_t(why)];
      }
    }
    if (const std::uint64_t now = wall_ns(); now >= next_tick) {
      tick(now);
      next_tick = now + every;
    }
  }
  before.add_run(table, stats);
}

}  // namespace sockscope
