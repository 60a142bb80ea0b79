#include "sockscope/error.hpp"

#include <cerrno>
#include <cstring>

namespace sockscope {

std::string Error::what() const {
  std::string out;
  out.reserve(message.size() + fragment.size() + 24);
  out.append(message);
  if (column != 0) out.append(" at column ").append(std::to_string(column));
  if (!fragment.empty()) out.append(": '").append(fragment).append("'");
  return out;
}

Error Error::at(Code code, std::string message, std::size_t column,
                std::string_view fragment) {
  return Error{code, std::move(message), column, std::string(fragment)};
}

Error Error::io(std::string message) {
  return Error{Code::kIo, std::move(message), 0, {}};
}

Error Error::os(std::string what, int err) {
  return Error{err == EPERM || err == EACCES ? Code::kPermission : Code::kIo,
               std::move(what) + ": " + std::strerror(err), 0, {}};
}

}  // namespace sockscope
