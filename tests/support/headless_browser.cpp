#include "support/headless_browser.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

extern char** environ;

namespace sockscope::testing {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

std::string base64_decode(const std::string& text) {
  std::string out;
  unsigned value = 0;
  int bits = 0;
  for (char c : text) {
    int digit;
    if (c >= 'A' && c <= 'Z')
      digit = c - 'A';
    else if (c >= 'a' && c <= 'z')
      digit = c - 'a' + 26;
    else if (c >= '0' && c <= '9')
      digit = c - '0' + 52;
    else if (c == '+')
      digit = 62;
    else if (c == '/')
      digit = 63;
    else
      continue;  // '=' padding
    value = (value << 6) | unsigned(digit);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(char((value >> bits) & 0xff));
    }
  }
  return out;
}

}  // namespace

bool HeadlessBrowser::installed() {
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/bin:/bin";
  std::size_t from = 0;
  while (from <= dirs.size()) {
    std::size_t to = dirs.find(':', from);
    if (to == std::string::npos) to = dirs.size();
    if (access((dirs.substr(from, to - from) + "/chromium").c_str(), X_OK) == 0) return true;
    from = to + 1;
  }
  return false;
}

HeadlessBrowser::HeadlessBrowser(const std::vector<std::string>& prefix,
                                 const std::string& log_path) {
  char tmpl[] = "/tmp/sockscope-chromium-XXXXXX";
  if (!mkdtemp(tmpl)) {
    why_not_ = "cannot make a profile folder";
    return;
  }
  profile_dir_ = tmpl;
  int commands[2], answers[2];
  if (pipe2(commands, O_CLOEXEC) != 0 || pipe2(answers, O_CLOEXEC) != 0) {
    why_not_ = "pipe failed";
    return;
  }
  std::vector<std::string> argv = prefix;
  for (const char* a :
       {"chromium", "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe",
        "--no-first-run", "--no-default-browser-check", "--disable-extensions",
        "--disable-background-networking", "--disable-sync", "--disable-component-update",
        "--mute-audio", "--hide-scrollbars", "--disable-dev-shm-usage"}) {
    argv.emplace_back(a);
  }
  argv.push_back("--user-data-dir=" + profile_dir_);
  argv.emplace_back("about:blank");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  posix_spawn_file_actions_adddup2(&actions, commands[0], 3);
  posix_spawn_file_actions_adddup2(&actions, answers[1], 4);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);  // its own group: ended as one
  posix_spawnattr_setpgroup(&attr, 0);
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  pid_t pid;
  if (posix_spawnp(&pid, args[0], &actions, &attr, args.data(), environ) == 0) pid_ = pid;
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  close(commands[0]);
  close(answers[1]);
  to_browser_ = commands[1];
  from_browser_ = answers[0];
  if (pid_ <= 0) {
    why_not_ = "cannot start " + argv[0];
    return;
  }
  json version = call("Browser.getVersion", json::object(), false, 60);
  if (!version.contains("product")) why_not_ = "chromium did not answer on its pipe";
}

HeadlessBrowser::~HeadlessBrowser() {
  if (pid_ > 0) {
    const std::string close_message = json{{"id", next_id_++}, {"method", "Browser.close"}}.dump();
    (void)!write(to_browser_, close_message.c_str(), close_message.size() + 1);
    // Waits (10 s at most) without reaping: until reaped, the browser's pid
    // and so its process group's id cannot be taken by another process.
    for (int i = 0; i < 100; ++i) {
      siginfo_t info{};
      if (waitid(P_PID, id_t(pid_), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
          info.si_pid == pid_) {
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    kill(-pid_, SIGKILL);  // what is left of its group (renderers, zygote)
    int status = 0;
    waitpid(pid_, &status, 0);
  }
  if (to_browser_ >= 0) close(to_browser_);
  if (from_browser_ >= 0) close(from_browser_);
  if (!profile_dir_.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(profile_dir_, ignored);
  }
}

bool HeadlessBrowser::read_message(json& message, double seconds) {
  const auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
  for (;;) {
    const std::size_t end = pending_.find('\0');
    if (end != std::string::npos) {
      message = json::parse(pending_.substr(0, end), nullptr, false);
      pending_.erase(0, end + 1);
      return !message.is_discarded();
    }
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    pollfd p{from_browser_, POLLIN, 0};
    if (poll(&p, 1, int(left)) <= 0) return false;
    char buf[65536];
    const ssize_t n = read(from_browser_, buf, sizeof buf);
    if (n <= 0) return false;
    pending_.append(buf, std::size_t(n));
  }
}

void HeadlessBrowser::note_event(const json& m) {
  const std::string method = m.value("method", "");
  const json& p = m.contains("params") ? m["params"] : json::object();
  if (method == "Runtime.exceptionThrown") {
    const json& d = p["exceptionDetails"];
    std::string text = d.value("text", "exception");
    if (d.contains("exception") && d["exception"].contains("description")) {
      text += " " + d["exception"]["description"].get<std::string>();
    }
    errors_.push_back(text);
  } else if (method == "Runtime.consoleAPICalled" &&
             (p.value("type", "") == "error" || p.value("type", "") == "assert")) {
    std::string text = "console." + p.value("type", "") + ":";
    for (const auto& arg : p["args"]) {
      text += " " + (arg.contains("value") ? arg["value"].dump() : arg.value("description", ""));
    }
    errors_.push_back(text);
  } else if (method == "Log.entryAdded" && p["entry"].value("level", "") == "error") {
    errors_.push_back(p["entry"].value("text", "") + " " + p["entry"].value("url", ""));
  } else if (method == "Inspector.targetCrashed" || method == "Target.targetCrashed") {
    errors_.push_back("the page crashed");
  }
}

json HeadlessBrowser::call(const std::string& method, const json& params, bool in_tab,
                           double seconds) {
  if (pid_ <= 0) return json();
  const int id = next_id_++;
  json request{{"id", id}, {"method", method}, {"params", params}};
  if (in_tab) request["sessionId"] = session_;
  const std::string text = request.dump();
  if (write(to_browser_, text.c_str(), text.size() + 1) != ssize_t(text.size() + 1)) {
    return json();
  }
  const auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
  json message;
  while (Clock::now() < deadline) {
    const double left = std::chrono::duration<double>(deadline - Clock::now()).count();
    if (!read_message(message, left)) return json();
    if (message.value("id", -1) == id) {
      if (message.contains("error")) return json{{"error", message["error"]}};
      return message.value("result", json::object());
    }
    note_event(message);
  }
  return json();
}

bool HeadlessBrowser::open(const std::string& url, int width, int height, bool mobile) {
  if (!target_.empty()) call("Target.closeTarget", {{"targetId", target_}}, false);
  json created = call("Target.createTarget", {{"url", "about:blank"}}, false);
  if (!created.contains("targetId")) return false;
  target_ = created["targetId"];
  json attached = call("Target.attachToTarget", {{"targetId", target_}, {"flatten", true}}, false);
  if (!attached.contains("sessionId")) return false;
  session_ = attached["sessionId"];
  for (const char* domain : {"Runtime.enable", "Log.enable", "Page.enable"}) {
    call(domain, json::object());
  }
  call("Emulation.setDeviceMetricsOverride",
       {{"width", width}, {"height", height}, {"deviceScaleFactor", 1}, {"mobile", mobile}});
  json navigated = call("Page.navigate", {{"url", url}});
  return navigated.contains("frameId") && !navigated.contains("errorText");
}

json HeadlessBrowser::evaluate(const std::string& expression, std::string* error) {
  json r = call("Runtime.evaluate", {{"expression", expression}, {"returnByValue", true}});
  if (r.contains("exceptionDetails") || !r.contains("result")) {
    if (error) *error = r.dump();
    return json();
  }
  return r["result"].value("value", json());
}

bool HeadlessBrowser::wait_until(const std::string& expression, double seconds) {
  const auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
  for (int i = 0; i < 100000 && Clock::now() < deadline; ++i) {
    if (evaluate(expression) == json(true)) return true;
    // Reading the pipe meanwhile keeps the browser's events (and errors) coming.
    json message;
    if (read_message(message, 0.2)) note_event(message);
  }
  return false;
}

bool HeadlessBrowser::screenshot(const std::string& png_path, bool full_page) {
  json params{{"format", "png"}};
  if (full_page) {
    json metrics = call("Page.getLayoutMetrics", json::object());
    if (!metrics.contains("cssContentSize")) return false;
    const json& size = metrics["cssContentSize"];
    params["captureBeyondViewport"] = true;
    params["clip"] = {
        {"x", 0}, {"y", 0}, {"width", size["width"]}, {"height", size["height"]}, {"scale", 1}};
  }
  json shot = call("Page.captureScreenshot", params, true, 60);
  if (!shot.contains("data")) return false;
  std::ofstream(png_path, std::ios::binary) << base64_decode(shot["data"].get<std::string>());
  return true;
}

}  // namespace sockscope::testing
