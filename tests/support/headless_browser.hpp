// Headless Chromium driven over the DevTools protocol on a pipe
// (--remote-debugging-pipe: commands go to the browser's fd 3, answers and
// events come from its fd 4, each JSON message ended by a NUL), so a test can
// load a page, wait for what it expects to appear (a page that streams events
// never "finishes loading", which --dump-dom waits for), read the DOM and keep
// screenshots. Uncaught exceptions, console errors and the browser's error log
// (failed loads, refused by the Content-Security-Policy) are collected.
//
//   HeadlessBrowser browser({"ip", "netns", "exec", ns}, "/tmp/chromium.log");
//   if (!browser.why_not().empty()) fail(browser.why_not());
//   browser.open("http://127.0.0.1:9846/", 1280, 800);
//   browser.wait_until("document.querySelector('#x') !== null", 30);
//   browser.screenshot("page.png");
//   EXPECT_TRUE(browser.errors().empty());
//
// The browser and every process it starts are one process group, ended when the
// object goes (Browser.close, then SIGKILL to the group after a bounded wait).
#pragma once

#include <sys/types.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace sockscope::testing {

class HeadlessBrowser {
 public:
  // Whether `chromium` is on PATH.
  static bool installed();

  // Starts `prefix` + chromium (prefix: e.g. ip netns exec NS); its stderr goes
  // to `log_path`.
  HeadlessBrowser(const std::vector<std::string>& prefix, const std::string& log_path);
  ~HeadlessBrowser();
  HeadlessBrowser(const HeadlessBrowser&) = delete;
  HeadlessBrowser& operator=(const HeadlessBrowser&) = delete;

  // Empty when the browser runs; else why not.
  const std::string& why_not() const { return why_not_; }

  // Opens `url` in a new tab whose viewport is width x height (mobile: as a
  // phone, honouring the page's viewport meta); closes the tab open before.
  bool open(const std::string& url, int width, int height, bool mobile = false);
  // The value of a JavaScript expression in the tab (null when it threw or
  // did not answer in time; `error` says why).
  nlohmann::json evaluate(const std::string& expression, std::string* error = nullptr);
  // Evaluates `expression` every 200 ms until it is true, at most `seconds`.
  bool wait_until(const std::string& expression, double seconds);
  // A PNG of the viewport, or of the whole page (full_page).
  bool screenshot(const std::string& png_path, bool full_page = false);
  // Uncaught exceptions, console.error()s and error log entries so far.
  const std::vector<std::string>& errors() const { return errors_; }

 private:
  nlohmann::json call(const std::string& method, const nlohmann::json& params, bool in_tab = true,
                      double seconds = 30);
  bool read_message(nlohmann::json& message, double seconds);
  void note_event(const nlohmann::json& message);

  pid_t pid_ = -1;
  int to_browser_ = -1;
  int from_browser_ = -1;
  std::string pending_;  // bytes read, not yet a whole message
  int next_id_ = 1;
  std::string target_;
  std::string session_;
  std::string profile_dir_;
  std::string why_not_;
  std::vector<std::string> errors_;
};

}  // namespace sockscope::testing
