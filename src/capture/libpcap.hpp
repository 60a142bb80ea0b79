// libpcap, loaded on first use. Only live capture (and capture files our own
// reader does not handle) need it, yet linking it makes every sockscope
// command load libpcap and its eight dependent libraries at start-up (about
// 2 ms and 3 MiB here). dlopen() defers that to the commands that capture.
#pragma once

#include <pcap/pcap.h>

#include <expected>

#include "sockscope/error.hpp"

namespace sockscope::capture {

// The libpcap functions sockscope calls, resolved from the shared library.
struct Libpcap {
  decltype(&::pcap_create) create;
  decltype(&::pcap_set_snaplen) set_snaplen;
  decltype(&::pcap_set_promisc) set_promisc;
  decltype(&::pcap_set_timeout) set_timeout;
  decltype(&::pcap_set_buffer_size) set_buffer_size;
  decltype(&::pcap_activate) activate;
  decltype(&::pcap_open_offline_with_tstamp_precision) open_offline_with_tstamp_precision;
  decltype(&::pcap_datalink) datalink;
  decltype(&::pcap_next_ex) next_ex;
  decltype(&::pcap_breakloop) breakloop;
  decltype(&::pcap_stats) stats;
  decltype(&::pcap_geterr) geterr;
  decltype(&::pcap_compile) compile;
  decltype(&::pcap_setfilter) setfilter;
  decltype(&::pcap_freecode) freecode;
  decltype(&::pcap_open_dead) open_dead;
  decltype(&::pcap_offline_filter) offline_filter;
  decltype(&::pcap_close) close;

  // Loads the library once (thread-safe); the error names what is missing.
  static std::expected<const Libpcap*, Error> get();
};

}  // namespace sockscope::capture
