// The connection log's record kinds on events built here: the issue's JSON field
// names and order, raw numbers, endpoints as objects; the Zeek conn.log view
// with the client as originator whichever side the socket is; the summary line.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "output/kinds/connlog.hpp"
#include "output/writer.hpp"

namespace sockscope::output {
namespace {

using nlohmann::json;

struct Fixture {
  NetworkNamespace ns{4026531840, "blue", "/run/netns/blue", false};
  ConnectionOwner owner{4242, 1000, "curl", "curl http://127.0.0.1:8080/"};
  ConnectionEvent close;

  Fixture() {
    close.kind = ConnectionEventKind::kClose;
    close.time_ns = 1'700'000'000'250'000'000;
    close.record.transport = Transport::kTcp;
    close.record.local = *Endpoint::parse("127.0.0.1:40000");
    close.record.remote = *Endpoint::parse("127.0.0.1:8080");
    close.record.cookie = 77;
    close.record.state = SocketState::kTimeWait;
    close.role = LocalRole::kClient;
    close.evidence = Evidence::kAutoBound;
    close.netns = &ns;
    close.owners = std::span<const ConnectionOwner>(&owner, 1);
    close.owner_evidence = OwnerEvidence::kConnect;
    close.duration_ns = 1'500'000'000;
    close.counters = ConnectionCounters{100, 2000, 5, 6, 1};
  }
};

std::string written(Format format, const RecordKind& kind, const ConnectionEvent& e) {
  std::string text;
  {
    Sink sink(text);
    RecordWriter out(format, sink, {&kind});
    out.write(kind, ConnectionEventRow(e));
    out.finish();
  }
  return text;
}

TEST(ConnectionEventKind, JsonHasTheIssuesFieldsInOrder) {
  Fixture f;
  const json j = json::parse(written(Format::kJson, kConnectionEventKind, f.close));
  std::vector<std::string> keys;
  for (auto it = j.begin(); it != j.end(); ++it) keys.push_back(it.key());
  // nlohmann sorts keys: compare as sets, order is checked on the text below.
  const std::vector<std::string> expected = {
      "community_id",  "cookie",         "duration",  "event",          "local",
      "netns",         "owner_evidence", "processes", "received_bytes", "received_segments",
      "remote",        "retransmits",    "role",      "role_evidence",  "sent_bytes",
      "sent_segments", "service",        "state",     "time",           "transport"};
  EXPECT_EQ(keys, expected);
  EXPECT_EQ(j["event"], "close");
  EXPECT_EQ(j["local"]["port"], 40000);
  EXPECT_EQ(j["sent_bytes"], 100);
  EXPECT_EQ(j["received_bytes"], 2000);
  EXPECT_EQ(j["retransmits"], 1);
  EXPECT_EQ(j["duration"], 1.5);
  EXPECT_EQ(j["time"], 1700000000.25);
  EXPECT_EQ(j["state"], "TIME-WAIT");
  EXPECT_EQ(j["processes"][0]["cmdline"], "curl http://127.0.0.1:8080/");
  EXPECT_EQ(j["netns"], "blue");
  const std::string text = written(Format::kJson, kConnectionEventKind, f.close);
  EXPECT_LT(text.find("\"event\""), text.find("\"time\""));
  EXPECT_LT(text.find("\"community_id\""), text.find("\"duration\""));
}

TEST(ConnectionEventKind, AnOpenHasNoCloseFieldsAndAMissingOwnerSaysWhy) {
  Fixture f;
  ConnectionEvent open = f.close;
  open.kind = ConnectionEventKind::kOpen;
  open.duration_ns.reset();
  open.counters.reset();
  open.owners = {};
  open.owner_missing = OwnerMissing::kNoPermission;
  const json j = json::parse(written(Format::kJson, kConnectionEventKind, open));
  for (const char* absent : {"duration", "sent_bytes", "state", "processes", "owner_evidence"}) {
    EXPECT_FALSE(j.contains(absent)) << absent;
  }
  EXPECT_EQ(j["owner_missing"], "no-permission");
}

TEST(ZeekHostConnKind, TheClientIsTheOriginatorOnEitherSide) {
  Fixture f;
  const json client = json::parse(written(Format::kJson, kZeekHostConnKind, f.close));
  EXPECT_EQ(client["id.orig_p"], 40000);
  EXPECT_EQ(client["id.resp_p"], 8080);
  EXPECT_EQ(client["orig_bytes"], 100);
  EXPECT_EQ(client["resp_bytes"], 2000);
  EXPECT_EQ(client["ts"], 1699999998.75);  // the open: close time - duration
  ConnectionEvent server = f.close;
  std::swap(server.record.local, server.record.remote);
  server.role = LocalRole::kServer;
  server.counters = ConnectionCounters{2000, 100, 6, 5, 0};
  const json s = json::parse(written(Format::kJson, kZeekHostConnKind, server));
  EXPECT_EQ(s["id.orig_p"], 40000);
  EXPECT_EQ(s["orig_bytes"], 100);
  EXPECT_EQ(s["resp_bytes"], 2000);
  EXPECT_EQ(s["orig_pkts"], 5);
  EXPECT_EQ(s["local_resp"], true);
  EXPECT_EQ(s["community_id"], client["community_id"]);
}

TEST(ConnectionSummaryKind, CountsLostAndMissingOwnersByReason) {
  ConnectionLogSummary sum;
  sum.closes = 3;
  sum.events_lost = 2;
  sum.owners_missing[std::size_t(OwnerMissing::kClosedBeforeScan)] = 2;
  std::string text;
  {
    Sink sink(text);
    RecordWriter out(Format::kJson, sink, {&kConnectionSummaryKind});
    out.write(kConnectionSummaryKind, ConnectionSummaryRow{sum});
  }
  const json j = json::parse(text);
  EXPECT_EQ(j["event"], "summary");
  EXPECT_EQ(j["events_lost"], 2);
  EXPECT_EQ(j["owners_missing"]["closed-before-scan"], 2);
}

}  // namespace
}  // namespace sockscope::output
