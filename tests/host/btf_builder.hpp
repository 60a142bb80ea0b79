// Writes small raw BTF blobs (linux/btf.h layout) for the BTF reader's tests,
// and its fuzz seeds (fuzz/corpus/btf_layout/ were written with it): the
// tests state every offset by hand, so the reader is checked against values
// that do not come from the reader.
#pragma once

#include <linux/btf.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace sockscope::testing {

class BtfBuilder {
 public:
  struct Member {
    std::string name;  // "" = anonymous
    std::uint32_t type;
    std::uint32_t bit_offset;
    std::uint32_t bitfield_size = 0;  // needs kind_flag
  };

  BtfBuilder() { strings_.push_back('\0'); }

  std::uint32_t add_int(std::string_view name, std::uint32_t bytes) {
    return add(BTF_KIND_INT, name, 0, bytes, {bytes * 8});
  }
  std::uint32_t add_ptr(std::uint32_t to) { return add(BTF_KIND_PTR, "", 0, to, {}); }
  std::uint32_t add_typedef(std::string_view name, std::uint32_t to) {
    return add(BTF_KIND_TYPEDEF, name, 0, to, {});
  }
  std::uint32_t add_const(std::uint32_t to) { return add(BTF_KIND_CONST, "", 0, to, {}); }
  std::uint32_t add_fwd(std::string_view name) { return add(BTF_KIND_FWD, name, 0, 0, {}); }
  std::uint32_t add_array(std::uint32_t element, std::uint32_t index, std::uint32_t count) {
    return add(BTF_KIND_ARRAY, "", 0, 0, {element, index, count});
  }
  std::uint32_t add_struct(std::string_view name, std::uint32_t size,
                           const std::vector<Member>& members, bool kind_flag = false,
                           bool is_union = false) {
    std::vector<std::uint32_t> words;
    for (const auto& m : members) {
      words.push_back(m.name.empty() ? 0 : str(m.name));
      words.push_back(m.type);
      words.push_back(kind_flag ? (m.bitfield_size << 24) | m.bit_offset : m.bit_offset);
    }
    const std::uint32_t info = (kind_flag ? 1u << 31 : 0) | std::uint32_t(members.size());
    return add(is_union ? BTF_KIND_UNION : BTF_KIND_STRUCT, name, info, size, words);
  }
  // A function (with a prototype of `params` ints returning int).
  std::uint32_t add_func(std::string_view name, std::uint32_t int_type, std::uint32_t params) {
    std::vector<std::uint32_t> words;
    for (std::uint32_t i = 0; i < params; ++i) {
      words.push_back(0);
      words.push_back(int_type);
    }
    const std::uint32_t proto = add(BTF_KIND_FUNC_PROTO, "", params, int_type, words);
    return add(BTF_KIND_FUNC, name, 0, proto, {});
  }
  // A type of any kind with raw trailing words (for malformed blobs).
  std::uint32_t add_raw(std::uint32_t kind, std::uint32_t vlen, std::uint32_t size_or_type,
                        const std::vector<std::uint32_t>& words) {
    return add(kind, "", vlen, size_or_type, words);
  }

  std::vector<std::uint8_t> build() const {
    btf_header h{};
    h.magic = BTF_MAGIC;
    h.version = BTF_VERSION;
    h.hdr_len = sizeof h;
    h.type_off = 0;
    h.type_len = std::uint32_t(types_.size() * 4);
    h.str_off = h.type_len;
    h.str_len = std::uint32_t(strings_.size());
    std::vector<std::uint8_t> out(sizeof h + h.type_len + h.str_len);
    std::memcpy(out.data(), &h, sizeof h);
    std::memcpy(out.data() + sizeof h, types_.data(), h.type_len);
    std::memcpy(out.data() + sizeof h + h.type_len, strings_.data(), h.str_len);
    return out;
  }

 private:
  std::uint32_t str(std::string_view s) {
    const auto off = std::uint32_t(strings_.size());
    strings_.insert(strings_.end(), s.begin(), s.end());
    strings_.push_back('\0');
    return off;
  }
  // `info_low`: vlen and kind_flag bits (the kind is added here).
  std::uint32_t add(std::uint32_t kind, std::string_view name, std::uint32_t info_low,
                    std::uint32_t size_or_type, const std::vector<std::uint32_t>& words) {
    types_.push_back(name.empty() ? 0 : str(name));
    types_.push_back((kind << 24) | info_low);
    types_.push_back(size_or_type);
    types_.insert(types_.end(), words.begin(), words.end());
    return ++count_;
  }

  std::vector<std::uint32_t> types_;
  std::string strings_;
  std::uint32_t count_ = 0;
};

// A miniature kernel: every struct and field the task_file program reads, at
// the offsets of kSynthetic below, behind typedefs, anonymous unions and
// structs, a kind_flag bitfield, and decoys (a forward declaration, an empty
// struct, look-alike names) placed before the real types.
struct SyntheticLayout {
  std::uint32_t func_id;
  std::vector<std::uint8_t> blob;
};

inline SyntheticLayout synthetic_kernel_btf() {
  BtfBuilder b;
  const auto int_t = b.add_int("int", 4);                  // 1
  const auto char_t = b.add_int("char", 1);                // 2
  const auto ushort_t = b.add_int("unsigned short", 2);    // 3
  const auto ulong_t = b.add_int("long unsigned int", 8);  // 4
  const auto u32_t = b.add_typedef("u32", b.add_int("unsigned int", 4));
  const auto pid_t_ = b.add_typedef("pid_t", b.add_typedef("__kernel_pid_t", int_t));
  const auto umode_t = b.add_typedef("umode_t", ushort_t);
  const auto comm_t = b.add_array(char_t, int_t, 16);
  b.add_fwd("task_struct");  // decoys
  b.add_struct("file", 0, {});
  b.add_struct("inode_operations", 8, {{"lookup", ulong_t, 0}});
  b.add_func("bpf_iter_task_file_x", int_t, 1);
  const auto sb = b.add_struct(
      "super_block", 64,
      {{"s_list", ulong_t, 0}, {"s_dev", u32_t, 64}, {"s_magic", ulong_t, 192}});  // byte 24
  const auto sb_ptr = b.add_ptr(sb);
  const auto inode = b.add_struct("inode", 128,
                                  {{"i_mode", umode_t, 0},  // byte 0
                                   {"i_opflags", ushort_t, 16},
                                   {"i_sb", sb_ptr, 64},                    // byte 8
                                   {"i_ino", b.add_const(ulong_t), 512}});  // byte 64
  const auto inode_ptr = b.add_ptr(inode);
  // struct file { union { long f_count; long f_rcu; }; struct { u32 f_mode; ...;
  //   struct inode *f_inode; } at byte 16 with f_inode 16 bytes in: byte 32 }
  const auto file_u =
      b.add_struct("", 8, {{"f_count", ulong_t, 0}, {"f_rcu", ulong_t, 0}}, false, true);
  const auto file_s = b.add_struct(
      "", 24, {{"f_mode", u32_t, 0}, {"f_flags", u32_t, 32}, {"f_inode", inode_ptr, 128}});
  const auto file = b.add_struct("file", 64, {{"", file_u, 0}, {"", file_s, 128}});
  const auto file_ptr = b.add_ptr(file);
  // task_struct with kind_flag: a 1-bit field before pid (byte 1264), tgid (1268),
  // comm (1752).
  const auto task = b.add_struct("task_struct", 3264,
                                 {{"__state", u32_t, 0},
                                  {"in_execve", u32_t, 32, 1},
                                  {"pid", pid_t_, 10112},
                                  {"tgid", pid_t_, 10144},
                                  {"comm", comm_t, 14016}},
                                 true);
  const auto task_ptr = b.add_ptr(task);
  const auto seq = b.add_struct("seq_file", 8, {{"buf", ulong_t, 0}});
  const auto seq_ptr = b.add_ptr(seq);
  auto md_ptr = [&](std::string_view name, std::uint32_t ptr) {  // __bpf_md_ptr
    return b.add_struct("", 8, {{std::string(name), ptr, 0}}, false, true);
  };
  const auto meta = b.add_struct(
      "bpf_iter_meta", 24,
      {{"", md_ptr("seq", seq_ptr), 0}, {"session_id", ulong_t, 64}, {"seq_num", ulong_t, 128}});
  const auto meta_ptr = b.add_ptr(meta);
  b.add_struct("bpf_iter__task_file", 32,
               {{"", md_ptr("meta", meta_ptr), 0},
                {"", md_ptr("task", task_ptr), 64},
                {"fd", u32_t, 128},
                {"", md_ptr("file", file_ptr), 192}});
  const auto func = b.add_func("bpf_iter_task_file", int_t, 4);
  return {func, b.build()};
}

}  // namespace sockscope::testing
