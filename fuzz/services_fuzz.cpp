// services(5) loader (parser + local label index). Properties: it never
// crashes; every warning names a line of the input; every label it keeps is
// found again by port (as that port's first answer or after earlier labels)
// and by name.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "sockscope/registry.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::size_t line_count = std::size_t(std::count(text.begin(), text.end(), '\n')) + 1;
  sockscope::Registry reg;
  auto warnings = reg.load_services_text(text, "fuzz");
  for (const auto& w : warnings) {
    if (w.line == 0 || w.line > line_count || w.problem.empty()) std::abort();
  }
  for (std::size_t i = 0; i < reg.local_size() && i < 64; ++i) {
    const sockscope::Service& s = reg.local_service(i);
    if (s.name.empty() || s.ports.first > s.ports.last) std::abort();
    for (char c : s.name) {
      if (static_cast<unsigned char>(c) <= ' ' || c == '#' || c == 0x7f) std::abort();
    }
    auto at_port = reg.by_port(s.ports.first, s.transport);
    if (std::find(at_port.begin(), at_port.end(), &s) == at_port.end()) std::abort();
    if (!reg.primary(s.ports.first, s.transport)) std::abort();
    auto named = reg.by_name(s.name);
    if (std::find(named.begin(), named.end(), &s) == named.end()) std::abort();
  }
  return 0;
}
