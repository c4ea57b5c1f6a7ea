// tools/recsys/main.cpp — the `recsys` command: generate and clean data, train, evaluate, recommend, compare runs, serve a run over HTTP.
#include <signal.h>

#include <cstdio>
#include <exception>
#include <new>
#include <string>
#include <vector>

#include "recsys/core/allocator.hpp"
#include "recsys/core/interrupt.hpp"

#include "args.hpp"
#include "cmd_clean.hpp"
#include "cmd_compare.hpp"
#include "cmd_evaluate.hpp"
#include "cmd_generate.hpp"
#include "cmd_recommend.hpp"
#include "cmd_serve.hpp"
#include "cmd_train.hpp"
#include "stage.hpp"

namespace {

using recsys::cli::Args;
using recsys::cli::CommandSpec;

struct Command {
  const CommandSpec& spec;
  int (*run)(const Args&);
};

const std::vector<Command>& commands() {
  static const std::vector<Command> list{{recsys::cli::generate_spec(), recsys::cli::run_generate},
                                         {recsys::cli::clean_spec(), recsys::cli::run_clean},
                                         {recsys::cli::train_spec(), recsys::cli::run_train},
                                         {recsys::cli::evaluate_spec(), recsys::cli::run_evaluate},
                                         {recsys::cli::recommend_spec(), recsys::cli::run_recommend},
                                         {recsys::cli::serve_spec(), recsys::cli::run_serve},
                                         {recsys::cli::compare_spec(), recsys::cli::run_compare}};
  return list;
}

std::string command_names() {
  std::string s;
  for (const Command& c : commands()) s += (s.empty() ? "" : ", ") + c.spec.name;
  return s;
}

/// The project's version (CMakeLists.txt's project(VERSION); a process test keeps them equal).
constexpr const char* kRecsysVersion = "0.1.0";

void print_overview() {
  std::printf("usage: recsys COMMAND [options]    (recsys help COMMAND, or recsys COMMAND --help, for its options)\n\n"
              "From raw CSV to a trained model, an honest evaluation and top-N recommendations.\n\ncommands:\n");
  for (const Command& c : commands()) std::printf("  %-10s %s\n", c.spec.name.c_str(), c.spec.summary.c_str());
  std::printf("\na typical session:\n"
              "  recsys generate --out data\n"
              "  recsys clean --data data\n"
              "  recsys train --model sequence --users data/user_data.csv --items data/item_data.csv --out runs/ranker\n"
              "  recsys train --model popularity --users data/user_data.csv --items data/item_data.csv --out runs/pop\n"
              "  recsys recommend runs/ranker --user 42 -n 10\n"
              "  recsys compare runs/pop runs/ranker\n");
}

/// Errors are one line on stderr: a message with a line break would read as two problems.
void print_error(const std::string& who, std::string message, const std::string& hint = "") {
  for (char& c : message)
    if (c == '\n' || c == '\r') c = ' ';
  std::fprintf(stderr, "%s: %s%s\n", who.c_str(), message.c_str(), hint.c_str());
}

const char* signal_name(int sig) { return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "a signal"; }

/// The exit status of a process stopped by `sig`, as a shell reports one killed by it (130, 143).
int signal_status(int sig) { return sig > 0 ? 128 + sig : 130; }

extern "C" void on_stop_signal(int sig) { recsys::request_interrupt(sig); }

/// SIGINT and SIGTERM ask training to stop at its next step (the loops check recsys::interrupted()), so
/// the run folder being written is dropped and the previous one stays. SA_RESETHAND: a second signal
/// kills at once, for a user who does not want to wait for the step to end.
void stop_training_on_signals() {
  struct sigaction sa{};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESETHAND;
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> words(argv + 1, argv + argc);
  if (words.empty()) {
    print_error("recsys", "missing command (one of " + command_names() + ")", "; see recsys --help");
    return 2;
  }
  if (words[0] == "--version" || words[0] == "-V") {
    std::printf("recsys %s\n", kRecsysVersion);
    return 0;
  }
  if (words[0] == "help" && words.size() > 1) {  // recsys help COMMAND: that command's --help
    for (const Command& c : commands())
      if (c.spec.name == words[1]) {
        std::printf("%s", recsys::cli::help_text(c.spec).c_str());
        return 0;
      }
    print_error("recsys help", "unknown command '" + words[1] + "' (one of " + command_names() + ")");
    return 2;
  }
  if (words[0] == "--help" || words[0] == "-h" || words[0] == "help") {
    print_overview();
    return 0;
  }
  for (const Command& c : commands()) {
    if (c.spec.name != words[0]) continue;
    const std::string who = "recsys " + c.spec.name;
    const std::vector<std::string> rest(words.begin() + 1, words.end());
    if (recsys::cli::wants_help(rest)) {
      std::printf("%s", recsys::cli::help_text(c.spec).c_str());
      return 0;
    }
    try {
      recsys::cli::Args args = recsys::cli::parse(c.spec, rest);
      std::string line = "recsys";
      for (const std::string& w : words) line += " " + w;
      args.set_command_line(line);
      if (c.spec.name == "train") stop_training_on_signals();
      recsys::cli::set_stage("running " + who);
      const int status = c.run(args);
      if (recsys::interrupted()) {  // the signal came after the last check: the run was finished first
        const int sig = recsys::interrupt_signal();
        print_error(who, std::string("interrupted (") + signal_name(sig) + ") after the run was complete; it was kept");
        return signal_status(sig);
      }
      return status;
    } catch (const recsys::cli::UsageError& e) {
      print_error(who, e.what(), " (see " + who + " --help)");
      return 2;
    } catch (const recsys::Interrupted& e) {
      // Training stopped at a step boundary; nothing was published (the staging folder and lock are gone).
      std::fflush(stdout);
      std::fprintf(stderr, "\n");  // end a progress line cut short
      print_error(who, std::string(e.what()) + " (" + signal_name(e.signal_number()) +
                           "); nothing was written, any previous run in --out is untouched");
      return signal_status(e.signal_number());
    } catch (const std::bad_alloc&) {  // a std::vector or string that could not grow
      print_error(who, "out of memory while " + recsys::cli::current_stage());
      return 1;
    } catch (const recsys::OutOfMemory& e) {  // a tensor (e.what() says how many bytes)
      print_error(who, "out of memory while " + recsys::cli::current_stage() + " (" + e.what() + ")");
      return 1;
    } catch (const std::exception& e) {
      if (recsys::interrupted()) {  // a system call cut short by the signal (a FIFO that had no writer yet)
        const int sig = recsys::interrupt_signal();
        print_error(who, std::string("interrupted (") + signal_name(sig) + "): " + e.what());
        return signal_status(sig);
      }
      print_error(who, e.what());
      return 1;
    }
  }
  print_error("recsys", "unknown command '" + words[0] + "' (one of " + command_names() + ")", "; see recsys --help");
  return 2;
}
