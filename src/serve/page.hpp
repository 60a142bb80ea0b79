// `/`, the live page, and the files it loads under /page/, from the table of
// page_assets.hpp. Every answer carries a Content-Security-Policy that lets the
// page load and fetch only from this server, and an ETag (the content's hash):
// browsers revalidate (Cache-Control: no-cache) and get 304 while it is the same
// build. An unknown /page/ path is 404.
// Thread safety: the handlers only read constant data.
#pragma once

#include <httplib.h>

#include <string_view>

namespace sockscope::serve {

// The Content-Type for a page file, by its name's extension.
std::string_view page_content_type(std::string_view path);

// Registers GET (and so HEAD) / and /page/NAME on `http`.
void add_page_routes(httplib::Server& http);

}  // namespace sockscope::serve
