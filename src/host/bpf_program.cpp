// The shared parts of the host layer's BPF programs; see bpf_program.hpp.
#include "host/bpf_program.hpp"

#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>

namespace sockscope::host_detail::bpf {
namespace {

// The license the kernel checks: bpf_seq_write and the tracing helpers are
// GPL-only, so the programs must declare a GPL-compatible license. The project
// has no LICENSE file yet; "Dual MIT/GPL" is GPL-compatible for the kernel and
// keeps these instructions usable under a permissive license should it pick one.
constexpr char kLicense[] = "Dual MIT/GPL";

// The verifier's verdict: the last line of its log before the statistics
// ("processed N insns ..."), and the instruction it stopped at when the line
// before names one ("18: (61) r2 = *(u32 *)(r6 +12)").
std::string log_tail(const std::vector<char>& log) {
  std::vector<std::string_view> lines;
  const std::string_view text(log.data(), ::strnlen(log.data(), log.size()));
  for (std::size_t start = 0; start < text.size();) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    if (end > start) lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  while (!lines.empty() && (lines.back().starts_with("processed ") ||
                            lines.back().starts_with("verification time"))) {
    lines.pop_back();
  }
  if (lines.empty()) return {};
  std::string tail(lines.back());
  if (lines.size() >= 2 && !lines[lines.size() - 2].empty() && lines[lines.size() - 2][0] >= '0' &&
      lines[lines.size() - 2][0] <= '9') {
    tail += " (at " + std::string(lines[lines.size() - 2]) + ")";
  }
  return tail;
}

}  // namespace

long sys_bpf(int cmd, bpf_attr* attr) { return ::syscall(__NR_bpf, cmd, attr, sizeof *attr); }

bool may_load_tracing_programs() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (::syscall(SYS_capget, &header, data) != 0) return true;  // let bpf() decide
  auto has = [&](int cap) { return (data[cap / 32].effective >> (cap % 32)) & 1; };
  return has(CAP_SYS_ADMIN) || (has(CAP_BPF) && has(CAP_PERFMON));
}

bool in_initial_pid_namespace() {
  char link[64];
  const ssize_t n = ::readlink("/proc/self/ns/pid", link, sizeof link - 1);
  if (n <= 0) return false;
  return std::string_view(link, std::size_t(n)) == "pid:[4026531836]";
}

std::expected<int, Error> load_tracing_program(const std::vector<bpf_insn>& program,
                                               bpf_attach_type attach_type,
                                               std::uint32_t attach_btf_id, const char* name,
                                               const char* what) {
  auto prog_load = [&](std::vector<char>* log) {
    bpf_attr a{};
    a.prog_type = BPF_PROG_TYPE_TRACING;
    a.expected_attach_type = attach_type;
    a.attach_btf_id = attach_btf_id;  // in vmlinux (attach_btf_obj_fd 0)
    a.insns = ptr(program.data());
    a.insn_cnt = std::uint32_t(program.size());
    a.license = ptr(kLicense);
    std::strncpy(a.prog_name, name, sizeof a.prog_name - 1);
    if (log) {
      a.log_level = 1;
      a.log_buf = ptr(log->data());
      a.log_size = std::uint32_t(log->size());
    }
    return int(sys_bpf(BPF_PROG_LOAD, &a));
  };
  const int prog = prog_load(nullptr);
  if (prog >= 0) return prog;
  const int e = errno;
  // Load again with the verifier's log only to explain the failure (a log costs time).
  std::vector<char> log(64 * 1024, '\0');
  const int again = prog_load(&log);
  if (again >= 0) ::close(again);
  const std::string tail = log_tail(log);
  if (e == EPERM || tail.empty()) return std::unexpected(Error::os("bpf(BPF_PROG_LOAD)", e));
  return std::unexpected(
      Error{Error::Code::kUnsupported,
            std::string("the kernel's verifier rejected the ") + what + " program: " + tail,
            0,
            {}});
}

}  // namespace sockscope::host_detail::bpf
