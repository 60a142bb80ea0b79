// The BTF reader: a hand-built miniature kernel with every offset stated by
// hand, malformed blobs, and the running kernel's vmlinux against bpftool's
// own dump of it.
#include "host/btf.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <optional>
#include <sstream>
#include <string>

#include "host/btf_builder.hpp"

namespace sockscope {
namespace {

using host_detail::BtfFile;
using host_detail::BtfTypes;
using host_detail::find_iter_task_file_layout;
using host_detail::IterTaskFileLayout;
using testing::BtfBuilder;

TEST(BtfReaderTest, FindsEveryFieldOfTheMiniatureKernel) {
  const auto k = testing::synthetic_kernel_btf();
  auto l = find_iter_task_file_layout(k.blob);
  ASSERT_TRUE(l) << l.error().what();
  EXPECT_EQ(l->attach_btf_id, k.func_id);  // not the look-alike bpf_iter_task_file_x
  EXPECT_EQ(l->ctx_meta, 0u);
  EXPECT_EQ(l->ctx_task, 8u);
  EXPECT_EQ(l->ctx_fd, 16u);
  EXPECT_EQ(l->ctx_file, 24u);
  EXPECT_EQ(l->meta_seq, 0u);
  EXPECT_EQ(l->task_pid, 1264u);
  EXPECT_EQ(l->task_tgid, 1268u);
  EXPECT_EQ(l->task_comm, 1752u);
  EXPECT_EQ(l->file_inode, 32u);  // 16 (anonymous struct) + 16
  EXPECT_EQ(l->inode_mode, 0u);
  EXPECT_EQ(l->inode_sb, 8u);
  EXPECT_EQ(l->inode_ino, 64u);
  EXPECT_EQ(l->sb_magic, 24u);
}

TEST(BtfReaderTest, EveryTruncationIsAnErrorNotACrash) {
  const auto k = testing::synthetic_kernel_btf();
  for (std::size_t n = 0; n < k.blob.size(); ++n) {
    std::vector<std::uint8_t> cut(k.blob.begin(), k.blob.begin() + std::ptrdiff_t(n));
    auto l = find_iter_task_file_layout(cut);
    EXPECT_FALSE(l) << "accepted the first " << n << " bytes";
  }
}

TEST(BtfReaderTest, NamesWhatIsWrong) {
  auto blob = testing::synthetic_kernel_btf().blob;
  auto message = [](const std::vector<std::uint8_t>& b) {
    auto l = find_iter_task_file_layout(b);
    return l ? std::string("accepted") : l.error().what();
  };
  auto bad_magic = blob;
  bad_magic[0] ^= 0xff;
  EXPECT_NE(message(bad_magic).find("bad magic"), std::string::npos);
  auto long_header = blob;
  const std::uint32_t huge = 1u << 30;
  std::memcpy(long_header.data() + offsetof(btf_header, hdr_len), &huge, 4);
  EXPECT_NE(message(long_header).find("header length"), std::string::npos);
  auto long_strings = blob;
  std::memcpy(long_strings.data() + offsetof(btf_header, str_len), &huge, 4);
  EXPECT_NE(message(long_strings).find("beyond the end"), std::string::npos);

  // An unknown kind before the wanted types: their ids cannot be known.
  BtfBuilder b;
  b.add_int("int", 4);
  b.add_raw(31, 0, 0, {});
  EXPECT_NE(message(b.build()).find("unknown kind 31 of type 2"), std::string::npos);

  // pid as a bitfield, and tgid of the wrong size: the program's loads would be wrong.
  BtfBuilder f;
  const auto i32 = f.add_int("int", 4);
  const auto i16 = f.add_int("short", 2);
  f.add_struct("task_struct", 64, {{"pid", i32, 0, 4}, {"tgid", i16, 32}}, true);
  BtfTypes::Wanted want[] = {{BTF_KIND_STRUCT, "task_struct"}};
  auto blob2 = f.build();
  auto types = BtfTypes::parse(blob2);
  ASSERT_TRUE(types);
  const auto ids = types->find(want);
  ASSERT_EQ(ids[0], 3u);
  auto pid = types->member(ids[0], "pid");
  ASSERT_FALSE(pid);
  EXPECT_NE(pid.error().what().find("'task_struct.pid' is a bitfield"), std::string::npos);
  auto tgid = types->member(ids[0], "tgid");
  ASSERT_TRUE(tgid);
  EXPECT_EQ(tgid->offset, 4u);
  EXPECT_EQ(types->size_of(tgid->type), 2u);
  EXPECT_FALSE(types->member(ids[0], "comm"));
  EXPECT_NE(message(blob2).find("no 'bpf_iter_task_file'"), std::string::npos);
}

TEST(BtfReaderTest, TypedefCyclesAndDeepNestingEnd) {
  BtfBuilder b;
  b.add_typedef("a", 2);  // 1 -> 2 -> 1
  b.add_typedef("b", 1);
  auto blob = b.build();
  auto types = BtfTypes::parse(blob);
  ASSERT_TRUE(types);
  EXPECT_EQ(types->resolve(1), 0u);
  EXPECT_EQ(types->size_of(1), 0u);
  // A struct whose anonymous member is itself: the search stops at depth 16.
  BtfBuilder s;
  s.add_struct("loop", 8, {{"", 1, 0}});
  auto blob2 = s.build();
  auto loop = BtfTypes::parse(blob2);
  ASSERT_TRUE(loop);
  EXPECT_FALSE(loop->member(1, "x"));
  EXPECT_EQ(*loop->index_all(), 1u);
}

// ---- The running kernel against bpftool ----

// bpftool's raw dump: "[ID] KIND 'name' ..." lines, members on "\t'name' type_id=N
// bits_offset=M [bitfield_size=B]" lines under their struct or union.
struct DumpedType {
  std::string kind, name;
  std::uint32_t type_id = 0;  // typedefs and qualifiers
  struct Member {
    std::string name;
    std::uint32_t type_id, bits;
  };
  std::vector<Member> members;
};

std::map<std::uint32_t, DumpedType> bpftool_dump() {
  std::map<std::uint32_t, DumpedType> types;
  FILE* p = ::popen("bpftool btf dump file /sys/kernel/btf/vmlinux format raw 2>/dev/null", "r");
  if (!p) return types;
  char line[4096];
  DumpedType* current = nullptr;
  for (int n = 0; n < 5'000'000 && std::fgets(line, sizeof line, p); ++n) {
    std::string s(line);
    if (s[0] == '[') {
      std::istringstream in(s);
      std::string id, kind, name;
      in >> id >> kind >> name;
      current = &types[std::uint32_t(std::stoul(id.substr(1)))];
      current->kind = kind;
      current->name = name.size() >= 2 ? name.substr(1, name.size() - 2) : name;
      auto t = s.find(" type_id=");
      if (t != std::string::npos) current->type_id = std::uint32_t(std::stoul(s.substr(t + 9)));
    } else if (current && s[0] == '\t' && s[1] == '\'' &&
               (current->kind == "STRUCT" || current->kind == "UNION")) {
      const auto close = s.find('\'', 2);
      const auto t = s.find("type_id=");
      const auto o = s.find("bits_offset=");
      if (close == std::string::npos || t == std::string::npos || o == std::string::npos) continue;
      current->members.push_back({s.substr(2, close - 2),
                                  std::uint32_t(std::stoul(s.substr(t + 8))),
                                  std::uint32_t(std::stoul(s.substr(o + 12)))});
    }
  }
  ::pclose(p);
  return types;
}

// Byte offset of `name` in struct `id`, looking into anonymous members.
std::optional<std::uint32_t> dumped_offset(const std::map<std::uint32_t, DumpedType>& types,
                                           std::uint32_t id, const std::string& name,
                                           int depth = 0) {
  auto it = types.find(id);
  if (it == types.end() || depth > 8) return std::nullopt;
  for (const auto& m : it->second.members) {
    if (m.name == name) return m.bits / 8;
    if (m.name == "(anon)") {
      if (auto inner = dumped_offset(types, m.type_id, name, depth + 1)) return m.bits / 8 + *inner;
    }
  }
  return std::nullopt;
}

TEST(BtfReaderTest, RunningKernelAgreesWithBpftool) {
  auto file = BtfFile::open("/sys/kernel/btf/vmlinux");
  if (!file) GTEST_SKIP() << "no kernel BTF here: " << file.error().what();
  auto l = find_iter_task_file_layout(file->bytes());
  ASSERT_TRUE(l) << l.error().what();
  const auto types = bpftool_dump();
  if (types.empty()) GTEST_SKIP() << "bpftool is not installed (scripts/install-deps)";
  auto id_of = [&](const std::string& kind, const std::string& name) {
    for (const auto& [id, t] : types) {
      if (t.kind == kind && t.name == name && (kind == "FUNC" || !t.members.empty())) return id;
    }
    return 0u;
  };
  EXPECT_EQ(l->attach_btf_id, id_of("FUNC", "bpf_iter_task_file"));
  struct Field {
    const char* type;
    const char* member;
    std::uint32_t ours;
  };
  const Field fields[] = {
      {"bpf_iter__task_file", "meta", l->ctx_meta},
      {"bpf_iter__task_file", "task", l->ctx_task},
      {"bpf_iter__task_file", "fd", l->ctx_fd},
      {"bpf_iter__task_file", "file", l->ctx_file},
      {"bpf_iter_meta", "seq", l->meta_seq},
      {"task_struct", "pid", l->task_pid},
      {"task_struct", "tgid", l->task_tgid},
      {"task_struct", "comm", l->task_comm},
      {"file", "f_inode", l->file_inode},
      {"inode", "i_mode", l->inode_mode},
      {"inode", "i_ino", l->inode_ino},
      {"inode", "i_sb", l->inode_sb},
      {"super_block", "s_magic", l->sb_magic},
  };
  for (const auto& f : fields) {
    auto want = dumped_offset(types, id_of("STRUCT", f.type), f.member);
    ASSERT_TRUE(want) << f.type << "." << f.member << " not in bpftool's dump";
    EXPECT_EQ(f.ours, *want) << f.type << "." << f.member;
  }
}

// The state tracer's offsets (struct sock, sock_common, net) against bpftool's
// dump of the same kernel.
TEST(BtfReaderTest, SockStateLayoutAgreesWithBpftool) {
  auto file = BtfFile::open("/sys/kernel/btf/vmlinux");
  if (!file) GTEST_SKIP() << "no kernel BTF here: " << file.error().what();
  auto l = host_detail::find_sock_state_layout(file->bytes());
  ASSERT_TRUE(l) << l.error().what();
  const auto types = bpftool_dump();
  if (types.empty()) GTEST_SKIP() << "bpftool is not installed (scripts/install-deps)";
  auto id_of = [&](const std::string& kind, const std::string& name) {
    for (const auto& [id, t] : types) {
      if (t.kind == kind && t.name == name && (kind == "TYPEDEF" || !t.members.empty())) return id;
    }
    return 0u;
  };
  EXPECT_EQ(l->attach_btf_id, id_of("TYPEDEF", "btf_trace_inet_sock_set_state"));
  const auto common = dumped_offset(types, id_of("STRUCT", "sock"), "__sk_common");
  ASSERT_TRUE(common);
  const std::uint32_t sock_common = id_of("STRUCT", "sock_common");
  struct Field {
    const char* member;
    std::uint32_t ours;
  };
  const Field fields[] = {
      {"skc_family", l->family},     {"skc_num", l->num},
      {"skc_dport", l->dport},       {"skc_rcv_saddr", l->rcv_saddr},
      {"skc_daddr", l->daddr},       {"skc_v6_rcv_saddr", l->v6_rcv_saddr},
      {"skc_v6_daddr", l->v6_daddr}, {"skc_net", l->net},
  };
  for (const auto& f : fields) {
    auto want = dumped_offset(types, sock_common, f.member);
    ASSERT_TRUE(want) << "sock_common." << f.member << " not in bpftool's dump";
    EXPECT_EQ(f.ours, *common + *want) << f.member;
  }
  EXPECT_EQ(l->protocol, dumped_offset(types, id_of("STRUCT", "sock"), "sk_protocol"));
  const auto ns = dumped_offset(types, id_of("STRUCT", "net"), "ns");
  const auto inum = dumped_offset(types, id_of("STRUCT", "ns_common"), "inum");
  ASSERT_TRUE(ns && inum);
  EXPECT_EQ(l->net_inum, *ns + *inum);
  const std::uint32_t tcp_sock = id_of("STRUCT", "tcp_sock");
  const Field counters[] = {
      {"bytes_acked", l->bytes_acked},     {"bytes_received", l->bytes_received},
      {"bytes_sent", l->bytes_sent},       {"bytes_retrans", l->bytes_retrans},
      {"segs_out", l->segs_out},           {"segs_in", l->segs_in},
      {"total_retrans", l->total_retrans},
  };
  for (const auto& f : counters) {
    EXPECT_EQ(f.ours, dumped_offset(types, tcp_sock, f.member)) << "tcp_sock." << f.member;
  }
}

}  // namespace
}  // namespace sockscope
