// RecordWriter over a small kind with every value type: the exact text of each
// format, worked out by hand; CSV checked again with Python's csv module (an
// independent parser) and JSON with nlohmann's.
#include "output/writer.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "support/run_command.hpp"

namespace sockscope::output {
namespace {

struct Item {
  std::string name;
  std::uint64_t bytes = 0;
  std::uint64_t seconds_ns = 0;
  Endpoint endpoint;
  bool has_endpoint = true;
  double percent = 0;
  bool flag = false;
  std::vector<std::string> tags;
  std::vector<StateCount> counts;
  std::uint32_t vlan = 0;
};

constexpr Field kItemFields[] = {
    {.name = "name",
     .header = "NAME",
     .meaning = "a name",
     .get = [](const void* r, Value& v) { v.string(as<Item>(r).name); }},
    {.name = "bytes",
     .type = Type::kCount,
     .unit = Unit::kBytes,
     .header = "BYTES",
     .meaning = "bytes",
     .get = [](const void* r, Value& v) { v.count(as<Item>(r).bytes); }},
    {.name = "took",
     .type = Type::kDuration,
     .unit = Unit::kSeconds,
     .header = "TOOK",
     .meaning = "a duration",
     .get = [](const void* r, Value& v) { v.count(as<Item>(r).seconds_ns); }},
    {.name = "peer",
     .type = Type::kEndpoint,
     .header = "PEER",
     .meaning = "an endpoint",
     .get =
         [](const void* r, Value& v) {
           if (as<Item>(r).has_endpoint) {
             v.endpoint(as<Item>(r).endpoint);
           } else {
             v.null();
           }
         },
     .presence = Presence::kNullable},
    {.name = "use_pct",
     .type = Type::kNumber,
     .unit = Unit::kPercent,
     .header = "USE%",
     .meaning = "a percentage",
     .get = [](const void* r, Value& v) { v.number(as<Item>(r).percent); }},
    {.name = "flag",
     .type = Type::kBool,
     .meaning = "sparse",
     .get = [](const void* r, Value& v) { v.boolean(as<Item>(r).flag); },
     .presence = Presence::kSparse},
    {.name = "tags",
     .type = Type::kStrings,
     .header = "TAGS",
     .meaning = "a list",
     .get = [](const void* r, Value& v) { v.strings(as<Item>(r).tags); }},
    {.name = "states",
     .type = Type::kCounts,
     .header = "STATES",
     .meaning = "counts",
     .get = [](const void* r, Value& v) { v.counts(as<Item>(r).counts); }},
    {.name = "vlan",
     .type = Type::kCount,
     .meaning = "optional",
     .get =
         [](const void* r, Value& v) {
           if (as<Item>(r).vlan) {
             v.count(as<Item>(r).vlan);
           } else {
             v.null();
           }
         },
     .presence = Presence::kOptional},
    {.name = "shown",
     .header = "SHOWN",
     .meaning = "tables only",
     .get = [](const void* r, Value& v) { v.owned("<" + as<Item>(r).name + ">"); },
     .presence = Presence::kDisplay},
};
const RecordKind kItem{"item", kItemFields, "a test record"};

std::vector<Item> items() {
  Item a;
  a.name = "alpha";
  a.bytes = 26'349;
  a.seconds_ns = 1'643'400'000;
  a.endpoint = *Endpoint::parse("[2001:db8::1]:443");
  a.percent = 79.996;
  a.tags = {"x", "y, z"};
  a.counts = {{"ESTAB", 3}, {"TIME-WAIT", 1}};
  Item b;
  b.name = "b\"e\tta\x1b";
  b.bytes = 7;
  b.has_endpoint = false;
  b.flag = true;
  b.vlan = 10;
  return {a, b};
}

std::string render(Format f, WriterOptions options = {}) {
  std::string text;
  {
    Sink sink(text);
    RecordWriter w(f, sink, {&kItem}, std::move(options));
    for (const Item& i : items()) w.write(kItem, i);
    w.finish();
  }
  return text;
}

TEST(WriterTest, JsonLinesFollowTheDeclaration) {
  EXPECT_EQ(render(Format::kJson),
            "{\"name\":\"alpha\",\"bytes\":26349,\"took\":1.643400,\"peer\":{\"address\":"
            "\"2001:db8::1\",\"port\":443,\"group\":\"well-known\"},\"use_pct\":80.00,"
            "\"tags\":[\"x\",\"y, z\"],\"states\":{\"ESTAB\":3,\"TIME-WAIT\":1}}\n"
            "{\"name\":\"b\\\"e\\tta\\u001b\",\"bytes\":7,\"took\":0.000000,\"peer\":null,"
            "\"use_pct\":0.00,\"flag\":true,\"tags\":[],\"states\":{},\"vlan\":10}\n");
  for (const auto& line : testing::lines(render(Format::kJson))) {
    EXPECT_FALSE(nlohmann::json::parse(line, nullptr, false).is_discarded()) << line;
  }
}

TEST(WriterTest, EndpointsSayWhetherTheirPortIsEphemeralWhenTheRangeIsKnown) {
  const std::string json = render(Format::kJson, {.host_ephemeral = PortRange{400, 500}});
  EXPECT_NE(json.find("\"group\":\"well-known\",\"ephemeral\":true}"), std::string::npos) << json;
  const std::string csv = render(Format::kCsv, {.host_ephemeral = PortRange{400, 500}});
  EXPECT_TRUE(csv.starts_with("name,bytes,took,peer_address,peer_port,peer_group,peer_ephemeral,"))
      << csv;
}

TEST(WriterTest, CsvIsOneHeaderAndRowsOfItsWidth) {
  const std::string csv = render(Format::kCsv);
  EXPECT_EQ(csv,
            "name,bytes,took,peer_address,peer_port,peer_group,use_pct,flag,tags,states,vlan\n"
            "alpha,26349,1.643400,2001:db8::1,443,well-known,80.00,false,\"x, y, z\","
            "ESTAB=3 TIME-WAIT=1,\n"
            "\"b\"\"e\tta\x1b\",7,0.000000,,,,0.00,true,,,10\n");
  // Python's csv module reads the same cells, every row as wide as the header.
  const std::string path = ::testing::TempDir() + "writer_test.csv";
  std::ofstream(path) << csv;
  auto r =
      testing::run_command({"python3", "-c",
                            "import csv,sys; rows=list(csv.reader(open(sys.argv[1], newline='')));"
                            "print(len(rows), sorted(set(len(r) for r in rows)), rows[1][8], "
                            "rows[2][0] == 'b\"e\\tta\\x1b')",
                            path});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "3 [11] x, y, z True\n");
}

TEST(WriterTest, ZeekTsvHasItsHeaderAndEscapes) {
  const auto rows = testing::lines(render(Format::kZeek));
  ASSERT_EQ(rows.size(), 11u);
  EXPECT_EQ(rows[0], "#separator \\x09");
  EXPECT_EQ(rows[4], "#path\titem");
  EXPECT_EQ(rows[6],
            "#fields\tname\tbytes\ttook\tpeer.address\tpeer.port\tpeer.group\tuse_pct\tflag\ttags\t"
            "states\tvlan");
  EXPECT_EQ(rows[7],
            "#types\tstring\tcount\tinterval\taddr\tport\tstring\tdouble\tbool\tvector[string]\t"
            "string\tcount");
  EXPECT_EQ(rows[8],
            "alpha\t26349\t1.643400\t2001:db8::1\t443\twell-known\t80.00\tF\tx,y, z\t"
            "ESTAB=3 TIME-WAIT=1\t-");
  EXPECT_EQ(rows[9], "b\"e\\x09ta\\x1b\t7\t0.000000\t-\t-\t-\t0.00\tT\t(empty)\t(empty)\t10");
  EXPECT_TRUE(rows[10].starts_with("#close\t"));
}

TEST(WriterTest, TablesAlignShowUnitsAndEscapeControlCharacters) {
  // NAME is as wide as its widest cell (11 characters once escaped), numbers and
  // percentages are right-aligned, bytes and durations are shown for people.
  EXPECT_EQ(render(Format::kTable),
            "NAME           BYTES    TOOK  PEER               USE%  TAGS     STATES"
            "                SHOWN\n"
            "alpha        26.3 kB  1.643s  [2001:db8::1]:443   79%  x, y, z  3 ESTAB, 1 TIME-WAIT"
            "  <alpha>\n"
            "b\"e\\tta\\x1b        7  0.000s  -                    0%           -"
            "                     <b\"e\\tta\\x1b>\n");
}

TEST(WriterTest, HiddenFieldsLeaveEveryFormat) {
  WriterOptions o;
  o.hidden = {"peer", "shown", "states"};
  EXPECT_TRUE(render(Format::kCsv, o).starts_with("name,bytes,took,use_pct,flag,tags,vlan\n"));
  EXPECT_EQ(render(Format::kJson, o).find("peer"), std::string::npos);
  EXPECT_EQ(testing::lines(render(Format::kTable, o))[0],
            "NAME           BYTES    TOOK  USE%  TAGS");
}

// A second kind sharing some names: one CSV header, the union, in first-seen order.
struct Other {
  std::string name;
};
constexpr Field kOtherFields[] = {
    {.name = "kind", .get = [](const void*, Value& v) { v.string("other"); }},
    {.name = "name",
     .header = "OTHER",
     .get = [](const void* r, Value& v) { v.string(as<Other>(r).name); }},
    {.name = "extra", .type = Type::kCount, .get = [](const void*, Value& v) { v.count(5); }},
};
const RecordKind kOther{"other", kOtherFields, "another"};

TEST(WriterTest, SeveralKindsShareOneCsvHeader) {
  std::string text;
  {
    Sink sink(text);
    RecordWriter w(Format::kCsv, sink, {&kItem, &kOther});
    w.write(kItem, items()[1]);
    w.write(kOther, Other{"o"});
  }
  EXPECT_EQ(text,
            "name,bytes,took,peer_address,peer_port,peer_group,use_pct,flag,tags,states,vlan,kind,"
            "extra\n"
            "\"b\"\"e\tta\x1b\",7,0.000000,,,,0.00,true,,,10,,\n"
            "o,,,,,,,,,,,other,5\n");
}

TEST(WriterTest, TablesRenderAtNotesAndLeaveOutUsualColumns) {
  static constexpr Field kSourceFields[] = {
      {.name = "n",
       .type = Type::kCount,
       .header = "N",
       .get = [](const void* r, Value& v) { v.count(as<Other>(r).name.size()); }},
      {.name = "source",
       .header = "SOURCE",
       .get = [](const void* r, Value& v) { v.string(as<Other>(r).name); },
       .table_usual = "iana"},
  };
  static const RecordKind kSource{"source", kSourceFields, ""};
  std::string text;
  {
    Sink sink(text);
    RecordWriter w(Format::kTable, sink, {&kSource});
    w.note("before");
    w.write(kSource, Other{"iana"});
    w.note("between");
    w.write(kSource, Other{"iana"});
    w.write(kSource, Other{"/etc/services"});
  }
  EXPECT_EQ(text,
            "before\nN\n4\nbetween\n"
            " N  SOURCE\n 4  iana\n13  /etc/services\n");
}

}  // namespace
}  // namespace sockscope::output
