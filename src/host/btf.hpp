// A minimal reader of the kernel's raw BTF (/sys/kernel/btf/vmlinux): just
// enough to find the offsets the task_file iterator program (bpf_iter.cpp)
// reads, without libbpf. Internal to the host layer; standard library and
// linux/btf.h only, so the fuzz preset builds it too.
//
//   auto file = BtfFile::open("/sys/kernel/btf/vmlinux");
//   auto layout = find_iter_task_file_layout(file->bytes());   // layout->task_tgid == 1268
//
// libbpf's btf__load_vmlinux_btf() takes 15-33 ms and 13 MB here and would
// load libbpf, libelf and libz into every sockscope command. This reader makes
// one linear pass over the type section to index it, one more to find the few
// named types, and walks only their members. Every offset and length is
// checked against the buffer: a malformed blob is an Error, never a crash.
#pragma once

#include <cstdint>
#include <expected>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sockscope/error.hpp"

namespace sockscope::host_detail {

// The type section of one BTF blob, indexed as far as it was needed; views
// into the caller's buffer, which must outlive the object.
class BtfTypes {
 public:
  // Checks the header and the sections' bounds; types are indexed on demand.
  static std::expected<BtfTypes, Error> parse(std::span<const std::uint8_t> data);
  // Indexes every type; the count, or what is malformed.
  std::expected<std::uint32_t, Error> index_all();
  std::uint32_t count() const { return std::uint32_t(offsets_.size()); }  // indexed so far
  // What stopped the indexing ("" when nothing did).
  const std::string& problem() const { return problem_; }

  // Kind (BTF_KIND_*) and name of type `id`; BTF_KIND_UNKN and "" when there
  // is no such type (or it lies behind a malformed one).
  std::uint32_t kind(std::uint32_t id);
  std::string_view name(std::uint32_t id);

  // The ids of the first non-empty struct/union or func of each (kind, name),
  // in one pass that stops when all are found; 0 where none exists.
  struct Wanted {
    std::uint32_t kind;
    std::string_view name;
  };
  std::vector<std::uint32_t> find(std::span<const Wanted> wanted);

  // A member of a struct or union, searched also inside anonymous struct and
  // union members (at any depth up to 16): its byte offset from the start of
  // the outer struct, and its type with typedefs and qualifiers removed.
  struct Member {
    std::uint32_t offset;
    std::uint32_t type;
  };
  std::expected<Member, Error> member(std::uint32_t struct_id, std::string_view name);

  // `id` without typedef/const/volatile/restrict/type tags (bounded chain).
  std::uint32_t resolve(std::uint32_t id);
  // Size in bytes of an int, enum, pointer (8), struct/union or array; 0 when unknown.
  std::uint64_t size_of(std::uint32_t id);
  // For an array: its element type (resolved) and count; false otherwise.
  bool array_of(std::uint32_t id, std::uint32_t* element, std::uint32_t* count);

 private:
  struct Raw {  // struct btf_type, read with memcpy (the blob may be unaligned)
    std::uint32_t name_off, info, size_or_type;
  };
  bool index_to(std::uint32_t id);
  Raw raw(std::uint32_t id);
  std::string_view string_at(std::uint32_t off) const;
  bool name_is(std::uint32_t off, std::string_view want) const;
  std::expected<Member, Error> member_in(std::uint32_t struct_id, std::string_view name, int depth);

  std::span<const std::uint8_t> types_;
  std::span<const std::uint8_t> strings_;
  std::vector<std::uint32_t> offsets_;  // offsets_[id - 1]: byte offset in types_
  std::size_t next_ = 0;                // where indexing continues
  std::string problem_;
};

// What the task_file iterator program needs, all byte offsets.
struct IterTaskFileLayout {
  std::uint32_t attach_btf_id = 0;  // BTF_KIND_FUNC bpf_iter_task_file
  // struct bpf_iter__task_file, the program's context
  std::uint32_t ctx_meta = 0, ctx_task = 0, ctx_fd = 0, ctx_file = 0;
  std::uint32_t meta_seq = 0;                                 // struct bpf_iter_meta
  std::uint32_t task_pid = 0, task_tgid = 0, task_comm = 0;   // struct task_struct
  std::uint32_t file_inode = 0;                               // struct file.f_inode
  std::uint32_t inode_mode = 0, inode_ino = 0, inode_sb = 0;  // struct inode
  std::uint32_t sb_magic = 0;                                 // struct super_block.s_magic
};

// The ids of every wanted type; an Error naming the first one missing ("BTF:
// the kernel has no 'X' (`without`)").
std::expected<std::vector<std::uint32_t>, Error> find_required(
    BtfTypes& types, std::span<const BtfTypes::Wanted> wanted, std::string_view without);

// A field a program reads: which of the looked-up types (index), the member,
// the size of the load that reads it, and where its offset goes.
template <class Layout>
struct BtfField {
  int type;
  std::string_view member;
  std::uint64_t size;
  std::uint32_t Layout::*out;
};
// One member's offset into *out after checking its size; "" or the problem.
std::string field_offset(BtfTypes& types, std::uint32_t struct_id, std::string_view name,
                         std::uint64_t size, std::uint32_t* out);
// Every field of `fields` into `layout`; "" or the first problem.
template <class Layout>
std::string fill_fields(BtfTypes& types, std::span<const std::uint32_t> ids,
                        std::span<const BtfField<Layout>> fields, Layout& layout) {
  for (const BtfField<Layout>& f : fields) {
    std::string problem =
        field_offset(types, ids[std::size_t(f.type)], f.member, f.size, &(layout.*f.out));
    if (!problem.empty()) return problem;
  }
  return {};
}

// Finds every field of the layout and checks its size (the program's loads
// have fixed widths: pid/tgid 4, comm char[16], i_mode 2, i_ino and s_magic 8,
// pointers 8, context fields on 8-byte slots).
std::expected<IterTaskFileLayout, Error> find_iter_task_file_layout(
    std::span<const std::uint8_t> btf);

// What the state tracer's program (state_tracer.cpp) reads from the
// tracepoint sock:inet_sock_set_state's `struct sock *`: byte offsets from the
// start of struct sock (sock_common's fields included) and of struct net.
struct SockStateLayout {
  std::uint32_t attach_btf_id = 0;               // BTF_KIND_TYPEDEF btf_trace_inet_sock_set_state
  std::uint32_t family = 0, num = 0, dport = 0;  // u16 each
  std::uint32_t rcv_saddr = 0, daddr = 0;        // u32 each
  std::uint32_t v6_rcv_saddr = 0, v6_daddr = 0;  // struct in6_addr, 16 bytes
  std::uint32_t net = 0;                         // possible_net_t: struct net *
  std::uint32_t protocol = 0;                    // u16 sk_protocol
  std::uint32_t net_inum = 0;                    // struct net.ns.inum, u32
  // struct tcp_sock (through bpf_skc_to_tcp_sock): the counters at CLOSE, before
  // an abort's tcp_disconnect() clears them.
  std::uint32_t bytes_acked = 0, bytes_received = 0, bytes_sent = 0, bytes_retrans = 0;  // u64
  std::uint32_t segs_out = 0, segs_in = 0, total_retrans = 0;                            // u32
};
std::expected<SockStateLayout, Error> find_sock_state_layout(std::span<const std::uint8_t> btf);

// A BTF file's bytes: mapped where the kernel allows it (/sys/kernel/btf/vmlinux
// since Linux 6.16, MAP_PRIVATE read-only), read otherwise (sysfs hands out one
// page per read(): ~1,350 reads and 7-9 ms for the 5.5 MB here, against 0.2 ms
// for the mapping). At most 256 MiB.
class BtfFile {
 public:
  static std::expected<BtfFile, Error> open(const char* path);
  BtfFile(BtfFile&& o) noexcept;
  BtfFile& operator=(BtfFile&&) = delete;
  ~BtfFile();

  std::span<const std::uint8_t> bytes() const { return bytes_; }
  bool mapped() const { return map_ != nullptr; }

 private:
  BtfFile() = default;
  void* map_ = nullptr;
  std::size_t map_size_ = 0;
  std::vector<std::uint8_t> copy_;
  std::span<const std::uint8_t> bytes_;
};

}  // namespace sockscope::host_detail
