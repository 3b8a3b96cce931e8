// libFuzzer target for everything that parses user text: the size and count parsers and the
// whole command line. Besides crashes and sanitizer reports, it checks two properties: a size
// that parses comes back unchanged through its short spelling, and a command line accepted for
// a run holds only values the engines can use (and, for each kind of scenario, that the tree
// library accepts).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "ccopy/size.hpp"
#include "options.hpp"

namespace {

// The input is the command line with one argument per line.
std::vector<std::string> split_lines(std::string_view text) {
  std::vector<std::string> args;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t end = std::min(text.find('\n', start), text.size());
    args.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  return args;
}

void check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  std::string why;
  if (const auto bytes = ccopy::parse_size(text, &why)) {
    check(ccopy::parse_size(ccopy::short_size(*bytes)) == *bytes);
    (void)ccopy::format_bytes(*bytes);
  } else {
    check(!why.empty());
  }
  if (const auto count = ccopy::parse_count(text)) check(ccopy::parse_size(text) == *count);

  ccopy::cli::CommandLine command;
  const ccopy::cli::ParseResult result = ccopy::cli::parse_command_line(split_lines(text), command);
  if (result.kind == ccopy::cli::ParseResult::Kind::run) {
    const ccopy::BenchmarkConfig& c = command.config;
    check(!c.scenarios.empty());
    check(c.options.chunk >= 1 && c.options.inflight >= 1 && c.options.loops >= 1 && c.runs >= 1);
    for (const ccopy::Scenario& s : c.scenarios) {
      switch (s.kind) {
        case ccopy::Scenario::Kind::flat:
          // Its file count times its size does not overflow.
          check(s.files >= 1 && (s.size == 0 || s.total_bytes() / s.size == s.files));
          break;
        case ccopy::Scenario::Kind::shape:
          check(s.scale > 0 && s.scale <= 100);  // what plan_tree accepts
          break;
        case ccopy::Scenario::Kind::source:
          check(!s.source.empty());
          break;
      }
    }
  } else if (result.kind == ccopy::cli::ParseResult::Kind::usage_error) {
    check(!result.text.empty() && result.text.find('\n') == std::string::npos);
  }
  return 0;
}
