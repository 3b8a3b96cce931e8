#include "options.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <utility>

#include "build_info.hpp"
#include "ccopy/engine.hpp"
#include "ccopy/size.hpp"
#include "scenarios.hpp"

namespace ccopy::cli {
namespace {

// Every option is read as text and converted here, so that each problem gets a message that
// names the flag and says what is wrong with the value.
struct RawFlags {
  std::string files = "50", size = "1048576", mode = "both", workers = "0", dir;
  std::string inflight = "16", chunk = "64K", runs = "5", warmup = "1", pool = "0", loops = "1";
  std::string seed = "24301", scenarios, kernel_copy = "auto";
  bool scenarios_given = false, files_given = false, size_given = false;
  bool keep = false, cold = false, fsync = false, quiet = false, version = false;
};

constexpr std::uint64_t kMaxChunk = std::uint64_t{256} << 20;
constexpr std::uint64_t kMaxInflight = 4096;

struct UsageError {
  std::string message;
};

std::uint64_t count_in_range(const char* flag, const std::string& text, std::uint64_t low,
                             std::uint64_t high) {
  std::string why;
  const auto value = parse_count(text, &why);
  if (!value) throw UsageError{fmt::format("-{}: {}", flag, why)};
  if (*value < low || *value > high)
    throw UsageError{fmt::format("-{}: {} is out of range ({} to {})", flag, *value, low, high)};
  return *value;
}

std::uint64_t size_in_range(const char* flag, const std::string& text, std::uint64_t low,
                            std::uint64_t high) {
  std::string why;
  const auto value = parse_size(text, &why);
  if (!value) throw UsageError{fmt::format("-{}: {}", flag, why)};
  if (*value < low || *value > high)
    throw UsageError{fmt::format("-{}: {} is out of range ({} to {})", flag, text, short_size(low),
                                 short_size(high))};
  return *value;
}

// -scenarios names whole scenarios, so it cannot be combined with -files or -size: which of
// the two would win is not obvious, and a silent choice would run something else than asked.
std::vector<Scenario> scenarios_from(const RawFlags& raw) {
  std::vector<Scenario> scenarios;
  if (raw.scenarios_given) {
    if (raw.files_given || raw.size_given)
      throw UsageError{fmt::format("-scenarios cannot be combined with {}: give either whole "
                                   "scenarios or lists of file counts and sizes",
                                   raw.files_given ? "-files" : "-size")};
    if (std::string why = parse_scenario_list(raw.scenarios, scenarios); !why.empty())
      throw UsageError{why};
    return scenarios;
  }
  if (std::string why = cross_product(raw.files, raw.size, scenarios); !why.empty())
    throw UsageError{why};
  return scenarios;
}

std::string default_directory() {
  const char* tmpdir = std::getenv("TMPDIR");
  return tmpdir != nullptr && *tmpdir != '\0' ? tmpdir : "/tmp";
}

// Two exports on stdout would run into each other and neither could be parsed.
void check_stdout_exports(const CommandLine& out) {
  std::vector<std::string> on_stdout;
  for (const auto& [flag, path] : {std::pair{"-json", &out.json}, std::pair{"-csv", &out.csv},
                                   std::pair{"-markdown", &out.markdown}, std::pair{"-svg", &out.svg}})
    if (*path == "-") on_stdout.emplace_back(flag);
  if (on_stdout.size() > 1)
    throw UsageError{fmt::format("{} and {} both write to stdout ('-'); give one of them a file",
                                 on_stdout[0], on_stdout[1])};
}

KernelCopy kernel_copy_from(const std::string& text) {
  for (const KernelCopy mode : {KernelCopy::automatic, KernelCopy::on, KernelCopy::off})
    if (text == kernel_copy_name(mode)) return mode;
  throw UsageError{fmt::format("-kernel-copy: '{}' is not one of auto, on, off", text)};
}

void convert(const RawFlags& raw, CommandLine& out) {
  BenchmarkConfig& c = out.config;
  c.scenarios = scenarios_from(raw);
  if (Error e = check_mode_names(raw.mode)) throw UsageError{"-mode: " + e.message()};
  c.mode = raw.mode;
  c.options.workers = static_cast<unsigned>(count_in_range("workers", raw.workers, 0, 1'000'000));
  c.options.inflight = static_cast<unsigned>(count_in_range("inflight", raw.inflight, 1, kMaxInflight));
  c.options.chunk = static_cast<std::size_t>(size_in_range("chunk", raw.chunk, 1, kMaxChunk));
  c.options.pool = static_cast<unsigned>(count_in_range("pool", raw.pool, 0, 1024));
  c.options.loops = static_cast<unsigned>(count_in_range("loops", raw.loops, 1, 1024));
  c.options.kernel_copy = kernel_copy_from(raw.kernel_copy);
  c.options.fsync = raw.fsync;
  c.runs = static_cast<unsigned>(count_in_range("runs", raw.runs, 1, 100'000));
  c.warmup = static_cast<unsigned>(count_in_range("warmup", raw.warmup, 0, 100'000));
  c.seed = count_in_range("seed", raw.seed, 0, std::numeric_limits<std::uint64_t>::max());
  c.directory = raw.dir.empty() ? default_directory() : raw.dir;
  c.keep = raw.keep;
  c.cold = raw.cold;
  out.quiet = raw.quiet;
  check_stdout_exports(out);
}

std::string engine_list() {
  std::string text;
  for (const EngineInfo& info : engine_registry())
    text += fmt::format("  {:<9} {}\n", info.name, info.summary);
  return text;
}

}  // namespace

std::vector<std::string> to_gnu_style(const std::vector<std::string>& args,
                                      const std::vector<std::string>& long_names) {
  std::vector<std::string> out;
  out.reserve(args.size());
  bool options_ended = false;
  for (const std::string& arg : args) {
    if (arg == "--") options_ended = true;
    const bool single_dash = arg.size() > 2 && arg[0] == '-' && arg[1] != '-';
    if (!options_ended && single_dash) {
      const std::string name = arg.substr(1, arg.find('=') - 1);
      if (std::find(long_names.begin(), long_names.end(), name) != long_names.end()) {
        out.push_back("-" + arg);
        continue;
      }
    }
    out.push_back(arg);
  }
  return out;
}

ParseResult parse_command_line(const std::vector<std::string>& args, CommandLine& out) {
  RawFlags raw;
  CLI::App app{"concurrent_copy: which way of copying many files at once is fastest here?\n"
               "Generates files, copies them with each engine in interleaved timed runs, verifies\n"
               "every copy byte for byte, and reports the statistics. Flags take one dash or two.",
               "concurrent_copy"};
  app.get_formatter()->column_width(26);
  app.add_option("--files", raw.files, "Number of files, or a comma-separated list (a sweep)")
      ->type_name("N")->capture_default_str();
  app.add_option("--size", raw.size, "Bytes per file: 4096, 4K, 64KiB, 1M, 10MiB, 1G (binary), or a list")
      ->type_name("BYTES")->capture_default_str();
  app.add_option("--scenarios", raw.scenarios,
                 "'all' (the original's seven: 1000x4K .. 5x50M) or a list of NxSIZE names, "
                 "such as 1000x4K,50x1M; not with -files or -size")
      ->type_name("LIST");
  app.add_option("--mode", raw.mode,
                 "xev, goroutine, both, all, an engine, or a comma-separated list")
      ->type_name("MODE")->capture_default_str();
  app.add_option("--workers", raw.workers, "Threads engines: most files at once; 0 = a thread per waiting file, "
                 "at most 32 MiB of -chunk buffers at once")
      ->type_name("N")->capture_default_str();
  app.add_flag("--keep", raw.keep, "Keep the generated files and print where they are");
  app.add_option("--dir", raw.dir, "Where to generate the files (default: $TMPDIR, else /tmp)")
      ->type_name("DIR");
  app.add_option("--inflight", raw.inflight, "Event loops: most files in progress at once")
      ->type_name("N")->capture_default_str();
  app.add_option("--chunk", raw.chunk, "Bytes per read and write")->type_name("BYTES")->capture_default_str();
  app.add_option("--runs", raw.runs, "Timed runs per engine")->type_name("N")->capture_default_str();
  app.add_option("--warmup", raw.warmup, "Untimed runs per engine before the timed ones")
      ->type_name("N")->capture_default_str();
  app.add_option("--pool", raw.pool, "uv engine: libuv thread pool size; 0 = UV_THREADPOOL_SIZE if set, else one per CPU "
                 "(4 with -kernel-copy off)")
      ->type_name("N")->capture_default_str();
  app.add_option("--loops", raw.loops, "uring engine: rings, one per thread")->type_name("N")->capture_default_str();
  app.add_option("--kernel-copy", raw.kernel_copy,
                 "uring and uv engines: copy inside the kernel (uring: splice through a pipe; uv: "
                 "sendfile) instead of read/write through a buffer: auto (where faster), on, off")
      ->type_name("WHEN")->capture_default_str();
  app.add_flag("--cold", raw.cold, "Evict the sources from the page cache before every run");
  app.add_flag("--fsync", raw.fsync, "fdatasync every destination before closing it (timed)");
  app.add_option("--json", out.json, "Write every run and figure as JSON to FILE (- = stdout)")
      ->type_name("FILE");
  app.add_option("--csv", out.csv, "Write one CSV row per engine and scenario to FILE (- = stdout)")
      ->type_name("FILE");
  app.add_option("--markdown", out.markdown, "Write a Markdown table to FILE (- = stdout)")
      ->type_name("FILE");
  app.add_option("--svg", out.svg, "Draw the results as an SVG bar chart in FILE (- = stdout)")
      ->type_name("FILE");
  app.add_option("--seed", raw.seed, "Seed of the generated data")->type_name("N")->capture_default_str();
  app.add_flag("--quiet", raw.quiet, "No progress line on stderr");
  app.add_flag("--version", raw.version, "Print the version and exit");
  app.footer("Engines:\n" + engine_list() +
             "\nExports: -json, -csv and -markdown combine; they are written after the run, also when a\n"
             "copy fails. At most one may be '-' (stdout); the console report then goes to stderr.\n"
             "docs/output.md describes every field of the JSON; docs/output.schema.json is its schema.\n"
             "\nExit codes: 0 every copy verified; 1 a copy failed, differs, an engine cannot run, or an\n"
             "export cannot be written; 2 bad usage; 130 interrupted (SIGINT); 143 terminated (SIGTERM).");

  std::vector<std::string> long_names{"help"};
  // As with Go's flag package, a flag given twice takes its last value.
  for (CLI::Option* option : app.get_options()) option->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  for (const CLI::Option* option : app.get_options())
    for (const std::string& name : option->get_lnames()) long_names.push_back(name);
  const std::vector<std::string> gnu = to_gnu_style(args, long_names);
  std::vector<const char*> argv{"concurrent_copy"};
  for (const std::string& arg : gnu) argv.push_back(arg.c_str());

  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
    if (raw.version)
      return {ParseResult::Kind::exit_with_text,
              fmt::format("concurrent_copy {} (commit {}, {} build)\n", build::version, build::git_commit,
                          build::build_type)};
    raw.scenarios_given = app.count("--scenarios") > 0;
    raw.files_given = app.count("--files") > 0;
    raw.size_given = app.count("--size") > 0;
    convert(raw, out);
  } catch (const CLI::CallForHelp&) {
    return {ParseResult::Kind::exit_with_text, app.help()};
  } catch (const CLI::ParseError& e) {
    return {ParseResult::Kind::usage_error, e.what()};
  } catch (const UsageError& e) {
    return {ParseResult::Kind::usage_error, e.message};
  }
  return {};
}

}  // namespace ccopy::cli
