// The live page's files (HTML, CSS, JavaScript), compiled into the server: the
// table is generated at build time by cmake/embed_files.cmake from the files
// src/serve/CMakeLists.txt lists, so the page needs nothing from elsewhere.
// Thread safety: constant data.
#pragma once

#include <span>
#include <string_view>

namespace sockscope::serve {

struct PageAsset {
  std::string_view path;    // the URL path it is served under ("/", "/page/page.js")
  std::string_view source;  // its file, relative to the source tree
  std::string_view bytes;   // the file's content, byte for byte
};

std::span<const PageAsset> page_assets();

}  // namespace sockscope::serve
