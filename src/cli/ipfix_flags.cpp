#include "cli/ipfix_flags.hpp"

#include <fmt/format.h>

namespace sockscope::cli {

void add_ipfix_options(CLI::App* sub, IpfixFlags& flags) {
  sub->add_option("--ipfix", flags.destination,
                  "also export flow records over IPFIX: udp://HOST:PORT, tcp://HOST:PORT or "
                  "file:PATH (two uniflows per conversation, client to server first)")
      ->type_name("DEST")
      ->transform(keep_literal());
  sub->add_flag("--ipfix-biflow", flags.biflow,
                "one RFC 5103 biflow record per conversation instead of two uniflows");
  sub->add_option("--ipfix-template-refresh", flags.template_refresh,
                  "UDP: send the IPFIX templates again after SECONDS (default 600)")
      ->type_name("SECONDS")
      ->check(seconds_up_to(365.0 * 24 * 3600));
  sub->add_option("--ipfix-rate", flags.rate,
                  "UDP: pace messages to BYTES a second (bursts of at most 64 kB or 10 ms), so "
                  "that the collector's socket buffer keeps up (default 20000000; 0: unpaced)")
      ->type_name("BYTES")
      ->check(CLI::Range(std::uint64_t(0), std::uint64_t(100'000'000'000)));
}

int check_ipfix(Context& ctx, const IpfixFlags& flags) {
  if (flags.destination.empty()) {
    if (flags.biflow) {
      ctx.error("--ipfix-biflow needs --ipfix DEST");
      return kExitUsage;
    }
    return 0;
  }
  if (auto d = parse_ipfix_destination(flags.destination); !d) {
    ctx.error("--ipfix: " + d.error().what());
    return kExitUsage;
  }
  return 0;
}

std::unique_ptr<IpfixExporter> open_ipfix(Context& ctx, const IpfixFlags& flags, bool& failed) {
  if (flags.destination.empty()) return nullptr;
  IpfixOptions options;
  options.biflow = flags.biflow;
  options.udp_bytes_per_second = flags.rate;
  options.template_refresh = std::chrono::milliseconds(std::int64_t(flags.template_refresh * 1e3));
  auto exporter = IpfixExporter::open(flags.destination, options);
  if (!exporter) {
    ctx.error("--ipfix: " + exporter.error().what() + " (nothing exported)");
    failed = true;
    return nullptr;
  }
  return std::move(*exporter);
}

std::string finish_ipfix(Context& ctx, const IpfixFlags& flags, IpfixExporter* exporter,
                         bool& failed) {
  if (!exporter) return "";
  const IpfixStats s = exporter->finish();
  const std::string dest = parse_ipfix_destination(flags.destination)->to_string();
  if (s.dropped) {
    ctx.error(fmt::format("IPFIX to {}: {} records not delivered ({})", dest, s.dropped,
                          s.error ? s.error->what() : "unknown"));
    failed = true;
  }
  return fmt::format("; IPFIX: {} records in {} messages to {}", s.records, s.messages, dest);
}

void IpfixFeed::start_timer() {
  stopping_ = false;
  timer_ = std::thread([this] {
    std::unique_lock lock(mutex_);
    while (!stop_.wait_for(lock, std::chrono::seconds(1), [&] { return stopping_; })) {
      exporter_->flush();
    }
  });
}

void IpfixFeed::stop_timer() {
  if (!timer_.joinable()) return;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  stop_.notify_one();
  timer_.join();
}

}  // namespace sockscope::cli
