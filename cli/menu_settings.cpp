#include "menu_settings.hpp"

#include <algorithm>
#include <cstdlib>
#include <utility>

#include "ccopy/engine.hpp"
#include "menu_path.hpp"

namespace ccopy::cli::menu {
namespace {

// The Go original's names for its two designs, as -mode spells them (src/modes.cpp maps them
// to these engines; the unit tests check that both agree).
struct OriginalName {
  std::string_view label, engine;
};
constexpr OriginalName kOriginalNames[] = {{"xev", "uring"}, {"goroutine", "threads"}};

EngineRow row_for(const EngineInfo& info, std::string_view label) {
  EngineRow row;
  row.choice = {std::string(label), std::string(info.name)};
  row.summary = std::string(info.summary);
  row.availability = info.probe();
  return row;
}

}  // namespace

std::vector<EngineRow> engine_rows() {
  std::vector<EngineRow> rows;
  for (const OriginalName& name : kOriginalNames)
    if (const EngineInfo* info = find_engine(name.engine))
      rows.push_back(row_for(*info, name.label));
  for (const EngineInfo& info : engine_registry()) {
    const auto same = [&](const EngineRow& r) { return r.choice.engine == info.name; };
    if (std::none_of(rows.begin(), rows.end(), same)) rows.push_back(row_for(info, info.name));
  }
  return rows;
}

Error select_engines(std::string_view mode, std::vector<EngineRow>& rows,
                     std::vector<std::string>& notes) {
  std::vector<EngineChoice> engines;
  if (Error e = resolve_modes(mode, engines, notes)) return e;
  for (EngineRow& row : rows) {
    const auto same = [&](const EngineChoice& c) { return c.engine == row.choice.engine; };
    row.selected = row.availability.available && std::any_of(engines.begin(), engines.end(), same);
  }
  return {};
}

std::vector<EngineChoice> chosen_engines(const std::vector<EngineRow>& rows) {
  std::vector<EngineChoice> engines;
  for (const EngineRow& row : rows)
    if (row.selected) engines.push_back(row.choice);
  return engines;
}

std::vector<DirectoryRow> directory_rows() {
  const char* tmpdir = std::getenv("TMPDIR");
  const bool tmpdir_set = tmpdir != nullptr && *tmpdir != '\0';
  std::vector<DirectoryRow> rows{
      {"/dev/shm", "/dev/shm", {}, false},
      {tmpdir_set ? "$TMPDIR" : "/tmp", tmpdir_set ? tmpdir : "/tmp", {}, false},
      {"typed", {}, {}, true}};
  for (DirectoryRow& row : rows)
    if (!row.typed) row.problem = check_writable_directory(row.path);
  return rows;
}

std::size_t select_directory(const std::string& directory, std::vector<DirectoryRow>& rows) {
  for (std::size_t i = 0; i < rows.size(); ++i)
    if (!rows[i].typed && rows[i].path == directory) return i;
  const auto typed =
      std::find_if(rows.begin(), rows.end(), [](const DirectoryRow& r) { return r.typed; });
  typed->path = directory;
  typed->problem = check_writable_directory(directory);
  return static_cast<std::size_t>(typed - rows.begin());
}

}  // namespace ccopy::cli::menu
