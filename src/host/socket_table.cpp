// Choosing a socket source, replaying recorded records, and the in-memory table.
#include "sockscope/socket_table.hpp"

#include <sys/stat.h>

#include <algorithm>

#include "host/filtered_query.hpp"
#include "sockscope/socket_filter.hpp"

namespace sockscope {
namespace {

class RecordedSource final : public SocketSource {
 public:
  RecordedSource(std::vector<SocketRecord> records, std::uint64_t netns)
      : records_(std::move(records)), netns_(netns) {}
  std::string_view name() const override { return "recorded"; }
  std::uint64_t netns() const override { return netns_; }

  // Filters as the kernel would: protocol, family, state mask, then the filter.
  std::expected<DumpStats, Error> dump(const SocketQuery& asked, const SocketSink& sink) override {
    const SocketQuery query = host_detail::narrowed(asked);
    const SocketFilter* filter = query.filter.get();
    DumpStats stats;
    for (Transport t : query.transports) {
      for (SocketRecord rec : records_) {
        if (rec.transport != t || !(query.states & state_bit(rec.state))) continue;
        if (rec.local.address.is_v4() ? !query.ipv4 : !query.ipv6) continue;
        if (!query.autobound) rec.autobound.reset();
        ++stats.messages;
        if (filter && !filter->matches(rec)) continue;
        ++stats.sockets;
        sink(rec);
      }
    }
    return stats;
  }

 private:
  std::vector<SocketRecord> records_;
  std::uint64_t netns_;
};

}  // namespace

std::unique_ptr<SocketSource> open_recorded_source(std::vector<SocketRecord> records,
                                                   std::uint64_t netns) {
  return std::make_unique<RecordedSource>(std::move(records), netns);
}

std::uint64_t current_netns() {
  struct stat st;
  if (::stat("/proc/thread-self/ns/net", &st) != 0 && ::stat("/proc/self/ns/net", &st) != 0) {
    return 0;
  }
  return st.st_ino;
}

std::expected<std::unique_ptr<SocketSource>, Error> open_socket_source(std::string* why_fallback) {
  auto nl = open_netlink_source();
  if (nl) return nl;
  if (why_fallback) *why_fallback = nl.error().what();
  return open_proc_source();
}

std::expected<SocketTable, Error> SocketTable::read(const SocketQuery& query,
                                                    SocketSource* source) {
  std::unique_ptr<SocketSource> own;
  if (!source) {
    auto opened = open_socket_source();
    if (!opened) return std::unexpected(opened.error());
    own = std::move(*opened);
    source = own.get();
  }
  SocketTable table;
  table.source = std::string(source->name());
  table.sockets.reserve(1024);
  auto stats = source->dump(query, [&](const SocketRecord& r) { table.sockets.push_back(r); });
  if (!stats) return std::unexpected(stats.error());
  table.skipped = std::move(stats->skipped);
  return table;
}

}  // namespace sockscope
