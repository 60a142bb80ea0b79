#include "capture/libpcap.hpp"

#include <dlfcn.h>

#include <string>

namespace sockscope::capture {
namespace {

std::expected<Libpcap, Error> load() {
  // Debian's soname first, then upstream's, then the development link.
  void* handle = nullptr;
  std::string tried;
  for (const char* name : {"libpcap.so.0.8", "libpcap.so.1", "libpcap.so"}) {
    handle = dlopen(name, RTLD_NOW | RTLD_LOCAL);
    if (handle) break;
    if (const char* why = dlerror()) tried = why;
  }
  if (!handle) {
    return std::unexpected(Error{Error::Code::kUnsupported,
                                 "libpcap is not installed (Debian package libpcap0.8): " + tried,
                                 0,
                                 {}});
  }
  Libpcap lib{};
  std::string missing;
  auto resolve = [&](auto& fn, const char* symbol) {
    fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(dlsym(handle, symbol));
    if (!fn) missing += std::string(missing.empty() ? "" : ", ") + symbol;
  };
  resolve(lib.create, "pcap_create");
  resolve(lib.set_snaplen, "pcap_set_snaplen");
  resolve(lib.set_promisc, "pcap_set_promisc");
  resolve(lib.set_timeout, "pcap_set_timeout");
  resolve(lib.set_buffer_size, "pcap_set_buffer_size");
  resolve(lib.activate, "pcap_activate");
  resolve(lib.open_offline_with_tstamp_precision, "pcap_open_offline_with_tstamp_precision");
  resolve(lib.datalink, "pcap_datalink");
  resolve(lib.next_ex, "pcap_next_ex");
  resolve(lib.breakloop, "pcap_breakloop");
  resolve(lib.stats, "pcap_stats");
  resolve(lib.geterr, "pcap_geterr");
  resolve(lib.compile, "pcap_compile");
  resolve(lib.setfilter, "pcap_setfilter");
  resolve(lib.freecode, "pcap_freecode");
  resolve(lib.open_dead, "pcap_open_dead");
  resolve(lib.offline_filter, "pcap_offline_filter");
  resolve(lib.close, "pcap_close");
  if (!missing.empty()) {
    return std::unexpected(
        Error{Error::Code::kUnsupported, "libpcap lacks " + missing + " (too old?)", 0, {}});
  }
  return lib;
}

}  // namespace

std::expected<const Libpcap*, Error> Libpcap::get() {
  static const std::expected<Libpcap, Error> loaded = load();  // once, thread-safe
  if (!loaded) return std::unexpected(loaded.error());
  return &*loaded;
}

}  // namespace sockscope::capture
