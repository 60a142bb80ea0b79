#include "sockscope/error.hpp"

#include <cerrno>
#include <cstring>

namespace sockscope {

std::string Error::what() const {
  std::string out;
  out.reserve(message.size() + fragment.size() + 24);
  out.append(message);
  if (column != 0) out.append(" at column ").append(std::to_string(column));
  if (!fragment.empty()) {
    // A long fragment (the rest of a 5,000-character input) is cut, at a
    // character boundary, so that the line stays readable.
    constexpr std::size_t kMaxFragment = 64;
    std::size_t cut = fragment.size();
    if (cut > kMaxFragment) {
      cut = kMaxFragment;
      while (cut > 0 && (static_cast<unsigned char>(fragment[cut]) & 0xc0) == 0x80) --cut;
    }
    out.append(": '").append(fragment, 0, cut).append(cut < fragment.size() ? "...'" : "'");
  }
  return out;
}

Error Error::at(Code code, std::string message, std::size_t column, std::string_view fragment) {
  return Error{code, std::move(message), column, std::string(fragment)};
}

Error Error::io(std::string message) { return Error{Code::kIo, std::move(message), 0, {}}; }

Error Error::os(std::string what, int err) {
  return Error{err == EPERM || err == EACCES ? Code::kPermission : Code::kIo,
               std::move(what) + ": " + std::strerror(err),
               0,
               {}};
}

}  // namespace sockscope
