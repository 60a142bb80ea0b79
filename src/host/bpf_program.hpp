// What the host layer's hand-assembled BPF programs share (the task_file
// iterator, bpf_iter.cpp; the state tracer, state_tracer.cpp): instruction
// encodings, the bpf() call, the rights check and loading a tracing program
// with the verifier's verdict as the error. Internal to the host layer.
//
// Why hand-assembled rather than libbpf and a clang-built object: the two
// programs are 34 and ~90 instructions whose only relocations are a dozen field
// offsets, which btf.hpp's reader finds in ~5 ms without libbpf's 15-33 ms and
// 13 MB vmlinux load, and the build needs neither clang's BPF target nor
// bpftool, nor the package libbpf, libelf and zlib.
#pragma once

#include <linux/bpf.h>

#include <cstdint>
#include <expected>
#include <string>
#include <vector>

#include "sockscope/error.hpp"

namespace sockscope::host_detail::bpf {

constexpr std::uint8_t kR0 = 0, kR1 = 1, kR2 = 2, kR3 = 3, kR4 = 4, kR5 = 5, kR6 = 6, kR7 = 7,
                       kR8 = 8, kR9 = 9, kFp = 10;  // r10: the read-only frame pointer

inline bpf_insn insn(std::uint8_t code, std::uint8_t dst, std::uint8_t src, std::int16_t off,
                     std::int32_t imm) {
  bpf_insn i{};
  i.code = code;
  i.dst_reg = dst & 0xf;
  i.src_reg = src & 0xf;
  i.off = off;
  i.imm = imm;
  return i;
}
inline bpf_insn mov_reg(std::uint8_t dst, std::uint8_t src) {  // dst = src
  return insn(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0);
}
inline bpf_insn mov_imm(std::uint8_t dst, std::int32_t imm) {  // dst = imm
  return insn(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm);
}
inline bpf_insn add_imm(std::uint8_t dst, std::int32_t imm) {  // dst += imm
  return insn(BPF_ALU64 | BPF_ADD | BPF_K, dst, 0, 0, imm);
}
inline bpf_insn and_imm(std::uint8_t dst, std::int32_t imm) {  // dst &= imm
  return insn(BPF_ALU64 | BPF_AND | BPF_K, dst, 0, 0, imm);
}
inline bpf_insn rsh_imm(std::uint8_t dst, std::int32_t imm) {  // dst >>= imm
  return insn(BPF_ALU64 | BPF_RSH | BPF_K, dst, 0, 0, imm);
}
// dst = *(size *)(src + off); size is BPF_B/H/W/DW
inline bpf_insn load(std::uint8_t size, std::uint8_t dst, std::uint8_t src, std::int16_t off) {
  return insn(BPF_LDX | size | BPF_MEM, dst, src, off, 0);
}
// *(size *)(dst + off) = src
inline bpf_insn store(std::uint8_t size, std::uint8_t dst, std::int16_t off, std::uint8_t src) {
  return insn(BPF_STX | size | BPF_MEM, dst, src, off, 0);
}
// *(size *)(dst + off) = imm
inline bpf_insn store_imm(std::uint8_t size, std::uint8_t dst, std::int16_t off, std::int32_t imm) {
  return insn(BPF_ST | size | BPF_MEM, dst, 0, off, imm);
}
// Conditional jumps; their target is patched in later.
inline bpf_insn jump_if_imm(std::uint8_t op, std::uint8_t dst, std::int32_t imm) {
  return insn(BPF_JMP | op | BPF_K, dst, 0, 0, imm);
}
inline bpf_insn jump_if_reg(std::uint8_t op, std::uint8_t dst, std::uint8_t src) {
  return insn(BPF_JMP | op | BPF_X, dst, src, 0, 0);
}
inline bpf_insn jump(std::int16_t off) { return insn(BPF_JMP | BPF_JA, 0, 0, off, 0); }
inline bpf_insn call(std::int32_t helper) { return insn(BPF_JMP | BPF_CALL, 0, 0, 0, helper); }
inline bpf_insn exit_insn() { return insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0); }

long sys_bpf(int cmd, bpf_attr* attr);
inline std::uint64_t ptr(const void* p) { return reinterpret_cast<std::uintptr_t>(p); }

// CAP_SYS_ADMIN, or CAP_BPF and CAP_PERFMON: what tracing programs need
// (checked first so that an unprivileged run does not read the BTF for nothing).
bool may_load_tracing_programs();
// Only in the initial PID namespace are the kernel's tgids the pids /proc shows.
bool in_initial_pid_namespace();

// BPF_PROG_LOAD of a tracing program named `name`; on failure the verifier's
// last words (a second load with its log) are the error, which calls it the
// `what` program. The program's fd.
std::expected<int, Error> load_tracing_program(const std::vector<bpf_insn>& program,
                                               bpf_attach_type attach_type,
                                               std::uint32_t attach_btf_id, const char* name,
                                               const char* what);

}  // namespace sockscope::host_detail::bpf
