// The live page as the server sends it: `/` is the HTML with a policy that
// forbids loading from other hosts, every embedded file is served byte for byte
// as its source file in the tree, 304 on a matching ETag, unknown files 404.
// The server runs in-process on a loopback port the kernel chooses.
#include "serve/page.hpp"

#include <gtest/gtest.h>
#include <httplib.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "serve/page_assets.hpp"
#include "serve/server.hpp"
#include "sockscope/registry.hpp"

namespace sockscope::serve {
namespace {

std::string source_file(std::string_view relative) {
  std::ifstream in(std::string(SOCKSCOPE_SOURCE_DIR) + "/" + std::string(relative),
                   std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

class PageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServeOptions options;
    options.listen = *Endpoint::parse("127.0.0.1:0");
    server_ = std::make_unique<Server>(options, naming_);
    ASSERT_TRUE(server_->bind());
    thread_ = std::thread([this] { server_->run(); });
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->bound().port);
    client_->set_connection_timeout(5);
    client_->set_read_timeout(30);
  }
  void TearDown() override {
    server_->stop();
    thread_.join();
  }

  Naming naming_{Registry::builtin()};
  std::unique_ptr<Server> server_;
  std::thread thread_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(PageTest, RootIsTheHtmlWithItsHeaders) {
  auto res = client_->Get("/");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(res->body, source_file("src/serve/page/index.html"));
  const std::string policy = res->get_header_value("Content-Security-Policy");
  EXPECT_NE(policy.find("default-src 'none'"), std::string::npos) << policy;
  EXPECT_NE(policy.find("script-src 'self'"), std::string::npos) << policy;
  EXPECT_NE(policy.find("connect-src 'self'"), std::string::npos) << policy;
  EXPECT_EQ(policy.find("unsafe"), std::string::npos) << policy;
  EXPECT_EQ(policy.find("http"), std::string::npos) << policy;  // no other host allowed
  EXPECT_EQ(res->get_header_value("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(res->get_header_value("Cache-Control"), "no-cache");

  // The same build answers a revalidation with 304 and no body; HEAD has no body.
  const std::string etag = res->get_header_value("ETag");
  ASSERT_EQ(etag.size(), 18u) << etag;
  auto again = client_->Get("/", {{"If-None-Match", etag}});
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 304);
  EXPECT_TRUE(again->body.empty());
  auto other = client_->Get("/", {{"If-None-Match", "\"0000000000000000\""}});
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 200);
  auto head = client_->Head("/");
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_TRUE(head->body.empty());
}

// Each embedded file, fetched, equals its file in the tree; the HTML loads
// exactly the embedded files, each from this server.
TEST_F(PageTest, EveryFileIsServedByteForByte) {
  std::set<std::string> embedded;
  for (const PageAsset& asset : page_assets()) {
    SCOPED_TRACE(std::string(asset.path));
    const std::string expected = source_file(asset.source);
    ASSERT_FALSE(expected.empty()) << asset.source;
    auto res = client_->Get(std::string(asset.path));
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(res->body.size(), expected.size());
    EXPECT_TRUE(res->body == expected);
    EXPECT_EQ(res->get_header_value("Content-Type"), page_content_type(asset.source));
    EXPECT_FALSE(res->get_header_value("Content-Security-Policy").empty());
    EXPECT_FALSE(res->get_header_value("ETag").empty());
    if (asset.path != "/") embedded.insert(std::string(asset.path));
  }
  const std::string html = source_file("src/serve/page/index.html");
  std::set<std::string> loaded;
  const std::regex reference(R"re((?:src|href)="([^"]*)")re");
  for (auto it = std::sregex_iterator(html.begin(), html.end(), reference);
       it != std::sregex_iterator(); ++it) {
    const std::string target = (*it)[1];
    if (target.rfind("/page/", 0) == 0) {
      loaded.insert(target);
    } else {  // the links of the no-script note: this server's own paths
      EXPECT_TRUE(target.rfind("/api/", 0) == 0 || target == "/metrics") << target;
    }
  }
  EXPECT_EQ(loaded, embedded);
  EXPECT_GE(embedded.size(), 9u);  // CSS, icon, 3 own scripts, d3-force and its 3
}

TEST_F(PageTest, UnknownFilesAre404AndServingGoesOn) {
  for (const char* path : {"/page/nosuch.js", "/page/", "/page/page.js/x", "/index.html",
                           "/page/..%2Fpage.css", "/page/PAGE.JS"}) {
    auto res = client_->Get(path);
    ASSERT_TRUE(res) << path;
    EXPECT_EQ(res->status, 404) << path;
    EXPECT_NE(res->body.find("no such path"), std::string::npos) << path << ": " << res->body;
    EXPECT_TRUE(res->get_header_value("Content-Security-Policy").empty()) << path;
  }
  auto res = client_->Get("/page/page.css");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
}

TEST(PageContentType, ByExtension) {
  EXPECT_EQ(page_content_type("a/index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(page_content_type("page.css"), "text/css; charset=utf-8");
  EXPECT_EQ(page_content_type("d3-force.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(page_content_type("icon.svg"), "image/svg+xml");
  EXPECT_EQ(page_content_type("LICENSE"), "application/octet-stream");
}

}  // namespace
}  // namespace sockscope::serve
