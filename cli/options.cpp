#include "options.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstring>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <system_error>
#include <utility>

#include "build_info.hpp"
#include "ccopy/engine.hpp"
#include "ccopy/fresh_fs.hpp"
#include "ccopy/size.hpp"
#include "ccopy/tree.hpp"
#include "scenarios.hpp"

namespace ccopy::cli {
namespace {

// Every option is read as text and converted here, so that each problem gets a message that
// names the flag and says what is wrong with the value.
struct RawFlags {
  std::string files = "50", size = "1048576", mode = "both", workers = "0", dir;
  std::string inflight = "16", chunk = "64K", runs = "5", warmup = "1", pool = "0", loops = "1";
  std::string seed = "24301", scenarios, kernel_copy = "auto";
  std::vector<std::string> src;
  std::string tree, tree_scale = "1", dst_dir, fs, fs_image;
  bool scenarios_given = false, files_given = false, size_given = false, tree_scale_given = false;
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
  const auto value = parse_byte_size(text, why);
  if (!value) throw UsageError{fmt::format("-{}: {}", flag, why)};
  if (*value < low || *value > high)
    throw UsageError{fmt::format("-{}: {} is out of range ({} to {})", flag, text, short_size(low),
                                 short_size(high))};
  return *value;
}

// -scenarios names whole scenarios, so it cannot be combined with -files or -size: which of
// the two would win is not obvious, and a silent choice would run something else than asked.
std::vector<Scenario> flat_scenarios(const RawFlags& raw) {
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

double tree_scale_from(const std::string& text) {
  char* end = nullptr;
  errno = 0;
  const double scale = std::strtod(text.c_str(), &end);
  if (text.empty() || end == text.c_str() || *end != '\0' || errno != 0 || !(scale > 0) ||
      scale > 100)
    throw UsageError{fmt::format("-tree-scale: '{}' is not a number above 0 and at most 100", text)};
  return scale;
}

// -tree NAME[,NAME...]: each a shape; `flat` is the -files/-size scenarios, which go with no
// other shape.
std::vector<Scenario> tree_scenarios(const RawFlags& raw) {
  std::vector<Scenario> scenarios;
  const double scale = tree_scale_from(raw.tree_scale);
  std::size_t start = 0;
  bool flat = false;
  for (;;) {
    const std::size_t comma = raw.tree.find(',', start);
    const std::string name = raw.tree.substr(start, comma - start);
    const ShapeInfo* info = find_shape(name);
    if (info == nullptr) {
      std::string known;
      for (const ShapeInfo& shape : shapes()) known += (known.empty() ? "" : ", ") + std::string(shape.name);
      throw UsageError{fmt::format("-tree: unknown shape '{}' (expected {})", name, known)};
    }
    if (info->shape == Shape::flat) {
      flat = true;
      for (Scenario& s : flat_scenarios(raw)) scenarios.push_back(s);
    } else {
      Scenario s;
      s.kind = Scenario::Kind::shape;
      s.shape = info->shape;
      s.scale = scale;
      scenarios.push_back(s);
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (!flat && (raw.files_given || raw.size_given))
    throw UsageError{fmt::format("{} goes with -tree flat, not with -tree {}",
                                 raw.files_given ? "-files" : "-size", raw.tree)};
  return scenarios;
}

// An absolute path to an existing directory the user named with `flag`.
std::string existing_directory(const char* flag, const std::string& path) {
  if (path.empty()) throw UsageError{fmt::format("{}: empty value", flag)};
  std::error_code ec;
  const std::filesystem::path absolute = std::filesystem::absolute(path, ec);
  struct ::stat st {};
  if (::stat(path.c_str(), &st) < 0)
    throw UsageError{fmt::format("{} {}: {}", flag, path, std::strerror(errno))};
  if (!S_ISDIR(st.st_mode))
    throw UsageError{fmt::format("{} {}: {}", flag, path, std::strerror(ENOTDIR))};
  return (ec ? std::filesystem::path(path) : absolute).lexically_normal().string();
}

// -fs LIST: each scenario once on each file system, in the order given.
std::vector<FsKind> filesystems_from(const std::string& list) {
  std::vector<FsKind> kinds;
  std::size_t start = 0;
  for (;;) {
    const std::size_t comma = list.find(',', start);
    const std::string name = list.substr(start, comma - start);
    const std::optional<FsKind> kind = find_fs_kind(name);
    if (!kind) throw UsageError{fmt::format("-fs: unknown file system '{}' (expected ext4, xfs, btrfs or tmpfs)", name)};
    if (std::find(kinds.begin(), kinds.end(), *kind) != kinds.end())
      throw UsageError{fmt::format("-fs: {} is given twice", name)};
    kinds.push_back(*kind);
    if (comma == std::string::npos) return kinds;
    start = comma + 1;
  }
}

std::vector<Scenario> on_filesystems(const std::vector<Scenario>& scenarios, const RawFlags& raw) {
  if (raw.fs.empty()) return scenarios;
  std::vector<Scenario> out;
  for (const FsKind kind : filesystems_from(raw.fs)) {
    for (Scenario s : scenarios) {
      s.fs = kind;
      out.push_back(s);
    }
  }
  return out;
}

std::vector<Scenario> scenarios_from(const RawFlags& raw) {
  const bool trees = !raw.tree.empty(), sources = !raw.src.empty();
  if (sources && trees) throw UsageError{"-src and -tree cannot be combined: copy one or the other"};
  if ((sources || trees) && raw.scenarios_given)
    throw UsageError{fmt::format("{} and -scenarios cannot be combined", sources ? "-src" : "-tree")};
  if (sources && (raw.files_given || raw.size_given))
    throw UsageError{fmt::format("-src and {} cannot be combined: -src copies the tree as it is",
                                 raw.files_given ? "-files" : "-size")};
  if (raw.tree_scale_given && !trees) throw UsageError{"-tree-scale goes with -tree"};
  if (trees) return tree_scenarios(raw);
  if (!sources) return flat_scenarios(raw);
  std::vector<Scenario> scenarios;
  for (const std::string& path : raw.src) {
    Scenario s;
    s.kind = Scenario::Kind::source;
    s.source = existing_directory("-src", path);
    // One directory named twice (a trailing slash, a symlink, a bind mount): by device and inode.
    struct ::stat mine {};
    const bool known = ::stat(s.source.c_str(), &mine) == 0;
    for (const Scenario& other : scenarios) {
      struct ::stat theirs {};
      if (other.source == s.source ||
          (known && ::stat(other.source.c_str(), &theirs) == 0 && theirs.st_dev == mine.st_dev &&
           theirs.st_ino == mine.st_ino))
        throw UsageError{fmt::format("-src {} is given twice", path)};
    }
    scenarios.push_back(s);
  }
  return scenarios;
}

// True when `inner` is `outer` or lies below it, comparing devices and inodes of `inner` and its
// parents (not strings: symlinks and bind mounts name one directory many ways).
bool inside(const std::string& inner, const std::string& outer) {
  struct ::stat target {};
  if (::stat(outer.c_str(), &target) < 0) return false;
  std::filesystem::path at = inner;
  for (int depth = 0; depth < 4096; ++depth) {
    struct ::stat st {};
    if (::stat(at.c_str(), &st) == 0 && st.st_dev == target.st_dev && st.st_ino == target.st_ino)
      return true;
    if (at == at.root_path() || at.empty()) return false;
    at = at.parent_path();
  }
  return false;
}

// `path` made absolute against the working directory and normalized ("." becomes the working
// directory, "a/../b" becomes "b"), so that the output and a kept workspace name a place that
// holds from anywhere. Symbolic links stay as given.
std::string absolute_directory(const std::string& path) {
  std::error_code ec;
  const std::filesystem::path absolute = std::filesystem::absolute(path, ec);
  if (ec) return path;
  std::string text = absolute.lexically_normal().string();
  while (text.size() > 1 && text.back() == '/') text.pop_back();
  return text;
}

void choose_directory(const RawFlags& raw, CommandLine& out) {
  const char* tmpdir = std::getenv("TMPDIR");
  if (!raw.dir.empty()) {
    out.directory_origin = "-dir";
    out.config.directory = absolute_directory(raw.dir);
  } else if (tmpdir != nullptr && *tmpdir != '\0') {
    out.directory_origin = "TMPDIR";
    out.config.directory = absolute_directory(tmpdir);
  } else {
    out.directory_origin = "the default directory";
    out.config.directory = "/tmp";
  }
}

// Two exports to one place would overwrite each other (a file) or run into each other
// (stdout): both are refused, whatever the spelling of the path ("out", "./out").
void check_export_targets(const CommandLine& out) {
  std::vector<std::pair<const char*, std::string>> targets;
  for (const auto& [flag, path] :
       {std::pair{"-json", &out.json}, std::pair{"-csv", &out.csv},
        std::pair{"-markdown", &out.markdown}, std::pair{"-svg", &out.svg}}) {
    if (path->empty()) continue;
    const std::string target = *path == "-" ? "-" : absolute_directory(*path);
    for (const auto& [other, other_target] : targets) {
      if (other_target != target) continue;
      if (target == "-")
        throw UsageError{fmt::format(
            "{} and {} both write to stdout ('-'); give one of them a file", other, flag)};
      throw UsageError{fmt::format("{} and {} both write to {}; give each export its own file",
                                   other, flag, *path)};
    }
    targets.emplace_back(flag, target);
  }
}

KernelCopy kernel_copy_from(const std::string& text) {
  for (const KernelCopy mode : {KernelCopy::automatic, KernelCopy::on, KernelCopy::off})
    if (text == kernel_copy_name(mode)) return mode;
  throw UsageError{fmt::format("-kernel-copy: '{}' is not one of auto, on, off", text)};
}

void convert(const RawFlags& raw, CommandLine& out) {
  BenchmarkConfig& c = out.config;
  c.scenarios = on_filesystems(scenarios_from(raw), raw);
  if (!raw.fs.empty() && !raw.dst_dir.empty())
    throw UsageError{"-fs and -dst-dir cannot be combined: with -fs the copies stay on the fresh file system"};
  if (!raw.fs_image.empty()) {
    if (raw.fs.empty()) throw UsageError{"-fs-image goes with -fs"};
    c.fs_image_directory = existing_directory("-fs-image", raw.fs_image);
  }
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
  choose_directory(raw, out);
  if (!raw.dst_dir.empty()) c.destination_directory = existing_directory("-dst-dir", raw.dst_dir);
  for (const Scenario& s : c.scenarios) {
    if (s.kind != Scenario::Kind::source) continue;
    for (const std::string& place : {c.directory, c.destination_directory})
      if (!place.empty() && inside(place, s.source))
        throw UsageError{fmt::format("the workspace in {} would lie inside -src {}: give a -dir "
                                     "(and -dst-dir) outside the tree to copy",
                                     place, s.source)};
  }
  c.keep = raw.keep;
  c.cold = raw.cold;
  out.quiet = raw.quiet;
  check_export_targets(out);
}

std::string shape_list() {
  std::string text;
  for (const ShapeInfo& s : shapes()) text += (text.empty() ? "" : ", ") + std::string(s.name);
  return text;
}

std::string shape_table() {
  std::string text;
  for (const ShapeInfo& s : shapes()) {
    if (s.shape == Shape::flat) continue;
    text += fmt::format("  {:<13} {} files, {} directories, {} symlinks, {}: {}\n", s.name, s.files,
                        s.directories, s.symlinks, format_bytes(s.bytes), s.summary);
  }
  return text;
}

std::string engine_list() {
  std::string text;
  for (const EngineInfo& info : engine_registry())
    text += fmt::format("  {:<9} {}\n", info.name, info.summary);
  return text;
}

// The length of the edit from `a` to `b` by insertions, deletions, substitutions and swaps of
// adjacent characters (the optimal string alignment distance): "quite" is 1 from "quiet".
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.size()][b.size()];
}

// A flag's name as typed, without its dashes and its "=value".
std::string_view typed_name(std::string_view arg) {
  arg.remove_prefix(std::min(arg.find_first_not_of('-'), arg.size()));
  return arg.substr(0, arg.find('='));
}

// The message for the first argument CLI11 could not place: an unknown flag (with the flag it
// most likely meant) or a stray word.
std::string unexpected_argument(const std::string& arg, const std::vector<std::string>& names) {
  if (arg.size() < 2 || arg[0] != '-')
    return fmt::format("unexpected argument '{}': every value follows its flag (-files 10)", arg);
  const std::string_view typed = typed_name(arg);
  const std::string flag = arg.substr(0, arg.find('='));
  const std::string meant = likeliest_flag(typed, names);
  if (meant.empty()) return fmt::format("unknown flag '{}'", flag);
  return fmt::format("unknown flag '{}'; did you mean -{}?", flag, meant);
}

// Whether `arg` spells a flag of `names` ("-keep", "--keep", "-keep=true", "-h").
bool is_flag(const std::string& arg, const std::vector<std::string>& names) {
  if (arg == "-h") return true;
  if (arg.size() < 2 || arg[0] != '-') return false;
  return std::find(names.begin(), names.end(), typed_name(arg)) != names.end();
}

// CLI11 gives a value option whatever word follows it, and "--json=" the word after that:
// "-json -keep" and "--json= --keep" would both write to a file named "--keep". An empty value
// and a value that is itself a flag are refused before CLI11 sees them; a value that only
// starts with a dash ("-files -5") is left to the option's own check.
void refuse_flags_as_values(const std::vector<std::string>& args,
                            const std::vector<std::string>& names,
                            const std::vector<std::string>& value_names) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") return;
    if (!is_flag(arg, names)) continue;
    const std::string_view name = typed_name(arg);
    if (arg.back() == '=' && arg.find('=') == arg.size() - 1)
      throw UsageError{fmt::format("-{}: empty value", name)};
    const bool takes_value =
        std::find(value_names.begin(), value_names.end(), name) != value_names.end();
    if (takes_value && arg.find('=') == std::string::npos && i + 1 < args.size() &&
        is_flag(args[i + 1], names))
      throw UsageError{
          fmt::format("-{}: needs a value, and '{}' is a flag (write -{}={} to mean "
                      "the value)",
                      name, args[i + 1], name, args[i + 1])};
  }
}

// An option given an empty value ("-json ''", "-dir ''") would silently mean its default.
void refuse_empty_values(const std::vector<CLI::Option*>& value_options) {
  for (const CLI::Option* option : value_options) {
    const auto& given = option->results();
    if (std::find(given.begin(), given.end(), std::string()) != given.end())
      throw UsageError{fmt::format("-{}: empty value", option->get_lnames().front())};
  }
}

// The engine options the command line named, for the notes about options no engine reads.
void record_engine_options(const CLI::App& app, const RawFlags& raw, CommandLine& out) {
  for (const auto& [flag, value] :
       {std::pair{"workers", &raw.workers}, std::pair{"inflight", &raw.inflight},
        std::pair{"pool", &raw.pool}, std::pair{"loops", &raw.loops}})
    if (app.count(std::string("--") + flag) > 0)
      out.engine_options_given.emplace_back(std::string("-") + flag, *value);
}

// Which engines read an engine option: -workers the thread engines, -inflight the event loops,
// -loops the io_uring engine (its rings), -pool the libuv engine.
bool reads_option(const EngineInfo& info, std::string_view flag) {
  if (flag == "-workers") return info.open_files == OpenFiles::per_thread;
  if (flag == "-inflight") return info.open_files != OpenFiles::per_thread;
  if (flag == "-loops") return info.open_files == OpenFiles::rings_with_pipes;
  if (flag == "-pool") return info.name == "uv";
  return true;
}

}  // namespace

std::string likeliest_flag(std::string_view typed, const std::vector<std::string>& names) {
  if (typed.empty()) return {};
  for (const std::string& name : names)
    if (name.rfind(typed, 0) == 0) return name;
  const std::size_t allowed = std::max<std::size_t>(1, typed.size() / 3);
  std::string best;
  std::size_t best_distance = allowed + 1;
  for (const std::string& name : names) {
    const std::size_t d = edit_distance(typed, name);
    if (d < best_distance) {
      best = name;
      best_distance = d;
    }
  }
  return best;
}

std::vector<std::string> unused_option_notes(const CommandLine& command,
                                             const std::vector<EngineChoice>& engines) {
  std::vector<std::string> notes;
  for (const auto& [flag, value] : command.engine_options_given) {
    bool read = false;
    std::vector<std::string_view> readers;
    for (const EngineInfo& info : engine_registry()) {
      if (!reads_option(info, flag)) continue;
      readers.push_back(info.name);
      for (const EngineChoice& e : engines) read = read || e.engine == info.name;
    }
    if (!read)
      notes.push_back(fmt::format("{} {} is unused: no {} engine runs", flag, value,
                                  fmt::join(readers, " or ")));
  }
  return notes;
}

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
  // Room for the longest flag with its default ("--kernel-copy WHEN=auto") and a space.
  app.get_formatter()->column_width(28);
  std::vector<CLI::Option*> values;
  const auto value = [&](CLI::Option* option) {
    values.push_back(option);
    return option;
  };
  value(
      app.add_option("--files", raw.files, "Number of files, or a comma-separated list (a sweep)"))
      ->type_name("N")
      ->capture_default_str();
  value(app.add_option("--size", raw.size,
                       "Bytes per file: 4096, 4K, 64KiB, 1.5M, 10MiB, 1G (binary), or a list"))
      ->type_name("BYTES")
      ->capture_default_str();
  value(app.add_option("--scenarios", raw.scenarios,
                       "'all' (the original's seven: 1000x4K .. 5x50M) or a list of NxSIZE names, "
                       "such as 1000x4K,50x1M; not with -files or -size"))
      ->type_name("LIST");
  value(app.add_option("--src", raw.src,
                       "Copy this directory (your own tree; only read) instead of generated "
                       "files; give it again for a sweep over several trees"))
      ->type_name("DIR");
  value(app.add_option("--tree", raw.tree, "Generate a tree of this shape: " + shape_list() +
                                               "; or a comma-separated list (a sweep)"))
      ->type_name("NAME");
  value(app.add_option("--tree-scale", raw.tree_scale,
                       "Multiply the counts of a -tree shape (0.01 for a quick look, 10 for a "
                       "large one)"))
      ->type_name("F")
      ->capture_default_str();
  value(app.add_option("--dst-dir", raw.dst_dir,
                       "Put the copies in this directory (another file system, to measure a copy "
                       "across file systems); the sources stay in -dir"))
      ->type_name("DIR");
  value(app.add_option("--fs", raw.fs,
                       "Run on a fresh file system made for each scenario (root only): ext4, xfs, "
                       "btrfs, tmpfs, or a list (each scenario on each)"))
      ->type_name("LIST");
  value(app.add_option("--fs-image", raw.fs_image,
                       "Where -fs makes its image files (default /dev/shm)"))
      ->type_name("DIR");
  value(app.add_option("--mode", raw.mode,
                       "xev, goroutine, both, all, an engine, or a comma-separated list"))
      ->type_name("MODE")
      ->capture_default_str();
  value(app.add_option("--workers", raw.workers,
                       "Threads engines: most files at once; 0 = a thread per waiting file, "
                       "at most 32 MiB of -chunk buffers at once"))
      ->type_name("N")
      ->capture_default_str();
  app.add_flag("--keep", raw.keep, "Keep the generated files and print where they are");
  value(
      app.add_option("--dir", raw.dir, "Where to generate the files (default: $TMPDIR, else /tmp)"))
      ->type_name("DIR");
  value(app.add_option("--inflight", raw.inflight, "Event loops: most files in progress at once"))
      ->type_name("N")
      ->capture_default_str();
  value(app.add_option("--chunk", raw.chunk, "Bytes per read and write"))
      ->type_name("BYTES")
      ->capture_default_str();
  value(app.add_option("--runs", raw.runs, "Timed runs per engine"))
      ->type_name("N")
      ->capture_default_str();
  value(app.add_option("--warmup", raw.warmup, "Untimed runs per engine before the timed ones"))
      ->type_name("N")
      ->capture_default_str();
  value(app.add_option("--pool", raw.pool,
                       "uv engine: libuv thread pool size; 0 = UV_THREADPOOL_SIZE if set, else one "
                       "per CPU (4 with -kernel-copy off)"))
      ->type_name("N")
      ->capture_default_str();
  value(app.add_option("--loops", raw.loops, "uring engine: rings, one per thread"))
      ->type_name("N")
      ->capture_default_str();
  value(app.add_option("--kernel-copy", raw.kernel_copy,
                       "uring and uv engines: copy inside the kernel (uring: splice through a "
                       "pipe; uv: sendfile) instead of read/write through a buffer: auto (where "
                       "faster), on, off"))
      ->type_name("WHEN")
      ->capture_default_str();
  app.add_flag("--cold", raw.cold, "Evict the sources from the page cache before every run");
  app.add_flag("--fsync", raw.fsync, "fdatasync every destination before closing it (timed)");
  value(
      app.add_option("--json", out.json, "Write every run and figure as JSON to FILE (- = stdout)"))
      ->type_name("FILE");
  value(app.add_option("--csv", out.csv,
                       "Write one CSV row per engine and scenario to FILE (- = stdout)"))
      ->type_name("FILE");
  value(app.add_option("--markdown", out.markdown, "Write a Markdown table to FILE (- = stdout)"))
      ->type_name("FILE");
  value(
      app.add_option("--svg", out.svg, "Draw the results as an SVG bar chart in FILE (- = stdout)"))
      ->type_name("FILE");
  value(app.add_option("--seed", raw.seed, "Seed of the generated data"))
      ->type_name("N")
      ->capture_default_str();
  app.add_flag("--quiet", raw.quiet, "No progress line on stderr");
  app.add_flag("--version", raw.version, "Print the version and exit");
  app.footer(
      "Engines:\n" + engine_list() + "\nTrees (-tree, at -tree-scale 1; docs/trees.md):\n" +
      shape_table() +
      "\nCommands: with none, the benchmark. 'concurrent_copy copy SRC DST' copies with the\n"
      "engines (cp's options; 'concurrent_copy help copy'); 'concurrent_copy tree SHAPE DIR'\n"
      "writes a generated tree and keeps it ('concurrent_copy help tree'); 'concurrent_copy\n"
      "menu' opens the interactive menu.\n"
      "\nExports: -json, -csv, -markdown and -svg combine; they are written after the run, also\n"
      "when a copy fails. At most one may be '-' (stdout); the console report then goes to\n"
      "stderr. docs/output.md describes every field of the JSON; docs/output.schema.json is\n"
      "its schema.\n"
      "\nExit codes: 0 every copy verified; 1 a copy failed, differs, an engine cannot run, or "
      "the\n"
      "report or an export cannot be written; 2 bad usage. A signal (Ctrl-C, SIGTERM, SIGHUP,\n"
      "...) stops the run, removes its files and then ends the process by that signal: a\n"
      "shell reports 128 + its number (130 for SIGINT, 143 for SIGTERM).");
  app.allow_extras();

  std::vector<std::string> long_names;
  // As with Go's flag package, a flag given twice takes its last value; -src alone repeats.
  for (CLI::Option* option : app.get_options()) option->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.get_option("--src")->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  for (const CLI::Option* option : app.get_options())
    for (const std::string& name : option->get_lnames()) long_names.push_back(name);

  std::vector<std::string> value_names;
  for (const CLI::Option* option : values) value_names.push_back(option->get_lnames().front());

  try {
    refuse_flags_as_values(args, long_names, value_names);
    const std::vector<std::string> gnu = to_gnu_style(args, long_names);
    std::vector<const char*> argv{"concurrent_copy"};
    for (const std::string& arg : gnu) argv.push_back(arg.c_str());
    app.parse(static_cast<int>(argv.size()), argv.data());
    if (const std::vector<std::string> extra = app.remaining(); !extra.empty())
      throw UsageError{unexpected_argument(extra.front(), long_names)};
    refuse_empty_values(values);
    if (raw.version)
      return {ParseResult::Kind::exit_with_text,
              fmt::format("concurrent_copy {} (commit {}, {} build)\n", build::version, build::git_commit,
                          build::build_type)};
    raw.scenarios_given = app.count("--scenarios") > 0;
    raw.files_given = app.count("--files") > 0;
    raw.size_given = app.count("--size") > 0;
    raw.tree_scale_given = app.count("--tree-scale") > 0;
    record_engine_options(app, raw, out);
    convert(raw, out);
  } catch (const CLI::CallForHelp&) {
    return {ParseResult::Kind::exit_with_text, app.help()};
  } catch (const CLI::ArgumentMismatch& e) {
    // "--files: 1 required N missing": a flag at the end, or before another flag.
    const std::string text = e.what();
    return {ParseResult::Kind::usage_error,
            fmt::format("-{}: needs a value", typed_name(text.substr(0, text.find(':'))))};
  } catch (const CLI::ParseError& e) {
    return {ParseResult::Kind::usage_error, e.what()};
  } catch (const UsageError& e) {
    return {ParseResult::Kind::usage_error, e.message};
  }
  return {};
}

}  // namespace ccopy::cli
