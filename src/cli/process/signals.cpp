#include "cli/process/signals.hpp"

#include <pthread.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <csignal>
#include <cstring>

#include "cli/process/exit_codes.hpp"

namespace fdiwn::cli {

namespace {

std::atomic<bool> g_stop{false};

// A fixed table the handler can walk without locks or allocation. A slot is
// Free, being Filled by a writer, or Ready (path complete, may be unlinked).
enum SlotState : int { kFree = 0, kFilling = 1, kReady = 2 };
constexpr size_t kSlots = 16;
constexpr size_t kPathMax = 4096;
struct Slot {
  std::atomic<int> state{kFree};
  char path[kPathMax];
};
std::array<Slot, kSlots> g_slots;

void on_signal(int sig) {
  if (g_stop.exchange(true)) {
    // Second signal: do not wait for anything. unlink and _exit are
    // async-signal-safe.
    for (auto& slot : g_slots) {
      if (slot.state.load() == kReady) ::unlink(slot.path);
    }
    ::_exit(kExitInterrupted);
  }
  (void)sig;
}

}  // namespace

void install_signal_handlers() {
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: blocking calls should notice
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
    // A signal ignored by whoever started us (nohup, a shell's background
    // job without job control) stays ignored.
    sigaddset(&stop_signals, sig);
    struct sigaction old;
    if (::sigaction(sig, nullptr, &old) == 0 && old.sa_handler == SIG_IGN) continue;
    ::sigaction(sig, &sa, nullptr);
  }
  // Writing to a closed pipe (--json | head) must be an error we report,
  // not a silent death by SIGPIPE.
  std::signal(SIGPIPE, SIG_IGN);
  // The launcher blocks these signals until now (launcher.cpp); one that
  // arrived meanwhile is delivered here, to the handler.
  ::pthread_sigmask(SIG_UNBLOCK, &stop_signals, nullptr);
}

bool stop_requested() {
  return g_stop.load();
}

void end_at_stop_signals() {
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
    struct sigaction old;
    if (::sigaction(sig, nullptr, &old) == 0 && old.sa_handler == on_signal) {
      std::signal(sig, SIG_DFL);
    }
  }
  // Checked after the defaults are back: a signal that came before went to
  // the handler and left the flag; one that comes after ends us by itself.
  if (g_stop.load()) ::_exit(kExitInterrupted);
}

void register_temp_file(const std::string& path) {
  if (path.size() >= kPathMax) return;
  for (auto& slot : g_slots) {
    int expected = kFree;
    if (slot.state.compare_exchange_strong(expected, kFilling)) {
      std::memcpy(slot.path, path.c_str(), path.size() + 1);
      slot.state.store(kReady);
      return;
    }
  }
}

void unregister_temp_file(const std::string& path) {
  for (auto& slot : g_slots) {
    if (slot.state.load() == kReady && path == slot.path) {
      slot.state.store(kFree);
      return;
    }
  }
}

}  // namespace fdiwn::cli
