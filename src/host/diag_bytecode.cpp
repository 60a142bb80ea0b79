// The inet_diag filter programs: a small assembler with forward labels, and
// the decision trees of the balanced split. See diag_bytecode.hpp.
#include "host/diag_bytecode.hpp"

#include <cstring>

namespace sockscope::host_detail {
namespace {

// Instructions in order; every "yes" goes to the next one, "no" to a label.
class Assembler {
 public:
  static constexpr int kAccept = -1;  // exactly the end
  static constexpr int kReject = -2;  // four bytes past the end

  int label() {
    labels_.push_back(-1);
    return int(labels_.size()) - 1;
  }
  void place(int label) { labels_[std::size_t(label)] = int(ops_.size()); }

  // A port comparison (two 4-byte units: the port sits in the second one's `no`).
  void compare(std::uint8_t code, std::uint16_t port, int no) { ops_.push_back({code, no, port}); }
  // A test with no operand (INET_DIAG_BC_AUTO), or INET_DIAG_BC_JMP: always "no".
  void test(std::uint8_t code, int no) { ops_.push_back({code, no, -1}); }

  std::vector<inet_diag_bc_op> finish() const {
    std::vector<int> unit(ops_.size() + 1);  // each instruction's offset in 4-byte units
    for (std::size_t i = 0; i < ops_.size(); ++i)
      unit[i + 1] = unit[i] + (ops_[i].port < 0 ? 1 : 2);
    const int end = unit.back();
    auto at = [&](int target) {
      if (target == kAccept) return end;
      if (target == kReject) return end + 1;
      return unit[std::size_t(labels_[std::size_t(target)])];
    };
    std::vector<inet_diag_bc_op> out;
    out.reserve(std::size_t(end));
    for (std::size_t i = 0; i < ops_.size(); ++i) {
      const Op& op = ops_[i];
      out.push_back({op.code, std::uint8_t((unit[i + 1] - unit[i]) * 4),
                     std::uint16_t((at(op.no) - unit[i]) * 4)});
      if (op.port >= 0) out.push_back({0, 0, std::uint16_t(op.port)});
    }
    return out;
  }

 private:
  struct Op {
    std::uint8_t code;
    int no;    // a label, kAccept or kReject
    int port;  // -1: no operand
  };
  std::vector<Op> ops_;
  std::vector<int> labels_;  // label -> instruction index
};

constexpr int kStripeBits = 10;                 // 1,024 ports a stripe
constexpr int kStripes = 65536 >> kStripeBits;  // 64: a tree 6 tests deep

// Jumps to `odd` or `even` by bit 10 of the local (source) or remote port,
// testing stripes [lo, hi): "port >= middle" goes on ("yes"), below jumps.
void stripe_tree(Assembler& a, bool local, int lo, int hi, int even, int odd) {
  auto exit_of = [&](int stripe) { return (stripe & 1) ? odd : even; };
  if (hi - lo == 1) {
    a.test(INET_DIAG_BC_JMP, exit_of(lo));
    return;
  }
  const int mid = (lo + hi) / 2;
  const int below = mid - lo == 1 ? exit_of(lo) : a.label();
  a.compare(local ? INET_DIAG_BC_S_GE : INET_DIAG_BC_D_GE, std::uint16_t(mid << kStripeBits),
            below);
  stripe_tree(a, local, mid, hi, even, odd);
  if (mid - lo > 1) {
    a.place(below);
    stripe_tree(a, local, lo, mid, even, odd);
  }
}

}  // namespace

std::vector<inet_diag_bc_op> diag_program(DumpPart part) {
  Assembler a;
  switch (part) {
    case DumpPart::kAll: return {};
    case DumpPart::kAuto: a.test(INET_DIAG_BC_AUTO, Assembler::kReject); return a.finish();
    case DumpPart::kNotAuto:
      a.test(INET_DIAG_BC_AUTO, Assembler::kAccept);
      a.test(INET_DIAG_BC_JMP, Assembler::kReject);
      return a.finish();
    case DumpPart::kSame:
    case DumpPart::kDiffer: break;
  }
  // Local stripe bit, then the remote one: the two remote trees differ only in
  // which exit they take, so the parity is known at their exits.
  const int local_even = a.label(), local_odd = a.label();
  const int parity_0 = a.label(), parity_1 = a.label();
  stripe_tree(a, true, 0, kStripes, local_even, local_odd);
  a.place(local_even);
  stripe_tree(a, false, 0, kStripes, parity_0, parity_1);
  a.place(local_odd);
  stripe_tree(a, false, 0, kStripes, parity_1, parity_0);
  // Accept when (parity == autobound) is what this half wants.
  const bool same = part == DumpPart::kSame;
  const int equal = same ? Assembler::kAccept : Assembler::kReject;
  const int unequal = same ? Assembler::kReject : Assembler::kAccept;
  a.place(parity_1);  // autobound: equal; bound: unequal
  a.test(INET_DIAG_BC_AUTO, unequal);
  a.test(INET_DIAG_BC_JMP, equal);
  a.place(parity_0);  // autobound: unequal; bound: equal
  a.test(INET_DIAG_BC_AUTO, equal);
  a.test(INET_DIAG_BC_JMP, unequal);
  return a.finish();
}

std::optional<std::vector<std::uint8_t>> compose(std::span<const std::uint8_t> user,
                                                 std::span<const inet_diag_bc_op> tail) {
  const std::size_t tail_bytes = tail.size() * sizeof(inet_diag_bc_op);
  std::vector<std::uint8_t> out(user.begin(), user.end());
  out.resize(user.size() + tail_bytes);
  if (tail_bytes) std::memcpy(out.data() + user.size(), tail.data(), tail_bytes);
  if (tail_bytes == 0) return out;
  // Walk the user's instructions along their "yes" steps, as the kernel's audit does.
  std::size_t at = 0;
  while (at < user.size()) {
    if (user.size() - at < sizeof(inet_diag_bc_op)) return std::nullopt;
    inet_diag_bc_op op;
    std::memcpy(&op, out.data() + at, sizeof op);
    if (op.yes < sizeof op) return std::nullopt;
    if (op.code != INET_DIAG_BC_NOP && at + op.no == user.size() + 4) {
      const std::size_t moved = std::size_t(op.no) + tail_bytes;
      if (moved > 0xffff) return std::nullopt;
      op.no = std::uint16_t(moved);
      std::memcpy(out.data() + at, &op, sizeof op);
    }
    at += op.yes;
  }
  if (at != user.size()) return std::nullopt;
  return out;
}

}  // namespace sockscope::host_detail
