#include "support/background.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace sockscope::testing {
namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

Background::Background(const std::vector<std::string>& argv, bool stdin_pipe) {
  char tmpl[] = "/tmp/sockscope-bg-XXXXXX";
  if (!mkdtemp(tmpl)) return;
  dir_ = tmpl;
  int in[2] = {-1, -1};
  if (stdin_pipe && pipe2(in, O_CLOEXEC) != 0) return;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (stdin_pipe) {
    posix_spawn_file_actions_adddup2(&actions, in[0], 0);
  } else {
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  }
  posix_spawn_file_actions_addopen(&actions, 1, (dir_ + "/out").c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, 2, (dir_ + "/err").c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid;
  if (posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ) == 0) pid_ = pid;
  posix_spawn_file_actions_destroy(&actions);
  if (stdin_pipe) {
    close(in[0]);
    stdin_ = in[1];
  }
}

// SIGPIPE is held back while writing, so that a program gone early fails the write
// (EPIPE: false) instead of killing the test; a SIGPIPE it raised is taken back.
bool Background::write_stdin(const void* bytes, std::size_t size) {
  sigset_t pipe_signal, before;
  sigemptyset(&pipe_signal);
  sigaddset(&pipe_signal, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_signal, &before);
  const char* at = static_cast<const char*>(bytes);
  bool ok = true;
  while (ok && size > 0) {
    const ssize_t n = write(stdin_, at, size);
    ok = n > 0;
    if (ok) {
      at += n;
      size -= std::size_t(n);
    }
  }
  const timespec now{0, 0};
  if (!ok && errno == EPIPE) sigtimedwait(&pipe_signal, nullptr, &now);
  pthread_sigmask(SIG_SETMASK, &before, nullptr);
  return ok;
}

void Background::close_stdin() {
  if (stdin_ >= 0) close(stdin_);
  stdin_ = -1;
}

int Background::wait(double seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (running()) {
    if (std::chrono::steady_clock::now() >= deadline) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return exit_code_;
}

std::string Background::out() const { return slurp(dir_ + "/out"); }
std::string Background::err() const { return slurp(dir_ + "/err"); }

bool Background::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) == pid_) {
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    pid_ = -1;
    return false;
  }
  return true;
}

bool Background::wait_for_stderr(const std::string& text, double seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    if (err().find(text) != std::string::npos) return true;
    if (!running()) return err().find(text) != std::string::npos;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

int Background::stop() {
  if (running()) {
    kill(pid_, SIGTERM);
    for (int i = 0; i < 200 && running(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (running()) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
      pid_ = -1;
      exit_code_ = -1;
    }
  }
  return exit_code_;
}

Background::~Background() {
  close_stdin();
  stop();
  std::error_code ec;
  if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
}

}  // namespace sockscope::testing
