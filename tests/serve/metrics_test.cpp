// The metric families against hand-computed values: a made-up host whose
// ephemeral use is counted by hand (ephemeral.hpp's rules), the top-N and
// min-ratio selection, and promtool's verdict on the text.
#include "serve/metrics.hpp"

#include <gtest/gtest.h>

#include <map>

#include "serve/rate_limit.hpp"
#include "support/run_command.hpp"

namespace sockscope::serve {
namespace {

PortUse client(const char* local, const char* remote) {
  PortUse u;
  u.local = *Endpoint::parse(local);
  u.remote = *Endpoint::parse(remote);
  u.autobound = true;
  return u;
}

// 10 usable ports; 7 toward 10.0.0.1:80, 6 toward 10.0.0.2:443, 1 toward 10.0.0.3:22.
HostSnapshot made_up_host() {
  std::vector<PortUse> uses;
  for (int i = 0; i < 7; ++i) {
    uses.push_back(client(("10.0.0.9:" + std::to_string(40000 + i)).c_str(), "10.0.0.1:80"));
  }
  for (int i = 0; i < 6; ++i) {
    uses.push_back(client(("10.0.0.9:" + std::to_string(40000 + i)).c_str(), "10.0.0.2:443"));
  }
  uses.push_back(client("10.0.0.9:40009", "10.0.0.3:22"));
  uses.back().time_wait = true;
  EphemeralSettings settings;
  settings.range = {40000, 40009};
  HostSnapshot s;
  s.ephemeral = analyze_ephemeral(uses, settings, 0);
  return s;
}

// name{labels} -> value, from the families.
std::map<std::string, double> samples(const std::vector<prometheus::MetricFamily>& families) {
  std::map<std::string, double> out;
  for (const auto& f : families) {
    for (const auto& m : f.metric) {
      std::string key = f.name + "{";
      for (const auto& l : m.label) key += l.name + "=" + l.value + ",";
      out[key + "}"] = m.gauge.value;
    }
  }
  return out;
}

TEST(Metrics, EphemeralFamiliesCountByHand) {
  const HostSnapshot s = made_up_host();
  auto m = samples(host_families(s, {.top = 1, .min_ratio = 0.5}, kEphemeralFamilies));
  EXPECT_EQ(m["sockscope_ephemeral_range_ports{bound=low,}"], 40000);
  EXPECT_EQ(m["sockscope_ephemeral_range_ports{bound=high,}"], 40009);
  EXPECT_DOUBLE_EQ(m["sockscope_ephemeral_utilization_max_ratio{transport=tcp,}"], 0.7);
  const std::string a = "{local_address=10.0.0.9,remote=10.0.0.1:80,transport=tcp,}";
  const std::string b = "{local_address=10.0.0.9,remote=10.0.0.2:443,transport=tcp,}";
  const std::string c = "{local_address=10.0.0.9,remote=10.0.0.3:22,transport=tcp,}";
  EXPECT_EQ(m["sockscope_ephemeral_ports_used" + a], 7);
  EXPECT_EQ(m["sockscope_ephemeral_ports_capacity" + a], 10);
  // The top 1, and 10.0.0.2:443 at 60% >= 50%; 10.0.0.3:22 (10%) has no series.
  EXPECT_EQ(m["sockscope_ephemeral_ports_used" + b], 6);
  EXPECT_EQ(m.count("sockscope_ephemeral_ports_used" + c), 0u);
  // The bind(0) pool: ports 40000-40006 and 40009 are used by some socket: 8 of 10.
  EXPECT_EQ(m["sockscope_bind_pool_ports_used{}"], 8);
  EXPECT_EQ(m["sockscope_bind_pool_ports_capacity{}"], 10);
  // min_ratio 1: only the top one.
  auto top = samples(host_families(s, {.top = 1, .min_ratio = 1.0}, kEphemeralFamilies));
  EXPECT_EQ(top.count("sockscope_ephemeral_ports_used" + b), 0u);
  auto all = samples(host_families(s, {.top = 3, .min_ratio = 1.0}, kEphemeralFamilies));
  EXPECT_EQ(all["sockscope_ephemeral_ports_time_wait" + c], 1);
}

TEST(Metrics, PromtoolAcceptsTheText) {
  if (testing::run_command({"promtool", "--version"}).exit_code != 0) {
    GTEST_SKIP() << "promtool not installed (Debian prometheus)";
  }
  const std::string text = prometheus_text(host_families(made_up_host(), {}, kAllFamilies));
  auto check = testing::run_command({"promtool", "check", "metrics"}, 30, text);
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err << "\n" << text;
}

TEST(RateLimit, BurstThenRate) {
  RateLimit limit(2.0, 3.0);  // 2 a second, bursts of 3
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limit.allow("10.0.0.1", t0)) << i;
  EXPECT_FALSE(limit.allow("10.0.0.1", t0));
  EXPECT_TRUE(limit.allow("10.0.0.2", t0));  // another client has its own bucket
  // 0.5 s later: one token back (2/s), not two.
  const auto t1 = t0 + std::chrono::milliseconds(500);
  EXPECT_TRUE(limit.allow("10.0.0.1", t1));
  EXPECT_FALSE(limit.allow("10.0.0.1", t1));
}

}  // namespace
}  // namespace sockscope::serve
