// The filter compiled to inet_diag bytecode (net/ipv4/inet_diag.c runs it per
// socket): "jumping code" where every test's "yes" is the next instruction and
// "no" jumps forward to a label, so the kernel's audit (every instruction on
// the chain of "yes" steps, every "no" target on it) always holds. Landing
// exactly on the end accepts, four bytes past it rejects.
//
//   gen(n, F):     falls through when n is true, jumps to F when false
//   gen_neg(n, T): falls through when n is false, jumps to T when true
//
// A leaf is a conjunction of tests (a host with a zone is S_COND and DEV_COND),
// possibly negated: `dport != :80` is not D_COND, `<` is not GE, `>` is not LE,
// as in ss. Standard library and <linux/inet_diag.h> only (fuzzed).
#include <linux/inet_diag.h>
#include <sys/socket.h>

#include <cstring>
#include <string>

#include "host/socket_filter_ast.hpp"

namespace sockscope::filter_detail {
namespace {

constexpr int kAccept = -1;  // exactly the end
constexpr int kReject = -2;  // four bytes past the end

struct Insn {
  std::uint8_t code;
  int no;                             // a label, kAccept or kReject
  std::vector<std::uint8_t> operand;  // after the 4-byte op
};

struct Leaf {
  std::vector<Insn> tests;  // all must hold
  bool negated = false;
};

class Compiler {
 public:
  explicit Compiler(const Filter& f) : f_(f) {}

  std::optional<std::vector<std::uint8_t>> run(std::size_t max_bytes) {
    gen(f_.root, kReject);
    return finish(max_bytes);
  }

 private:
  int label() {
    labels_.push_back(-1);
    return int(labels_.size()) - 1;
  }
  void place(int l) { labels_[std::size_t(l)] = int(code_.size()); }
  void emit(Insn insn, int no) {
    insn.no = no;
    code_.push_back(std::move(insn));
  }
  void jump(int to) { emit(Insn{INET_DIAG_BC_JMP, 0, {}}, to); }

  static Insn port_test(std::uint8_t code, Port port) {
    inet_diag_bc_op operand{0, 0, port};
    std::vector<std::uint8_t> bytes(sizeof operand);
    std::memcpy(bytes.data(), &operand, sizeof operand);
    return Insn{code, 0, std::move(bytes)};
  }

  static Insn host_test(bool local, const HostCond& h) {
    inet_diag_hostcond cond{};
    std::size_t address_bytes = 0;
    if (h.address) {
      cond.family = h.address->is_v4() ? AF_INET : AF_INET6;
      cond.prefix_len = std::uint8_t(h.prefix_len);
      address_bytes = h.address->bytes().size();
    } else {
      cond.family = AF_UNSPEC;
    }
    cond.port = h.port ? int(*h.port) : -1;
    std::vector<std::uint8_t> bytes(sizeof cond + address_bytes);
    std::memcpy(bytes.data(), &cond, sizeof cond);
    if (address_bytes)
      std::memcpy(bytes.data() + sizeof cond, h.address->bytes().data(), address_bytes);
    return Insn{std::uint8_t(local ? INET_DIAG_BC_S_COND : INET_DIAG_BC_D_COND), 0,
                std::move(bytes)};
  }

  Leaf leaf(const Node& n) const {
    switch (n.kind) {
      case Kind::kTrue: return {};
      case Kind::kFalse: return {{}, true};
      case Kind::kAuto: return {{Insn{INET_DIAG_BC_AUTO, 0, {}}}};
      case Kind::kPort: {
        const std::uint8_t ge = n.local ? INET_DIAG_BC_S_GE : INET_DIAG_BC_D_GE;
        const std::uint8_t le = n.local ? INET_DIAG_BC_S_LE : INET_DIAG_BC_D_LE;
        switch (n.compare) {
          case Compare::kEq:
          case Compare::kNe: {
            HostCond any_address;
            any_address.port = n.port;
            return {{host_test(n.local, any_address)}, n.compare == Compare::kNe};
          }
          case Compare::kGe: return {{port_test(ge, n.port)}};
          case Compare::kLe: return {{port_test(le, n.port)}};
          case Compare::kLt: return {{port_test(ge, n.port)}, true};
          case Compare::kGt: return {{port_test(le, n.port)}, true};
        }
        return {};
      }
      case Kind::kHost: {
        Leaf out{{host_test(n.local, n.host)}};
        if (n.host.ifindex != 0) {
          std::vector<std::uint8_t> index(sizeof n.host.ifindex);
          std::memcpy(index.data(), &n.host.ifindex, sizeof n.host.ifindex);
          out.tests.push_back(Insn{INET_DIAG_BC_DEV_COND, 0, std::move(index)});
        }
        return out;
      }
      case Kind::kAnd:
      case Kind::kOr:
      case Kind::kNot: break;
    }
    return {};
  }

  // All tests hold: fall through; else jump to `no`.
  void all(const Leaf& l, int no) {
    for (const Insn& t : l.tests) emit(t, no);
  }
  // All tests hold: jump to `yes`; else fall through.
  void all_jump(const Leaf& l, int yes) {
    if (l.tests.empty()) return jump(yes);
    const int skip = label();
    all(l, skip);
    jump(yes);
    place(skip);
  }

  void gen(int index, int on_false) {
    const Node& n = f_.nodes[std::size_t(index)];
    switch (n.kind) {
      case Kind::kAnd:
        for (int c : n.children) gen(c, on_false);
        return;
      case Kind::kOr: {
        const int done = label();
        for (std::size_t i = 0; i + 1 < n.children.size(); ++i) gen_neg(n.children[i], done);
        gen(n.children.back(), on_false);
        place(done);
        return;
      }
      case Kind::kNot: return gen_neg(n.children[0], on_false);
      default: break;
    }
    const Leaf l = leaf(n);
    if (l.negated) return all_jump(l, on_false);
    all(l, on_false);
  }

  void gen_neg(int index, int on_true) {
    const Node& n = f_.nodes[std::size_t(index)];
    switch (n.kind) {
      case Kind::kAnd: {
        const int skip = label();
        for (int c : n.children) gen(c, skip);
        jump(on_true);
        place(skip);
        return;
      }
      case Kind::kOr:
        for (int c : n.children) gen_neg(c, on_true);
        return;
      case Kind::kNot: return gen(n.children[0], on_true);
      default: break;
    }
    const Leaf l = leaf(n);
    if (l.negated) return all(l, on_true);
    all_jump(l, on_true);
  }

  std::optional<std::vector<std::uint8_t>> finish(std::size_t max_bytes) const {
    std::vector<std::size_t> at(code_.size() + 1, 0);  // byte offset of each instruction
    for (std::size_t i = 0; i < code_.size(); ++i) at[i + 1] = at[i] + 4 + code_[i].operand.size();
    const std::size_t end = at.back();
    if (end > max_bytes || end > 0xffff) return std::nullopt;
    std::vector<std::uint8_t> out;
    out.reserve(end);
    for (std::size_t i = 0; i < code_.size(); ++i) {
      const Insn& insn = code_[i];
      const std::size_t target = insn.no == kAccept ? end
                                 : insn.no == kReject
                                     ? end + 4
                                     : at[std::size_t(labels_[std::size_t(insn.no)])];
      const std::size_t no = target - at[i];
      if (no > 0xffff) return std::nullopt;
      inet_diag_bc_op op{insn.code, std::uint8_t(4 + insn.operand.size()), std::uint16_t(no)};
      const auto* p = reinterpret_cast<const std::uint8_t*>(&op);
      out.insert(out.end(), p, p + sizeof op);
      out.insert(out.end(), insn.operand.begin(), insn.operand.end());
    }
    return out;
  }

  const Filter& f_;
  std::vector<Insn> code_;
  std::vector<int> labels_;  // label -> instruction index (code_.size() = the end)
};

}  // namespace

std::optional<std::vector<std::uint8_t>> compile(const Filter& impl, std::size_t max_bytes) {
  Compiler c(impl);
  return c.run(max_bytes);
}

}  // namespace sockscope::filter_detail
