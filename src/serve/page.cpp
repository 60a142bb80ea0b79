#include "serve/page.hpp"

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "serve/page_assets.hpp"

namespace sockscope::serve {
namespace {

// Scripts, styles, images and fetches (/api/*, /events) from this server only:
// no inline script, nothing from another host, not framed by another site.
constexpr const char* kPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

struct Served {
  const PageAsset* asset;
  std::string etag;  // "FNV-1a 64 of the bytes", quoted as HTTP wants
};

std::string etag_of(std::string_view bytes) {
  std::uint64_t h = 0xcbf29ce484222325u;
  for (unsigned char c : bytes) h = (h ^ c) * 0x100000001b3u;
  char text[24];
  std::snprintf(text, sizeof text, "\"%016llx\"", static_cast<unsigned long long>(h));
  return text;
}

const std::vector<Served>& served() {
  static const std::vector<Served> all = [] {
    std::vector<Served> v;
    for (const PageAsset& a : page_assets()) v.push_back({&a, etag_of(a.bytes)});
    return v;
  }();
  return all;
}

const Served* find(std::string_view path) {
  for (const Served& s : served()) {
    if (s.asset->path == path) return &s;
  }
  return nullptr;
}

void answer(const httplib::Request& req, httplib::Response& res) {
  const Served* s = find(req.path);
  if (s == nullptr) {
    res.status = 404;  // the error handler says "no such path"
    return;
  }
  res.set_header("Content-Security-Policy", kPolicy);
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("Referrer-Policy", "no-referrer");
  res.set_header("Cache-Control", "no-cache");
  res.set_header("ETag", s->etag);
  const std::string match = req.get_header_value("If-None-Match");
  if (match == "*" || match.find(s->etag) != std::string::npos) {
    res.status = 304;
    return;
  }
  res.set_content(s->asset->bytes.data(), s->asset->bytes.size(),
                  std::string(page_content_type(s->asset->source)));
}

}  // namespace

std::string_view page_content_type(std::string_view path) {
  auto ends = [&](std::string_view ext) { return path.ends_with(ext); };
  if (ends(".html")) return "text/html; charset=utf-8";
  if (ends(".css")) return "text/css; charset=utf-8";
  if (ends(".js")) return "text/javascript; charset=utf-8";
  if (ends(".svg")) return "image/svg+xml";
  return "application/octet-stream";
}

void add_page_routes(httplib::Server& http) {
  http.Get("/", answer);
  http.Get(R"(/page/[^/]*)", answer);
}

}  // namespace sockscope::serve
