#include "copy_options.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <string_view>

#include "build_info.hpp"
#include "ccopy/engine.hpp"
#include "ccopy/size.hpp"

namespace ccopy::cli {
namespace {

// Files larger than this are copied in pieces of this size by several ranks (dcp splits at
// 4 MiB; larger pieces cost fewer opens and commits per file and still spread a large file).
constexpr std::uint64_t kDefaultSplit = 64ull << 20;

struct UsageError {
  std::string message;
};

// The attributes --preserve and --no-preserve name.
struct Attributes {
  bool mode = false, ownership = false, timestamps = false, xattr = false, links = false;
};

Attributes parse_attributes(std::string_view option, std::string_view list) {
  Attributes a;
  if (list.empty()) throw UsageError{fmt::format("{}: empty list", option)};
  std::size_t start = 0;
  for (;;) {
    const std::size_t comma = list.find(',', start);
    const std::string_view name = list.substr(start, comma - start);
    if (name == "mode") a.mode = true;
    else if (name == "ownership") a.ownership = true;
    else if (name == "timestamps") a.timestamps = true;
    else if (name == "xattr") a.xattr = true;
    else if (name == "links") a.links = true;
    else if (name == "all") a.mode = a.ownership = a.timestamps = a.xattr = a.links = true;
    else
      throw UsageError{fmt::format(
          "{}: unknown attribute '{}' (expected mode, ownership, timestamps, xattr, links or all)",
          option, name)};
    if (comma == std::string_view::npos) return a;
    start = comma + 1;
  }
}

void set(Preserve& p, const Attributes& a, bool value) {
  if (a.mode) p.mode = value;
  if (a.ownership) p.ownership = value;
  if (a.timestamps) p.timestamps = value;
  if (a.xattr) p.xattrs = value;
  if (a.links) p.links = value;
}

Reflink reflink_from(std::string_view value) {
  if (value == "auto") return Reflink::automatic;
  if (value == "always") return Reflink::always;
  if (value == "never") return Reflink::never;
  throw UsageError{fmt::format("--reflink: '{}' is not one of auto, always, never", value)};
}

Sparse sparse_from(std::string_view value) {
  if (value == "auto") return Sparse::automatic;
  if (value == "always") return Sparse::always;
  if (value == "never") return Sparse::never;
  throw UsageError{fmt::format("--sparse: '{}' is not one of auto, always, never", value)};
}

std::string engine_from(std::string_view value) {
  if (value == "auto") return "auto";
  if (value == "xev") return "uring";
  if (value == "goroutine") return "threads";
  if (find_engine(value) != nullptr) return std::string(value);
  std::string known = "auto";
  for (const EngineInfo& info : engine_registry()) known += fmt::format(", {}", info.name);
  throw UsageError{fmt::format("--engine: unknown engine '{}' (expected {})", value, known)};
}

unsigned jobs_from(std::string_view value) {
  std::string why;
  const auto n = parse_count(value, &why);
  if (!n) throw UsageError{fmt::format("--jobs: {}", why)};
  if (*n < 1 || *n > 4096) throw UsageError{fmt::format("--jobs: {} is out of range (1 to 4096)", *n)};
  return static_cast<unsigned>(*n);
}

// --split=SIZE: the size of the pieces large files are copied in by several MPI ranks.
std::uint64_t split_from(std::string_view value) {
  std::string why;
  const auto n = parse_size(value, &why);
  if (!n) throw UsageError{fmt::format("--split: {}", why)};
  if (*n != 0 && *n < 4096)
    throw UsageError{fmt::format("--split: {} bytes is below the least piece, 4K (0: never split)", *n)};
  return *n;
}

// One long option: its name, whether it takes a value (required, optional after '=', none).
enum class Arg { none, required, optional };
struct Long {
  std::string_view name;
  Arg arg;
  char short_name;  // the short option it is the same as, or 0
};

constexpr Long kLongs[] = {
    {"archive", Arg::none, 'a'},
    {"preserve", Arg::optional, 0},
    {"no-preserve", Arg::required, 0},
    {"dereference", Arg::none, 'L'},
    {"no-dereference", Arg::none, 'P'},
    {"no-clobber", Arg::none, 'n'},
    {"force", Arg::none, 'f'},
    {"update", Arg::none, 'u'},
    {"one-file-system", Arg::none, 'x'},
    {"reflink", Arg::optional, 0},
    {"sparse", Arg::required, 0},
    {"engine", Arg::required, 0},
    {"jobs", Arg::required, 'j'},
    {"verify", Arg::none, 0},
    {"progress", Arg::none, 0},
    {"no-progress", Arg::none, 0},
    {"fsync", Arg::none, 0},
    {"verbose", Arg::none, 'v'},
    {"dry-run", Arg::none, 0},
    {"json", Arg::required, 0},
    {"target-directory", Arg::required, 't'},
    {"no-target-directory", Arg::none, 'T'},
    {"recursive", Arg::none, 'R'},
    {"inplace", Arg::none, 0},
    {"split", Arg::required, 0},
    {"help", Arg::none, 0},
    {"version", Arg::none, 0},
};

// Short options that take a value.
bool short_takes_value(char c) { return c == 'j' || c == 't'; }
constexpr std::string_view kShorts = "aLPnfuxjvtTRrpdH";

class Parser {
 public:
  explicit Parser(CopyCommand& out) : out_(out) {
    // cp's defaults: modes from the source less the umask, nothing else kept, symlinks copied
    // as symlinks, existing files replaced, and a clone where the file system can (cp 9).
    out_.options.preserve = Preserve{false, false, false, false, false};
    out_.options.overwrite = Overwrite::replace;
    out_.options.reflink = Reflink::automatic;
    out_.options.split_size = kDefaultSplit;
    out_.options.sparse = Sparse::automatic;
    out_.options.detect_changes = true;
  }

  std::optional<CopyParse> parse(const std::vector<std::string>& args) {
    for (std::size_t i = 0; i < args.size(); ++i) {
      const std::string& arg = args[i];
      if (ended_ || arg.size() < 2 || arg[0] != '-') {
        out_.operands.push_back(arg);
        continue;
      }
      if (arg == "--") {
        ended_ = true;
        continue;
      }
      if (arg[1] == '-') {
        if (auto done = long_option(args, i)) return done;
      } else {
        short_options(args, i);
      }
    }
    return std::nullopt;
  }

 private:
  std::optional<CopyParse> long_option(const std::vector<std::string>& args, std::size_t& i) {
    const std::string& arg = args[i];
    const std::size_t eq = arg.find('=');
    const std::string name = arg.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
    // GNU accepts any unambiguous prefix of a long option.
    std::vector<const Long*> matches;
    for (const Long& l : kLongs) {
      if (l.name == name) {
        matches = {&l};
        break;
      }
      if (l.name.substr(0, name.size()) == name) matches.push_back(&l);
    }
    if (matches.empty()) throw UsageError{fmt::format("unrecognized option '{}'", arg)};
    if (matches.size() > 1) throw UsageError{fmt::format("option '{}' is ambiguous", arg)};
    const Long& option = *matches.front();
    std::optional<std::string> value;
    if (eq != std::string::npos) {
      if (option.arg == Arg::none)
        throw UsageError{fmt::format("option '--{}' doesn't allow an argument", option.name)};
      value = arg.substr(eq + 1);
      if (value->empty()) throw UsageError{fmt::format("--{}: empty value", option.name)};
    } else if (option.arg == Arg::required) {
      if (i + 1 >= args.size())
        throw UsageError{fmt::format("option '--{}' requires an argument", option.name)};
      value = args[++i];
    }
    if (option.name == "help") return CopyParse{CopyParse::Kind::exit_with_text, copy_help()};
    if (option.name == "version")
      return CopyParse{CopyParse::Kind::exit_with_text,
                       fmt::format("concurrent_copy copy {} (commit {}, {} build)\n",
                                   build::version, build::git_commit, build::build_type)};
    if (option.short_name != 0) {
      apply_short(option.short_name, value ? *value : std::string());
      return std::nullopt;
    }
    apply_long(option.name, value);
    return std::nullopt;
  }

  void short_options(const std::vector<std::string>& args, std::size_t& i) {
    const std::string& arg = args[i];
    for (std::size_t k = 1; k < arg.size(); ++k) {
      const char c = arg[k];
      if (kShorts.find(c) == std::string_view::npos)
        throw UsageError{fmt::format("invalid option -- '{}'", c)};
      if (short_takes_value(c)) {
        std::string value = arg.substr(k + 1);
        if (value.empty()) {
          if (i + 1 >= args.size())
            throw UsageError{fmt::format("option requires an argument -- '{}'", c)};
          value = args[++i];
        }
        apply_short(c, value);
        return;
      }
      apply_short(c, {});
    }
  }

  void apply_short(char c, const std::string& value) {
    Preserve& p = out_.options.preserve;
    switch (c) {
      case 'a':  // -dR --preserve=all
        p = Preserve{true, true, true, true, true};
        out_.options.dereference = false;
        break;
      case 'p':
        p.mode = p.ownership = p.timestamps = true;
        break;
      case 'd':
        p.links = true;
        out_.options.dereference = false;
        break;
      case 'L':
        out_.options.dereference = true;
        break;
      case 'P':
        out_.options.dereference = false;
        out_.options.dereference_roots = false;
        break;
      case 'H':
        out_.options.dereference_roots = true;
        break;
      case 'n':
        out_.options.overwrite = Overwrite::never;
        no_clobber_ = true;
        break;
      case 'f':
        // Replacing is atomic (a new file renamed over the old one), so an existing file that
        // cannot be opened is no obstacle: -f changes nothing but what -n would.
        if (!no_clobber_) out_.options.overwrite = Overwrite::replace;
        break;
      case 'u':
        if (!no_clobber_) out_.options.overwrite = Overwrite::older;
        break;
      case 'x':
        out_.options.one_file_system = true;
        break;
      case 'j':
        out_.jobs = jobs_from(value);
        break;
      case 'v':
        out_.verbose = true;
        out_.options.report_entries = true;
        break;
      case 't':
        if (value.empty()) throw UsageError{"--target-directory: empty value"};
        out_.target_directory = value;
        break;
      case 'T':
        out_.no_target_directory = true;
        break;
      case 'R':
      case 'r':
        break;  // directories are always copied recursively
      default:
        break;
    }
  }

  void apply_long(std::string_view name, const std::optional<std::string>& value) {
    CopyOptions& o = out_.options;
    if (name == "preserve") {
      set(o.preserve, value ? parse_attributes("--preserve", *value) : Attributes{true, true, true, false, false}, true);
    } else if (name == "no-preserve") {
      set(o.preserve, parse_attributes("--no-preserve", *value), false);
    } else if (name == "reflink") {
      o.reflink = value ? reflink_from(*value) : Reflink::always;
    } else if (name == "sparse") {
      o.sparse = sparse_from(*value);
    } else if (name == "split") {
      o.split_size = split_from(*value);
    } else if (name == "engine") {
      out_.engine = engine_from(*value);
    } else if (name == "verify") {
      out_.verify = true;
    } else if (name == "progress") {
      out_.progress = CopyCommand::Progress::on;
    } else if (name == "no-progress") {
      out_.progress = CopyCommand::Progress::off;
    } else if (name == "fsync") {
      out_.fsync = true;
    } else if (name == "dry-run") {
      o.dry_run = true;
      o.report_entries = true;
    } else if (name == "json") {
      out_.json = *value;
    } else if (name == "inplace") {
      o.inplace = true;
    }
  }

  CopyCommand& out_;
  bool ended_ = false;
  bool no_clobber_ = false;
};

}  // namespace

CopyParse parse_copy_command(const std::vector<std::string>& args, CopyCommand& out) {
  out = CopyCommand{};
  try {
    Parser parser(out);
    if (auto done = parser.parse(args)) return *done;
  } catch (const UsageError& e) {
    return {CopyParse::Kind::usage_error, e.message};
  }
  if (out.no_target_directory && !out.target_directory.empty())
    return {CopyParse::Kind::usage_error,
            "cannot combine --target-directory (-t) and --no-target-directory (-T)"};
  if (out.operands.empty()) return {CopyParse::Kind::usage_error, "missing file operand"};
  if (out.target_directory.empty() && out.operands.size() == 1)
    return {CopyParse::Kind::usage_error,
            fmt::format("missing destination file operand after '{}'", out.operands.front())};
  if (out.no_target_directory && out.operands.size() > 2)
    return {CopyParse::Kind::usage_error, fmt::format("extra operand '{}'", out.operands[2])};
  if (out.options.reflink == Reflink::always && out.options.sparse != Sparse::automatic)
    return {CopyParse::Kind::usage_error, "--reflink=always goes only with --sparse=auto"};
  return {};
}

std::string copy_help() {
  return R"(Usage: concurrent_copy copy [OPTION]... [-T] SOURCE DEST
  or:  concurrent_copy copy [OPTION]... SOURCE... DIRECTORY
  or:  concurrent_copy copy [OPTION]... -t DIRECTORY SOURCE...
Copy SOURCE to DEST, or several SOURCEs into DIRECTORY, with one of concurrent_copy's engines.
Directories are copied recursively (-r and -R are accepted and change nothing). Options follow
GNU cp's syntax: -av bundles, --opt=value, -- ends the options.

Like cp:
  -a, --archive                keep everything cp -a keeps: -d and --preserve=all
  -p                           --preserve=mode,ownership,timestamps
  -d                           copy symlinks as symlinks and keep hardlinks (-P --preserve=links)
      --preserve[=LIST]        keep these attributes (default: mode,ownership,timestamps):
                                 mode, ownership, timestamps, xattr (and with it POSIX ACLs),
                                 links (hardlinks), all
      --no-preserve=LIST       do not keep these attributes
  -L, --dereference            follow symlinks in SOURCE
  -P, --no-dereference         copy symlinks as symlinks (the default)
  -H                           follow symlinks given as SOURCE, not those below it
  -n, --no-clobber             keep every destination file that exists
  -f, --force                  replace existing destination files (the default; replacing is
                                 atomic, so a file that cannot be opened is no obstacle)
  -u, --update                 copy only when the source is newer than the destination or the
                                 destination is missing; with -a, running an interrupted copy
                                 again resumes it
  -x, --one-file-system        do not copy what other file systems mounted below SOURCE hold
      --reflink[=WHEN]         clone files (FICLONE) instead of copying their bytes: auto (the
                                 default: where the file system can), always (fail where it
                                 cannot), never; --reflink alone means always
      --sparse=WHEN            holes: auto (a sparse source stays sparse), always (every block of
                                 zeros becomes a hole), never (holes are written as zeros)
  -t, --target-directory=DIR   copy every SOURCE into DIR
  -T, --no-target-directory    DEST is the copy itself, even when it is a directory
  -v, --verbose                print 'SOURCE' -> 'DEST' for every entry copied, on stdout
      --help                   print this help and exit
      --version                print the version and exit

Beyond cp:
      --engine=ENGINE          auto (the default), uring, threads, kernel or uv; auto picks by
                                 the destination's file system (docs/copy.md gives the rule)
  -j, --jobs=N                 the engine's concurrency: threads for threads and kernel
                                 (default 4 per usable CPU), files in flight for uring and uv
                                 (default 16)
      --verify                 after copying, read both sides and compare every byte, and with
                                 -a the metadata kept; a difference is an error naming the file
      --progress, --no-progress  one line on stderr with bytes and files done, the rate and an
                                 estimate of what is left; by default only when stderr is a
                                 terminal (--progress elsewhere: a full line every 5 seconds)
      --fsync                  fdatasync every file before closing it
      --inplace                rewrite existing destination files in place, as cp does, instead
                                 of writing the new content under a temporary name and renaming
                                 it over the old file once complete
      --split=SIZE             under mpirun (concurrent_copy_mpi), files larger than SIZE are
                                 copied in pieces of SIZE by every rank (default 64M; 0: each
                                 file by one rank); one process copies every file whole
      --dry-run                print what would be copied; create nothing
      --json=FILE              write a summary (counts, bytes, seconds, rate, every error) as
                                 JSON to FILE (- = stdout)

A copy that fails for one entry goes on with the rest: each failure is one line
"concurrent_copy: cannot copy 'PATH': REASON", and a last line counts them. A source file that
changes while it is copied is reported, never silently torn. Interrupted (Ctrl-C, SIGTERM), the
copy stops within a second, removes the files it had in progress, keeps what it completed and
says how much that was.

Exit codes: 0 everything copied; 1 something could not be copied (or differs, with --verify);
2 bad usage; 128+N killed by signal N after cleaning up (130 for Ctrl-C, 143 for SIGTERM).
docs/copy.md describes every option, the auto rule and every message.
)";
}

}  // namespace ccopy::cli
