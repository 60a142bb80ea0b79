// Raw BTF: header, type section, string section (see linux/btf.h and the
// kernel's Documentation/bpf/btf.rst). Types are variable length: a 12-byte
// struct btf_type followed by kind-specific data, ids counting from 1.
#include "host/btf.hpp"

#include <fcntl.h>
#include <linux/btf.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>

namespace sockscope::host_detail {
namespace {

template <typename T>
T load(std::span<const std::uint8_t> data, std::size_t off) {
  T v;
  std::memcpy(&v, data.data() + off, sizeof v);
  return v;
}

Error bad(std::string message) {
  return Error{Error::Code::kBadSyntax, "BTF: " + std::move(message), 0, {}};
}

std::uint32_t kind_of(std::uint32_t info) { return (info >> 24) & 0x1f; }
std::uint32_t vlen_of(std::uint32_t info) { return info & 0xffff; }
bool kind_flag_of(std::uint32_t info) { return (info >> 31) != 0; }

// Bytes after struct btf_type for each kind; -1 for kinds this reader does not know
// (their length is unknown, so nothing after them can be read).
long extra_bytes(std::uint32_t kind, std::uint32_t vlen) {
  switch (kind) {
    case BTF_KIND_INT: return 4;
    case BTF_KIND_PTR:
    case BTF_KIND_FWD:
    case BTF_KIND_TYPEDEF:
    case BTF_KIND_VOLATILE:
    case BTF_KIND_CONST:
    case BTF_KIND_RESTRICT:
    case BTF_KIND_FUNC:
    case BTF_KIND_FLOAT:
    case BTF_KIND_TYPE_TAG: return 0;
    case BTF_KIND_ARRAY: return sizeof(btf_array);
    case BTF_KIND_STRUCT:
    case BTF_KIND_UNION: return long(vlen) * long(sizeof(btf_member));
    case BTF_KIND_ENUM: return long(vlen) * long(sizeof(btf_enum));
    case BTF_KIND_FUNC_PROTO: return long(vlen) * long(sizeof(btf_param));
    case BTF_KIND_VAR: return sizeof(btf_var);
    case BTF_KIND_DATASEC: return long(vlen) * long(sizeof(btf_var_secinfo));
    case BTF_KIND_DECL_TAG: return sizeof(btf_decl_tag);
    case BTF_KIND_ENUM64: return long(vlen) * long(sizeof(btf_enum64));
    default: return -1;
  }
}

}  // namespace

std::expected<BtfTypes, Error> BtfTypes::parse(std::span<const std::uint8_t> data) {
  if (data.size() < sizeof(btf_header)) return std::unexpected(bad("shorter than its header"));
  const auto h = load<btf_header>(data, 0);
  if (h.magic != BTF_MAGIC) {
    return std::unexpected(bad("bad magic (not BTF, or the other byte order)"));
  }
  if (h.version != BTF_VERSION) {
    return std::unexpected(bad("version " + std::to_string(h.version) + " is not supported"));
  }
  if (h.hdr_len < sizeof(btf_header) || h.hdr_len > data.size()) {
    return std::unexpected(bad("header length out of bounds"));
  }
  const std::uint64_t body = data.size() - h.hdr_len;
  if (std::uint64_t{h.type_off} + h.type_len > body ||
      std::uint64_t{h.str_off} + h.str_len > body) {
    return std::unexpected(bad("type or string section beyond the end of the data"));
  }
  BtfTypes t;
  t.types_ = data.subspan(h.hdr_len + h.type_off, h.type_len);
  t.strings_ = data.subspan(h.hdr_len + h.str_off, h.str_len);
  t.offsets_.reserve(h.type_len / 16);
  return t;
}

bool BtfTypes::index_to(std::uint32_t id) {
  if (offsets_.size() >= id) return true;
  if (!problem_.empty()) return false;
  // One tight loop over the types (vmlinux has ~130,000): only the info word
  // decides a type's length; the problems are told apart after it.
  const std::uint8_t* const base = types_.data();
  const std::size_t size = types_.size();
  const std::size_t last = std::min<std::size_t>(id, 0x7fffffff);
  std::size_t next = next_;
  long extra = 0;
  while (offsets_.size() < last && size - next >= sizeof(Raw)) {
    std::uint32_t info;
    std::memcpy(&info, base + next + offsetof(Raw, info), sizeof info);
    extra = extra_bytes(kind_of(info), vlen_of(info));
    if (extra < 0 || size - next - sizeof(Raw) < std::size_t(extra)) break;
    offsets_.push_back(std::uint32_t(next));
    next += sizeof(Raw) + std::size_t(extra);
  }
  next_ = next;
  if (offsets_.size() >= id) return true;
  if (next == size) return false;  // the end: no such type
  if (offsets_.size() >= 0x7fffffff) {
    problem_ = "too many types";
  } else if (size - next < sizeof(Raw) || extra >= 0) {
    problem_ = "type section ends inside a type";
  } else {
    problem_ = "unknown kind " + std::to_string(kind_of(load<Raw>(types_, next).info)) +
               " of type " + std::to_string(offsets_.size() + 1);
  }
  return false;
}

std::expected<std::uint32_t, Error> BtfTypes::index_all() {
  index_to(UINT32_MAX);
  if (!problem_.empty()) return std::unexpected(bad(problem_));
  return count();
}

BtfTypes::Raw BtfTypes::raw(std::uint32_t id) {
  if (id == 0 || !index_to(id)) return {0, 0, 0};  // void
  return load<Raw>(types_, offsets_[id - 1]);
}

std::uint32_t BtfTypes::kind(std::uint32_t id) {
  if (id == 0 || !index_to(id)) return BTF_KIND_UNKN;
  return kind_of(raw(id).info);
}

std::string_view BtfTypes::string_at(std::uint32_t off) const {
  if (off >= strings_.size()) return {};
  const auto* s = reinterpret_cast<const char*>(strings_.data()) + off;
  const void* nul = std::memchr(s, '\0', strings_.size() - off);
  if (nul == nullptr) return {};  // unterminated: treated as no name
  return {s, std::size_t(static_cast<const char*>(nul) - s)};
}

std::string_view BtfTypes::name(std::uint32_t id) {
  if (id == 0 || !index_to(id)) return {};
  return string_at(raw(id).name_off);
}

bool BtfTypes::name_is(std::uint32_t off, std::string_view want) const {
  if (off >= strings_.size() || strings_.size() - off <= want.size()) return false;
  const auto* s = reinterpret_cast<const char*>(strings_.data()) + off;
  return s[want.size()] == '\0' && std::memcmp(s, want.data(), want.size()) == 0;
}

std::vector<std::uint32_t> BtfTypes::find(std::span<const Wanted> wanted) {
  std::vector<std::uint32_t> ids(wanted.size(), 0);
  // The names still looked for, each with its first 8 bytes (its NUL included
  // when shorter) and which of them count: one compare rejects nearly every
  // type before its name is read in full, and a name found drops out.
  struct Looking {
    std::uint64_t prefix, mask;
    std::uint32_t kind;
    std::size_t index;  // in `wanted`
  };
  std::vector<Looking> looking;
  for (std::size_t i = 0; i < wanted.size(); ++i) {
    const std::size_t n = std::min<std::size_t>(wanted[i].name.size() + 1, 8);
    std::uint8_t bytes[8] = {}, ones[8] = {};
    std::memcpy(bytes, wanted[i].name.data(), std::min(wanted[i].name.size(), n));
    std::memset(ones, 0xff, n);
    Looking l{0, 0, wanted[i].kind, i};
    std::memcpy(&l.prefix, bytes, 8);
    std::memcpy(&l.mask, ones, 8);
    looking.push_back(l);
  }
  auto kinds_looked_for = [&] {
    std::uint32_t bits = 0;
    for (const Looking& l : looking) bits |= 1u << (l.kind & 31);
    return bits & (1u << BTF_KIND_STRUCT | 1u << BTF_KIND_UNION | 1u << BTF_KIND_FUNC |
                   1u << BTF_KIND_TYPEDEF);
  };
  std::uint32_t kinds = kinds_looked_for();
  // Indexes as it goes and stops at the last one found: the rest of the
  // section is read only if a member's type lies beyond it.
  for (std::uint32_t id = 1; !looking.empty(); ++id) {
    // The index grows a batch at a time (a call per type cost more than the walk).
    if (offsets_.size() < id && !index_to(id + 1023) && offsets_.size() < id) break;
    const auto r = load<Raw>(types_, offsets_[id - 1]);
    const std::uint32_t k = kind_of(r.info);
    if (!((kinds >> k) & 1)) continue;
    // Structs may also appear empty (a declaration): keep looking.
    if (k != BTF_KIND_FUNC && k != BTF_KIND_TYPEDEF && vlen_of(r.info) == 0) continue;
    std::uint64_t head = 0;
    if (r.name_off < strings_.size() && strings_.size() - r.name_off >= 8) {
      std::memcpy(&head, strings_.data() + r.name_off, 8);
    } else if (r.name_off < strings_.size()) {
      std::memcpy(&head, strings_.data() + r.name_off, strings_.size() - r.name_off);
    }
    for (std::size_t i = 0; i < looking.size();) {
      const Looking& l = looking[i];
      if ((head & l.mask) != l.prefix || l.kind != k ||
          !name_is(r.name_off, wanted[l.index].name)) {
        ++i;
        continue;
      }
      ids[l.index] = id;
      looking.erase(looking.begin() + std::ptrdiff_t(i));
      kinds = kinds_looked_for();
    }
  }
  return ids;
}

std::uint32_t BtfTypes::resolve(std::uint32_t id) {
  for (int hops = 0; hops < 32; ++hops) {
    switch (kind(id)) {
      case BTF_KIND_TYPEDEF:
      case BTF_KIND_VOLATILE:
      case BTF_KIND_CONST:
      case BTF_KIND_RESTRICT:
      case BTF_KIND_TYPE_TAG: id = raw(id).size_or_type; break;
      default: return id;
    }
  }
  return 0;  // a cycle or an absurd chain: treated as void
}

std::uint64_t BtfTypes::size_of(std::uint32_t id) {
  id = resolve(id);
  switch (kind(id)) {
    case BTF_KIND_INT:
    case BTF_KIND_ENUM:
    case BTF_KIND_ENUM64:
    case BTF_KIND_STRUCT:
    case BTF_KIND_UNION:
    case BTF_KIND_FLOAT: return raw(id).size_or_type;
    case BTF_KIND_PTR: return 8;
    case BTF_KIND_ARRAY: {
      std::uint32_t element = 0, count = 0;
      array_of(id, &element, &count);
      // One level of element size: nested arrays of arrays are not needed here.
      const std::uint32_t ek = kind(element);
      if (ek == BTF_KIND_ARRAY || ek == BTF_KIND_UNKN) return 0;
      return std::uint64_t{count} * size_of(element);
    }
    default: return 0;
  }
}

bool BtfTypes::array_of(std::uint32_t id, std::uint32_t* element, std::uint32_t* count) {
  id = resolve(id);
  if (kind(id) != BTF_KIND_ARRAY) return false;
  const auto a = load<btf_array>(types_, offsets_[id - 1] + sizeof(Raw));
  *element = resolve(a.type);
  *count = a.nelems;
  return true;
}

std::expected<BtfTypes::Member, Error> BtfTypes::member(std::uint32_t struct_id,
                                                        std::string_view name) {
  return member_in(struct_id, name, 0);
}

std::expected<BtfTypes::Member, Error> BtfTypes::member_in(std::uint32_t struct_id,
                                                           std::string_view name, int depth) {
  const std::uint32_t k = kind(struct_id);
  const std::string outer(this->name(struct_id));
  auto missing = [&] { return bad("no member '" + std::string(name) + "' in '" + outer + "'"); };
  if (k != BTF_KIND_STRUCT && k != BTF_KIND_UNION) {
    return std::unexpected(bad("type " + std::to_string(struct_id) + " is not a struct"));
  }
  const Raw r = raw(struct_id);
  const std::size_t first = offsets_[struct_id - 1] + sizeof(Raw);
  for (std::uint32_t i = 0; i < vlen_of(r.info); ++i) {
    const auto m = load<btf_member>(types_, first + i * sizeof(btf_member));
    // With kind_flag, the offset holds the bitfield size in its top 8 bits.
    const std::uint32_t bits = kind_flag_of(r.info) ? m.offset & 0xffffff : m.offset;
    const std::uint32_t bitfield = kind_flag_of(r.info) ? m.offset >> 24 : 0;
    const std::string_view member_name = string_at(m.name_off);
    if (member_name == name) {
      if (bitfield != 0 || bits % 8 != 0) {
        return std::unexpected(bad("'" + outer + "." + std::string(name) + "' is a bitfield"));
      }
      return Member{bits / 8, resolve(m.type)};
    }
    const std::uint32_t inner = resolve(m.type);
    const std::uint32_t ik = kind(inner);
    if (m.name_off == 0 && (ik == BTF_KIND_STRUCT || ik == BTF_KIND_UNION) && depth < 16 &&
        bits % 8 == 0) {
      auto found = member_in(inner, name, depth + 1);
      if (found) return Member{found->offset + bits / 8, found->type};
    }
  }
  return std::unexpected(missing());
}

std::expected<std::vector<std::uint32_t>, Error> find_required(
    BtfTypes& types, std::span<const BtfTypes::Wanted> wanted, std::string_view without) {
  auto ids = types.find(wanted);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] == 0 && !types.problem().empty()) return std::unexpected(bad(types.problem()));
    if (ids[i] == 0) {
      return std::unexpected(Error{Error::Code::kUnsupported,
                                   "BTF: the kernel has no '" + std::string(wanted[i].name) +
                                       "' (" + std::string(without) + ")",
                                   0,
                                   {}});
    }
  }
  return ids;
}

std::string field_offset(BtfTypes& types, std::uint32_t struct_id, std::string_view name,
                         std::uint64_t size, std::uint32_t* out) {
  auto m = types.member(struct_id, name);
  if (!m) return m.error().message;
  const std::uint64_t got = types.size_of(m->type);
  if (got != size) {
    return "BTF: '" + std::string(types.name(struct_id)) + "." + std::string(name) + "' has size " +
           std::to_string(got) + ", expected " + std::to_string(size);
  }
  *out = m->offset;
  return {};
}

std::expected<IterTaskFileLayout, Error> find_iter_task_file_layout(
    std::span<const std::uint8_t> btf) {
  auto types = BtfTypes::parse(btf);
  if (!types) return std::unexpected(types.error());
  static constexpr BtfTypes::Wanted kWanted[] = {
      {BTF_KIND_FUNC, "bpf_iter_task_file"},
      {BTF_KIND_STRUCT, "bpf_iter__task_file"},
      {BTF_KIND_STRUCT, "bpf_iter_meta"},
      {BTF_KIND_STRUCT, "task_struct"},
      {BTF_KIND_STRUCT, "file"},
      {BTF_KIND_STRUCT, "inode"},
      {BTF_KIND_STRUCT, "super_block"},
  };
  const auto ids = find_required(*types, kWanted, "no task_file BPF iterator");
  if (!ids) return std::unexpected(ids.error());
  IterTaskFileLayout l;
  l.attach_btf_id = (*ids)[0];
  static constexpr BtfField<IterTaskFileLayout> kFields[] = {
      {1, "meta", 8, &IterTaskFileLayout::ctx_meta},
      {1, "task", 8, &IterTaskFileLayout::ctx_task},
      {1, "fd", 4, &IterTaskFileLayout::ctx_fd},
      {1, "file", 8, &IterTaskFileLayout::ctx_file},
      {2, "seq", 8, &IterTaskFileLayout::meta_seq},
      {3, "pid", 4, &IterTaskFileLayout::task_pid},
      {3, "tgid", 4, &IterTaskFileLayout::task_tgid},
      {3, "comm", 16, &IterTaskFileLayout::task_comm},
      {4, "f_inode", 8, &IterTaskFileLayout::file_inode},
      {5, "i_mode", 2, &IterTaskFileLayout::inode_mode},
      {5, "i_ino", 8, &IterTaskFileLayout::inode_ino},
      {5, "i_sb", 8, &IterTaskFileLayout::inode_sb},
      {6, "s_magic", 8, &IterTaskFileLayout::sb_magic},
  };
  const std::string problem = fill_fields<IterTaskFileLayout>(*types, *ids, kFields, l);
  if (!problem.empty()) return std::unexpected(Error{Error::Code::kUnsupported, problem, 0, {}});
  // The context is read like a tracing program's arguments: one 8-byte slot each.
  for (std::uint32_t off : {l.ctx_meta, l.ctx_task, l.ctx_fd, l.ctx_file}) {
    if (off % 8 != 0) return std::unexpected(bad("bpf_iter__task_file field off its 8-byte slot"));
  }
  return l;
}

BtfFile::BtfFile(BtfFile&& o) noexcept
    : map_(o.map_), map_size_(o.map_size_), copy_(std::move(o.copy_)), bytes_(o.bytes_) {
  o.map_ = nullptr;
  o.bytes_ = {};
}

BtfFile::~BtfFile() {
  if (map_) ::munmap(map_, map_size_);
}

std::expected<BtfFile, Error> BtfFile::open(const char* path) {
  constexpr std::size_t kLimit = std::size_t{256} << 20;
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int e = errno;
    return std::unexpected(Error::os(path, e));
  }
  BtfFile f;
  struct stat st {};
  const std::size_t size = ::fstat(fd, &st) == 0 && st.st_size > 0 ? std::size_t(st.st_size) : 0;
  if (size > 0 && size <= kLimit) {
    void* m = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (m != MAP_FAILED) {
      ::close(fd);
      f.map_ = m;
      f.map_size_ = size;
      f.bytes_ = {static_cast<const std::uint8_t*>(m), size};
      return f;
    }
  }
  // Read: sysfs reports the blob's size, so the buffer is sized once.
  f.copy_.resize(std::min(size > 0 ? size : std::size_t{1} << 20, kLimit) + 1);
  std::size_t used = 0;
  for (long reads = 0; reads < (1L << 20); ++reads) {
    if (used == f.copy_.size()) {
      if (f.copy_.size() > kLimit) break;
      f.copy_.resize(std::min(f.copy_.size() * 2, kLimit + 1));
    }
    const ssize_t n = ::read(fd, f.copy_.data() + used, f.copy_.size() - used);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int e = errno;
      ::close(fd);
      return std::unexpected(Error::io(std::string(path) + ": " + std::strerror(e)));
    }
    if (n == 0) {
      ::close(fd);
      f.copy_.resize(used);
      f.bytes_ = f.copy_;
      return f;
    }
    used += std::size_t(n);
  }
  ::close(fd);
  return std::unexpected(Error::io(std::string(path) + ": larger than 256 MiB"));
}

}  // namespace sockscope::host_detail
