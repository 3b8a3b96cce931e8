#include "menu_path.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <system_error>

#include "sys/sys.hpp"

namespace ccopy::cli::menu {
namespace {

namespace fs = std::filesystem;

struct Entry {
  std::string name;
  bool directory = false;
};

// The entries of `dir` whose names start with `stem`, sorted by name. Directories are found
// through symlinks, as a shell's completion does.
std::vector<Entry> matching_entries(const std::string& dir, std::string_view stem, PathKind kind) {
  std::vector<Entry> entries;
  std::error_code ec;
  const bool show_hidden = !stem.empty() && stem.front() == '.';
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.compare(0, stem.size(), stem) != 0) continue;
    if (!show_hidden && name.front() == '.') continue;
    std::error_code type_ec;
    const bool directory = it->is_directory(type_ec);
    if (kind == PathKind::directories && !directory) continue;
    entries.push_back({name, directory});
  }
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return a.name < b.name; });
  return entries;
}

std::string common_prefix(const std::vector<Entry>& entries) {
  std::string prefix = entries.front().name;
  for (const Entry& e : entries) {
    std::size_t n = 0;
    while (n < prefix.size() && n < e.name.size() && prefix[n] == e.name[n]) ++n;
    prefix.resize(n);
  }
  return prefix;
}

std::string error_text(const std::string& path, int err) {
  return path + ": " + sys::error_text(err);
}

}  // namespace

std::string expand_home(std::string_view path) {
  if (path.empty() || path.front() != '~' || (path.size() > 1 && path[1] != '/'))
    return std::string(path);
  const char* home = std::getenv("HOME");
  if (home == nullptr || *home == '\0') return std::string(path);
  return std::string(home) + std::string(path.substr(1));
}

Completion complete_path(std::string_view input, PathKind kind) {
  const std::size_t slash = input.rfind('/');
  const std::string_view head =
      slash == std::string_view::npos ? std::string_view{} : input.substr(0, slash + 1);
  const std::string_view stem = slash == std::string_view::npos ? input : input.substr(slash + 1);
  const std::string dir = head.empty() ? std::string(".") : expand_home(head);
  const std::vector<Entry> entries = matching_entries(dir, stem, kind);

  Completion c{std::string(input), entries.size(), {}};
  if (entries.size() == 1) {
    c.text = std::string(head) + entries.front().name + (entries.front().directory ? "/" : "");
    return c;
  }
  if (entries.empty()) return c;
  c.text = std::string(head) + common_prefix(entries);
  for (const Entry& e : entries) c.candidates.push_back(e.name + (e.directory ? "/" : ""));
  return c;
}

std::string check_readable_directory(const std::string& path) {
  if (path.empty()) return "no directory given";
  const std::string real = expand_home(path);
  std::error_code ec;
  const fs::file_status status = fs::status(real, ec);
  if (ec) return error_text(path, ec.value());
  if (!fs::is_directory(status)) return path + ": not a directory";
  if (::access(real.c_str(), R_OK | X_OK) != 0) return error_text(path, errno);
  fs::directory_iterator listing(real, ec);
  if (ec) return error_text(path, ec.value());
  return {};
}

std::string check_writable_directory(const std::string& path) {
  if (path.empty()) return "no directory given";
  if (const long rc = sys::check_writable_directory(expand_home(path)); rc < 0)
    return error_text(path, static_cast<int>(-rc));
  return {};
}

bool lies_inside(const std::string& path, const std::string& tree) {
  const auto resolved = [](const std::string& p) {
    std::error_code ec;
    std::string text = fs::weakly_canonical(expand_home(p), ec).string();
    while (text.size() > 1 && text.back() == '/') text.pop_back();
    return ec ? std::string() : text;
  };
  const std::string inner = resolved(path), outer = resolved(tree);
  if (inner.empty() || outer.empty()) return false;
  if (outer == "/") return true;
  return inner == outer || inner.starts_with(outer + "/");
}

}  // namespace ccopy::cli::menu
