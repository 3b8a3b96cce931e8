#include "menu_options.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <string_view>

namespace ccopy::cli::menu {
namespace {

// Every flag the menu takes needs a value.
constexpr std::string_view kMenuFlags[] = {"runs", "warmup", "dir", "mode"};

constexpr std::string_view kUsage =
    "Usage: concurrent_copy menu [-runs N] [-warmup N] [-dir DIR] [-mode MODE]\n"
    "\n"
    "An interactive menu in the terminal: choose a scenario (the original's seven, or all of\n"
    "them), the engines and the directory, run it, and compare the results as they come.\n"
    "\n"
    "  -runs N      Timed runs per engine (default 5)\n"
    "  -warmup N    Untimed runs per engine before the timed ones (default 1)\n"
    "  -dir DIR     The directory chosen at start (default: $TMPDIR, else /tmp)\n"
    "  -mode MODE   The engines chosen at start, as the benchmark's -mode (default both:\n"
    "               xev and goroutine)\n"
    "\n"
    "Flags take one dash or two. Keys: arrows or j/k move, Tab switches between the list and\n"
    "the settings, Enter runs, Space toggles an engine, Esc cancels a run, e exports, ? lists\n"
    "every key, q quits. Needs a terminal on stdin and stdout.\n";

bool is_help(std::string_view arg) { return arg == "-h" || arg == "-help" || arg == "--help"; }

// The flag an argument names ("runs" for "-runs", "--runs=3"), or "" when it is not a flag.
std::string_view flag_name(std::string_view arg) {
  if (arg.size() < 2 || arg[0] != '-') return {};
  arg.remove_prefix(arg[1] == '-' ? 2 : 1);
  return arg.substr(0, arg.find('='));
}

// Checks that every argument is a menu flag or a flag's value; returns the problem.
std::string check_flags(const std::vector<std::string>& args) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view name = flag_name(args[i]);
    if (name.empty()) return fmt::format("unexpected argument '{}'", args[i]);
    if (std::find(std::begin(kMenuFlags), std::end(kMenuFlags), name) == std::end(kMenuFlags))
      return fmt::format("{} is not a flag of the menu (it takes -runs, -warmup, -dir and -mode)",
                         args[i]);
    if (args[i].find('=') == std::string::npos) ++i;  // its value, checked by the parser
  }
  return {};
}

}  // namespace

ParseResult parse_menu_command_line(const std::vector<std::string>& args, BenchmarkConfig& out) {
  if (std::any_of(args.begin(), args.end(), [](const std::string& a) { return is_help(a); }))
    return {ParseResult::Kind::exit_with_text, std::string(kUsage)};
  if (std::string problem = check_flags(args); !problem.empty())
    return {ParseResult::Kind::usage_error, problem};
  CommandLine command;
  ParseResult parsed = parse_command_line(args, command);
  if (parsed.kind != ParseResult::Kind::run) return parsed;
  out = std::move(command.config);
  out.scenarios.clear();
  return {};
}

}  // namespace ccopy::cli::menu
