// `concurrent_copy tree`: a generated tree written to a directory of the user's choice.
#include "tree_command.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <filesystem>
#include <optional>
#include <string_view>
#include <system_error>

#include "ccopy/benchmark.hpp"
#include "ccopy/report.hpp"
#include "ccopy/size.hpp"
#include "ccopy/tree.hpp"
#include "exports.hpp"
#include "options.hpp"
#include "sys/sys.hpp"

namespace ccopy::cli {
namespace {

struct TreeArgs {
  std::string shape, directory;
  TreeRecipe recipe;
};

std::string shape_names() {
  std::string text;
  for (const ShapeInfo& s : shapes())
    if (s.shape != Shape::mixed) text += (text.empty() ? "" : ", ") + std::string(s.name);
  return text;
}

// One option's value: "-opt VALUE", "-opt=VALUE", "--opt VALUE" or "--opt=VALUE".
struct UsageProblem {
  std::string text;
};

std::optional<std::string_view> option_value(const std::vector<std::string>& args, std::size_t& i,
                                             std::string_view name) {
  std::string_view arg = args[i];
  if (arg.substr(0, 2) == "--") arg.remove_prefix(2);
  else if (arg.substr(0, 1) == "-") arg.remove_prefix(1);
  else return std::nullopt;
  if (arg == name) {
    if (i + 1 >= args.size()) throw UsageProblem{fmt::format("-{}: a value is needed", name)};
    return std::string_view(args[++i]);
  }
  if (arg.size() > name.size() && arg.substr(0, name.size()) == name && arg[name.size()] == '=')
    return arg.substr(name.size() + 1);
  return std::nullopt;
}

std::uint64_t whole_number(std::string_view name, std::string_view text) {
  std::uint64_t n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size())
    throw UsageProblem{fmt::format("-{}: '{}' is not a whole number", name, text)};
  return n;
}

TreeArgs parse(const std::vector<std::string>& args) {
  TreeArgs out;
  std::vector<std::string> positional;
  bool files_given = false, size_given = false, options_end = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (options_end || args[i] == "-" || args[i].empty() || args[i][0] != '-') {
      positional.push_back(args[i]);
      continue;
    }
    if (args[i] == "--") {
      options_end = true;
      continue;
    }
    if (auto seed = option_value(args, i, "seed")) {
      out.recipe.seed = whole_number("seed", *seed);
    } else if (auto v = option_value(args, i, "tree-scale")) {
      double scale = 0;
      const auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), scale);
      if (v->empty() || ec != std::errc() || end != v->data() + v->size() || !(scale >= 0.001) ||
          !(scale <= 100))
        throw UsageProblem{fmt::format("-tree-scale: '{}' is not a number from 0.001 to 100", *v)};
      out.recipe.scale = scale;
    } else if (auto files = option_value(args, i, "files")) {
      out.recipe.files = whole_number("files", *files);
      files_given = true;
    } else if (auto text = option_value(args, i, "size")) {
      const std::optional<std::uint64_t> size = parse_size(*text);
      if (!size) throw UsageProblem{fmt::format("-size: '{}' is not a size (4K, 1M, 4096)", *text)};
      out.recipe.file_size = *size;
      size_given = true;
    } else {
      throw UsageProblem{fmt::format("unknown option '{}'", args[i])};
    }
  }
  if (positional.size() != 2)
    throw UsageProblem{positional.size() < 2 ? "a SHAPE and a DIR are needed"
                                             : fmt::format("unexpected '{}'", positional[2])};
  out.shape = positional[0];
  out.directory = positional[1];
  const ShapeInfo* info = find_shape(out.shape);
  if (info == nullptr || info->shape == Shape::mixed)
    throw UsageProblem{fmt::format("unknown shape '{}' (expected {})", out.shape, shape_names())};
  out.recipe.shape = info->shape;
  if ((files_given || size_given) && info->shape != Shape::flat)
    throw UsageProblem{"-files and -size go with the flat shape only"};
  if (out.directory.empty()) throw UsageProblem{"DIR: empty value"};
  return out;
}

}  // namespace

std::string tree_help() {
  std::string text =
      "Usage: concurrent_copy tree [OPTIONS] SHAPE DIR\n"
      "\n"
      "Writes the tree the benchmark generates for -tree SHAPE into DIR, which must not exist\n"
      "(its parent must), and keeps it: the same SHAPE, -tree-scale and -seed give the same tree,\n"
      "name for name and byte for byte. Prints what was written on stdout. On an error or a\n"
      "signal, what was written is removed.\n"
      "\n"
      "Shapes: " + shape_names() + "\n"
      "\n"
      "Options:\n"
      "  -tree-scale F   multiply the shape's counts by F (0.001 to 100; default 1)\n"
      "  -seed N         seed of the generated names and data (default 24301, the benchmark's)\n"
      "  -files N        flat only: the number of files (default 50)\n"
      "  -size S         flat only: the size of each file (default 1M)\n"
      "  -h, --help      this text\n";
  return text;
}

int run_tree_command(const std::vector<std::string>& args, const std::atomic<bool>& cancel,
                     void (*say)(const std::string& line)) {
  for (const std::string& a : args)
    if (a == "-h" || a == "-help" || a == "--help") {
      if (std::string problem = write_to_stream("the help text", STDOUT_FILENO, tree_help());
          !problem.empty()) {
        say(problem);
        return exit_failed;
      }
      return exit_ok;
    }
  TreeArgs parsed;
  try {
    parsed = parse(args);
  } catch (const UsageProblem& p) {
    say("tree: " + p.text + "\nTry 'concurrent_copy tree --help' for more information.");
    return exit_usage;
  }

  Manifest manifest;
  if (Error e = plan_tree(parsed.recipe, manifest)) {
    say(e.message());
    return exit_failed;
  }
  const std::filesystem::path path = std::filesystem::absolute(parsed.directory).lexically_normal();
  std::string dir = path.string();
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  const std::string parent = path.has_parent_path() ? path.parent_path().string() : "/";
  const std::string name = std::filesystem::path(dir).filename().string();
  const long parent_fd = sys::open_directory_at(AT_FDCWD, parent.c_str(), 0);
  if (parent_fd < 0) {
    say(fmt::format("cannot open '{}': {}", parent, sys::error_text(static_cast<int>(-parent_fd))));
    return exit_failed;
  }
  const sys::unique_fd parent_dir(static_cast<int>(parent_fd));
  if (::mkdirat(parent_dir.get(), name.c_str(), 0755) != 0) {
    const int err = errno;
    say(fmt::format("cannot create '{}': {}{}", dir, sys::error_text(err),
                    err == EEXIST ? " (the tree goes into a new directory)" : ""));
    return exit_failed;
  }
  const long fd = sys::open_directory_at(parent_dir.get(), name.c_str(), O_NOFOLLOW);
  Error e = fd < 0 ? Error::from_errno(static_cast<int>(-fd), "open " + dir) : Error{};
  if (!e) {
    const sys::unique_fd root(static_cast<int>(fd));
    e = write_tree(manifest, root.get(), parsed.recipe.seed, 2, &cancel, dir);
  }
  if (!e && cancel.load()) e = Error::cancelled("write the tree");
  if (e) {
    if (Error r = remove_tree(parent_dir.get(), name.c_str()))
      say(fmt::format("could not remove the partial tree '{}': {}", dir, r.message()));
    say(e.interrupted ? fmt::format("stopped; the partial tree '{}' was removed", dir) : e.message());
    return exit_failed;
  }
  Scenario scenario;
  scenario.kind = Scenario::Kind::shape;
  scenario.shape = parsed.recipe.shape;
  const long described_fd = sys::open_directory_at(parent_dir.get(), name.c_str(), O_NOFOLLOW);
  if (described_fd >= 0) {
    const sys::unique_fd root(static_cast<int>(described_fd));
    scenario.described = !describe_tree(root.get(), scenario.tree, &cancel);
  }
  std::string text = fmt::format("{}: {} tree, seed {}", dir, parsed.shape, parsed.recipe.seed);
  if (parsed.recipe.shape != Shape::flat && parsed.recipe.scale != 1.0)
    text += fmt::format(", scale {}", parsed.recipe.scale);
  if (scenario.described) text += ": " + tree_text(scenario);
  if (std::string problem = write_to_stream("the tree's description", STDOUT_FILENO, text + "\n");
      !problem.empty()) {
    say(problem);
    return exit_failed;
  }
  return exit_ok;
}

}  // namespace ccopy::cli
