// The filter language without the kernel: canonical text of hand-written
// expressions, error columns, the two sides of ss's match on hand-made
// records, and the bytecode of small expressions byte for byte (laid out by
// hand from inet_diag.h's structs).
#include "sockscope/socket_filter.hpp"

#include <gtest/gtest.h>
#include <linux/inet_diag.h>
#include <sys/socket.h>

#include <cstring>

#include "host/diag_bytecode.hpp"

namespace sockscope {
namespace {

SocketFilterOptions options() {
  SocketFilterOptions o;
  o.ephemeral = {32768, 60999};
  o.interface_index = [](std::string_view name) -> std::optional<std::uint32_t> {
    if (name == "eth0") return 2;
    return std::nullopt;
  };
  return o;
}

SocketFilter parse(std::string_view text, const Registry& names = Registry::builtin()) {
  auto f = SocketFilter::parse(text, names, options());
  EXPECT_TRUE(f) << text << ": " << (f ? "" : f.error().what());
  return f ? *f : SocketFilter();
}

Error error_of(std::string_view text, const Registry& names = Registry::builtin()) {
  auto f = SocketFilter::parse(text, names, options());
  EXPECT_FALSE(f) << text << " parsed as " << (f ? f->to_string() : "");
  return f ? Error{} : f.error();
}

SocketRecord record(std::string_view local, std::string_view remote,
                    SocketState state = SocketState::kEstablished,
                    std::optional<bool> autobound = std::nullopt) {
  SocketRecord r;
  r.local = *Endpoint::parse(local);
  r.remote = *Endpoint::parse(remote);
  r.state = state;
  r.autobound = autobound;
  return r;
}

TEST(SocketFilterParse, CanonicalText) {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"state established ( dport = :443 or sport = :https )",
       "state established dport = :443 or sport = :443"},
      // ss's grammar: equal precedence, left to right.
      {"sport = :80 or sport = :443 and dport = :1000",
       "( sport = :80 or sport = :443 ) and dport = :1000"},
      {"sport = :80 or ( sport = :443 and dport = :1000 )",
       "sport = :80 or ( sport = :443 and dport = :1000 )"},
      {"sport :80 dport gt :1024 && dport le 2000",
       "sport = :80 and dport > :1024 and dport <= :2000"},
      {"sport eq 22 || sport == :ssh | sport neq :22",
       "sport = :22 or sport = :22 or sport != :22"},
      {"dport lt :10 & dport geq :5 and dport leq 9",
       "dport < :10 and dport >= :5 and dport <= :9"},
      {"! autobound", "not autobound"},
      {"not ( autobound or sport = :1 )", "not ( autobound or sport = :1 )"},
      {"(dport = :22)", "dport = :22"},
      {"((sport = :1) or (sport = :2)) and not (dport = :3)",
       "( sport = :1 or sport = :2 ) and not dport = :3"},
      {"src 10.0.0.0/8:80 or dst [2001:db8::1]:443", "src 10.0.0.0/8:80 or dst [2001:db8::1]:443"},
      {"src 127.0.0.1 dst = 127.0.0.2:*", "src 127.0.0.1 and dst 127.0.0.2"},
      {"src ::1", "src [::1]"},
      {"src ::ffff:127.0.0.1:443", "src [::ffff:127.0.0.1]:443"},  // ss splits at the last ':'
      {"src 2001:db8::/32", "src [2001:db8::/32]"},
      {"src [2001:db8::/32]:80", "src [2001:db8::/32]:80"},
      {"src *:22 or src * or dst *:*", "src *:22 or src * or dst *"},
      {"dport = * and sport != :*", "dport = :* and sport != :*"},
      {"dst [fe80::1%eth0]:22 or dst [fe80::2%7]", "dst [fe80::1%eth0]:22 or dst [fe80::2%7]"},
      {"src != 10.0.0.1", "not src 10.0.0.1"},
      {"sport = inet6::80", "sport = inet6::80"},
      {"src inet:127.0.0.1 or sport = :8080", "src inet:127.0.0.1 or sport = :8080"},
      {"state listening state closed", "state closed state listening"},
      {"state all", "state all"},
      {"exclude all", "exclude all"},
      {"state bucket", "state syn-recv state time-wait"},
      {"", ""},
  };
  for (const auto& [in, want] : cases) EXPECT_EQ(parse(in).to_string(), want) << in;
}

TEST(SocketFilterParse, CanonicalTextParsesToItself) {
  for (std::string_view in :
       {"( sport = :80 or sport = :443 ) and dport = :1000", "not ( autobound or src [::1]:22 )",
        "src inet6:[::1] or dport > :9"}) {
    const std::string once = parse(in).to_string();
    EXPECT_EQ(parse(once).to_string(), once);
  }
}

TEST(SocketFilterParse, StatesAndGroups) {
  auto mask = [](std::initializer_list<SocketState> states) {
    StateMask m = 0;
    for (auto s : states) m |= state_bit(s);
    return m;
  };
  using S = SocketState;
  EXPECT_FALSE(parse("sport = :1").states_given());
  EXPECT_EQ(parse("sport = :1").states(), kAllStates);
  EXPECT_EQ(parse("state connected").states(),
            mask({S::kEstablished, S::kSynSent, S::kSynRecv, S::kFinWait1, S::kFinWait2,
                  S::kTimeWait, S::kCloseWait, S::kLastAck, S::kClosing}));
  EXPECT_EQ(parse("state synchronized").states(),
            mask({S::kEstablished, S::kSynRecv, S::kFinWait1, S::kFinWait2, S::kTimeWait,
                  S::kCloseWait, S::kLastAck, S::kClosing}));
  EXPECT_EQ(parse("state bucket").states(), mask({S::kSynRecv, S::kTimeWait}));
  EXPECT_EQ(parse("state big").states(),
            mask({S::kEstablished, S::kSynSent, S::kFinWait1, S::kFinWait2, S::kClose,
                  S::kCloseWait, S::kLastAck, S::kListen, S::kClosing}));
  // `exclude` starts from all states; a later `state` adds back.
  EXPECT_EQ(parse("exclude connected").states(), mask({S::kClose, S::kListen}));
  EXPECT_EQ(parse("exclude listening state listening").states(), kAllStates);
  EXPECT_EQ(parse("state established exclude established").states(), 0u);
  EXPECT_EQ(parse("state UNCONNECTED state Close state syn-rcv").states(),
            mask({S::kClose, S::kSynRecv}));
  EXPECT_EQ(parse("excl fin-wait-1 exclude fin-wait-2 exclude time-wait exclude close-wait "
                  "exclude last-ack exclude closing exclude syn-sent exclude syn-recv")
                .states(),
            mask({S::kEstablished, S::kClose, S::kListen}));
}

TEST(SocketFilterParse, ErrorsNameTheWordAndItsColumn) {
  struct Case {
    std::string_view text;
    Error::Code code;
    std::size_t column;
    std::string_view fragment;
  };
  const Case cases[] = {
      {"sport = :70000", Error::Code::kOutOfRange, 10, "70000"},
      {"state bogus", Error::Code::kBadSyntax, 7, "bogus"},
      {"state", Error::Code::kBadSyntax, 1, "state"},
      {"dev lo", Error::Code::kUnsupported, 1, "dev"},
      {"sport = :1 or fwmark = 0x1", Error::Code::kUnsupported, 15, "fwmark"},
      {"cgroup /x", Error::Code::kUnsupported, 1, "cgroup"},
      {"sport = :80 or", Error::Code::kBadSyntax, 13, "or"},
      {"( sport = :80", Error::Code::kTruncated, 1, "("},
      {"sport = :80 )", Error::Code::kBadSyntax, 13, ")"},
      {"( )", Error::Code::kBadSyntax, 1, "("},
      {"not", Error::Code::kBadSyntax, 1, "not"},
      {"src 127.1", Error::Code::kBadAddress, 10, "127.1"},  // where the text ran out
      {"src localhost", Error::Code::kBadAddress, 5, "localhost"},
      {"dport = :0x50", Error::Code::kTrailingGarbage, 11, "x50"},
      {"dport = :0443", Error::Code::kLeadingZero, 10, "0443"},
      {"src 1.2.3.4:nosuchservice", Error::Code::kBadSyntax, 13, "nosuchservice"},
      {"src > 1.2.3.4", Error::Code::kBadSyntax, 5, ">"},
      {"dport < :*", Error::Code::kBadSyntax, 9, ":*"},
      {"src [::1", Error::Code::kBadSyntax, 5, "[::1"},
      {"src [::1]80", Error::Code::kBadSyntax, 10, "80"},
      {"src unix:/tmp/x", Error::Code::kUnsupported, 5, "unix:"},
      {"dst [fe80::1%nosuchif]", Error::Code::kBadAddress, 6, "nosuchif"},
      {"src 10.0.0.0/33", Error::Code::kOutOfRange, 14, "33"},
      {"sport", Error::Code::kMissingPort, 1, "sport"},
      {"src", Error::Code::kEmpty, 1, "src"},
      {"state established established", Error::Code::kBadSyntax, 19, "established"},
  };
  for (const Case& c : cases) {
    Error e = error_of(c.text);
    EXPECT_EQ(e.code, c.code) << c.text << ": " << e.what();
    EXPECT_EQ(e.column, c.column) << c.text << ": " << e.what();
    EXPECT_EQ(e.fragment, c.fragment) << c.text << ": " << e.what();
  }
  EXPECT_EQ(error_of("sport = :70000").what(), "port out of range 0-65535 at column 10: '70000'");
}

TEST(SocketFilterParse, WordsJoinWithBlanksForColumns) {
  const std::vector<std::string> words = {"state", "established", "( dport = :443 or sport = :x )"};
  auto f = SocketFilter::parse(words, Registry::builtin(), options());
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error().column, 46u);  // "state established ( dport = :443 or sport = :x )"
  EXPECT_EQ(f.error().fragment, "x");
}

TEST(SocketFilterParse, ServicesFromLocalLabelsAndAmbiguity) {
  Registry names;
  names.load_services_text("split 1000/tcp\nsplit 2000/udp\nmine 4711/tcp\n", "test");
  EXPECT_EQ(parse("sport = :mine", names).to_string(), "sport = :4711");
  Error e = error_of("dport = :split", names);
  EXPECT_EQ(e.column, 10u);
  EXPECT_NE(e.message.find("ambiguous"), std::string::npos) << e.what();
  SocketFilterOptions tcp_only = options();
  tcp_only.transports = {Transport::kTcp};
  auto f = SocketFilter::parse("dport = :split", names, tcp_only);
  ASSERT_TRUE(f) << f.error().what();
  EXPECT_EQ(f->to_string(), "dport = :1000");
}

TEST(SocketFilterParse, DeepNestingIsAnErrorNotACrash) {
  std::string deep(300, '(');
  deep += "sport = :1";
  deep += std::string(300, ')');
  EXPECT_EQ(error_of(deep).code, Error::Code::kOutOfRange);
  std::string nots;
  for (int i = 0; i < 300; ++i) nots += "not ";
  EXPECT_EQ(error_of(nots + "autobound").code, Error::Code::kOutOfRange);
  // A long flat list is fine: `or` of the same kind is one node.
  std::string flat = "sport = :1";
  for (int i = 2; i < 3000; ++i) flat += " or sport = :" + std::to_string(i);
  EXPECT_TRUE(parse(flat).matches(record("1.1.1.1:2999", "2.2.2.2:1")));
}

TEST(SocketFilterMatch, PortsAndPrecedence) {
  auto r = record("10.0.0.1:80", "10.0.0.2:5");
  EXPECT_FALSE(parse("sport = :80 or sport = :443 and dport = :1000").matches(r));
  EXPECT_TRUE(parse("sport = :80 or ( sport = :443 and dport = :1000 )").matches(r));
  EXPECT_TRUE(parse("sport > :79 sport < :81 sport >= :80 sport <= :80").matches(r));
  EXPECT_FALSE(parse("sport > :80").matches(r));
  EXPECT_FALSE(parse("sport < :80").matches(r));
  EXPECT_TRUE(parse("dport != :6 and not dport = :4").matches(r));
  EXPECT_FALSE(parse("dport != :*").matches(r));
  EXPECT_FALSE(parse("state listening").matches(r));
  EXPECT_TRUE(parse("state established sport = :http").matches(r));
}

TEST(SocketFilterMatch, MappedAddressesAndFamilies) {
  auto v4 = record("127.0.0.1:443", "127.0.0.1:40000");
  auto mapped = record("[::ffff:127.0.0.1]:443", "[::ffff:127.0.0.1]:40000");
  auto v6 = record("[::1]:443", "[::1]:40000");
  auto f = parse("src 127.0.0.0/8");
  EXPECT_TRUE(f.matches(v4));
  EXPECT_TRUE(f.matches(mapped));  // the kernel's rule for AF_INET conditions
  EXPECT_FALSE(f.matches(v6));
  auto only_mapped = parse("src [::ffff:127.0.0.1]");
  EXPECT_FALSE(only_mapped.matches(v4));
  EXPECT_TRUE(only_mapped.matches(mapped));
  EXPECT_TRUE(parse("src [::ffff:0:0/96]:443").matches(mapped));
  // `inet:` restricts the dump to AF_INET: mapped sockets are AF_INET6.
  auto inet = parse("src inet:127.0.0.1");
  EXPECT_TRUE(inet.matches(v4));
  EXPECT_FALSE(inet.matches(mapped));
  EXPECT_FALSE(inet.ipv6());
}

TEST(SocketFilterMatch, SsUserSpaceComparesAddressBitsWithoutFamilies) {
  auto v4 = record("127.0.0.1:80", "0.0.0.0:0", SocketState::kListen);
  auto v6 = record("[2001:db8::1]:80", "[::]:0", SocketState::kListen);
  auto none = parse("not src 0.0.0.0/0");
  EXPECT_FALSE(none.matches(v4));
  EXPECT_FALSE(none.matches(v6));                      // user space: a /0 prefix is "any address"
  EXPECT_TRUE(none.matches(v6, FilterSide::kKernel));  // kernel: AF_INET6 fails an AF_INET test
  EXPECT_FALSE(none.matches(v6, FilterSide::kUserSpace));
  // ::/1 covers 127.0.0.1 bit-wise (first bit 0) in user space, not in the kernel.
  auto low_half = parse("not src ::/1");
  EXPECT_TRUE(low_half.matches(v4, FilterSide::kKernel));
  EXPECT_FALSE(low_half.matches(v4, FilterSide::kUserSpace));
  EXPECT_FALSE(low_half.matches(v4));
  EXPECT_TRUE(parse("not src 128.0.0.0/1").matches(v6));  // 2001:: starts with bit 0
  EXPECT_TRUE(parse("src 127.0.0.1").needs_user_space_check());
  EXPECT_FALSE(parse("sport = :1 or dport > :2 or src *:3").needs_user_space_check());
}

TEST(SocketFilterMatch, AutoboundNeedsTheKernelBitAndTheRange) {
  auto f = parse("autobound");
  auto n = parse("not autobound");
  auto picked_in_range = record("127.0.0.1:40000", "127.0.0.1:80", SocketState::kEstablished, true);
  auto bound_in_range = record("127.0.0.1:40001", "127.0.0.1:80", SocketState::kEstablished, false);
  auto bound_low = record("127.0.0.1:2000", "127.0.0.1:80", SocketState::kEstablished, false);
  auto accepted = record("127.0.0.1:80", "127.0.0.1:2000", SocketState::kEstablished, true);
  EXPECT_TRUE(f.matches(picked_in_range));
  EXPECT_FALSE(n.matches(picked_in_range));
  EXPECT_FALSE(f.matches(bound_in_range));  // in neither set, as in ss
  EXPECT_FALSE(n.matches(bound_in_range));
  EXPECT_FALSE(f.matches(bound_low));
  EXPECT_TRUE(n.matches(bound_low));
  EXPECT_FALSE(f.matches(accepted));  // the kernel says auto, the port is not ephemeral
  EXPECT_FALSE(n.matches(accepted));
  // TIME_WAIT: userlocks 0, the kernel's AUTO holds; the range decides.
  EXPECT_TRUE(f.matches(record("127.0.0.1:50000", "127.0.0.1:80", SocketState::kTimeWait)));
  EXPECT_FALSE(f.matches(record("127.0.0.1:80", "127.0.0.1:50000", SocketState::kTimeWait)));
  // No bit known (the /proc source): the range alone, as ss on /proc.
  EXPECT_TRUE(f.matches(record("127.0.0.1:40002", "127.0.0.1:80")));
  EXPECT_TRUE(n.matches(record("127.0.0.1:2001", "127.0.0.1:80")));
}

TEST(SocketFilterMatch, ZoneMatchesTheBoundInterface) {
  auto f = parse("src [fe80::1%eth0]:22");
  auto r = record("[fe80::1]:22", "[fe80::2]:50000");
  r.ifindex = 2;
  EXPECT_TRUE(f.matches(r));
  r.ifindex = 3;
  EXPECT_FALSE(f.matches(r));
}

TEST(SocketFilterLists, PortsAndHosts) {
  auto p = SocketFilter::ports("7001,8443 :https,6000-6063", PortSide::kEither, Registry::builtin(),
                               options());
  ASSERT_TRUE(p) << p.error().what();
  EXPECT_EQ(p->to_string(),
            "sport = :7001 or dport = :7001 or sport = :8443 or dport = :8443 or sport = :443 or "
            "dport = :443 or ( sport >= :6000 and sport <= :6063 ) or ( dport >= :6000 and dport "
            "<= :6063 )");
  EXPECT_TRUE(p->matches(record("1.1.1.1:50000", "2.2.2.2:6010")));
  EXPECT_FALSE(p->matches(record("1.1.1.1:50000", "2.2.2.2:6064")));
  auto bad = SocketFilter::ports("80,x", PortSide::kLocal, Registry::builtin(), options());
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().column, 4u);
  auto h =
      SocketFilter::hosts("10.0.0.0/8,[::1]:22", PortSide::kRemote, Registry::builtin(), options());
  ASSERT_TRUE(h) << h.error().what();
  EXPECT_EQ(h->to_string(), "dst 10.0.0.0/8 or dst [::1]:22");
  auto both = SocketFilter::all_of(parse("state listening"), *h);
  EXPECT_EQ(both.to_string(), "state listening dst 10.0.0.0/8 or dst [::1]:22");
  EXPECT_FALSE(SocketFilter::ports("", PortSide::kLocal, Registry::builtin(), options()));
}

// Bytes of an inet_diag_bc_op.
std::vector<std::uint8_t> op(std::uint8_t code, std::uint8_t yes, std::uint16_t no) {
  return {code, yes, std::uint8_t(no & 0xff), std::uint8_t(no >> 8)};
}
std::vector<std::uint8_t> cat(std::initializer_list<std::vector<std::uint8_t>> parts) {
  std::vector<std::uint8_t> out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

TEST(SocketFilterBytecode, SmallProgramsByteForByte) {
  // sport = :80: S_COND (12 bytes: op, hostcond {AF_UNSPEC, /0, port 80}), reject at 16.
  const auto port80 = cat({op(INET_DIAG_BC_S_COND, 12, 16), {AF_UNSPEC, 0, 0, 0, 80, 0, 0, 0}});
  EXPECT_EQ(*parse("sport = :80").bytecode(), port80);
  // not autobound: AUTO jumps over the JMP to the end (accept); the JMP rejects.
  EXPECT_EQ(*parse("not autobound").bytecode(),
            cat({op(INET_DIAG_BC_AUTO, 4, 8), op(INET_DIAG_BC_JMP, 4, 8)}));
  // dport >= :1024: D_GE with the port in a second unit's "no".
  EXPECT_EQ(*parse("dport >= :1024").bytecode(),
            cat({op(INET_DIAG_BC_D_GE, 8, 12), op(0, 0, 1024)}));
  // src 10.0.0.0/8 or autobound: the condition jumps to the AUTO test when false,
  // and to the end when true (through the JMP).
  EXPECT_EQ(*parse("src 10.0.0.0/8 or autobound").bytecode(),
            cat({op(INET_DIAG_BC_S_COND, 16, 20),
                 {AF_INET, 8, 0, 0, 0xff, 0xff, 0xff, 0xff},
                 {10, 0, 0, 0},
                 op(INET_DIAG_BC_JMP, 4, 8),
                 op(INET_DIAG_BC_AUTO, 4, 8)}));
  EXPECT_EQ(*parse("").bytecode(), std::vector<std::uint8_t>{});
}

TEST(SocketFilterBytecode, ComposedAheadOfThePartsProgram) {
  // The user's reject (16 = its end + 4) moves past the AUTO half's 4 bytes.
  const auto user = *parse("sport = :80").bytecode();
  const auto tail = host_detail::diag_program(host_detail::DumpPart::kAuto);
  ASSERT_EQ(tail.size(), 1u);
  auto both = host_detail::compose(user, tail);
  ASSERT_TRUE(both);
  EXPECT_EQ(*both, cat({op(INET_DIAG_BC_S_COND, 12, 20),
                        {AF_UNSPEC, 0, 0, 0, 80, 0, 0, 0},
                        op(INET_DIAG_BC_AUTO, 4, 8)}));
  EXPECT_EQ(*host_detail::compose(user, {}), user);
  const std::vector<std::uint8_t> broken = {INET_DIAG_BC_JMP, 0, 4, 0};  // yes = 0: no progress
  EXPECT_FALSE(host_detail::compose(broken, tail));
}

TEST(SocketFilterBytecode, TooLongForTheKernelIsNullopt) {
  std::string flat = "src 10.0.0.1";
  for (int i = 2; i < 5000; ++i)
    flat += " or src 10.0." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1);
  auto f = parse(flat);
  EXPECT_FALSE(f.bytecode());
  EXPECT_TRUE(f.matches(record("10.0.1.1:1", "1.1.1.1:2")));
}

}  // namespace
}  // namespace sockscope
