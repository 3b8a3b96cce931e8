#include "exports.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <sstream>
#include <utility>

#include "ccopy/report.hpp"
#include "sys/sys.hpp"

namespace ccopy::cli {

std::vector<Export> requested_exports(const CommandLine& command) {
  std::vector<Export> exports;
  for (const auto& [format, path] :
       {std::pair{"json", &command.json}, std::pair{"csv", &command.csv},
        std::pair{"markdown", &command.markdown}, std::pair{"svg", &command.svg}})
    if (!path->empty()) exports.push_back({fmt::format("-{}", format), format, *path});
  return exports;
}

std::string check_export_paths(const std::vector<Export>& exports) {
  for (const Export& e : exports) {
    if (e.path == "-") continue;
    const std::filesystem::path where = std::filesystem::path(e.path).parent_path();
    const std::string parent = where.empty() ? std::string(".") : where.string();
    if (const long rc = sys::check_writable_directory(parent); rc < 0)
      return fmt::format("{} {}: {}: {}", e.flag, e.path, parent,
                         sys::error_text(static_cast<int>(-rc)));
  }
  return {};
}

std::string write_to_stream(const std::string& what, int fd, const std::string& text) {
  const long rc = sys::write_all(fd, text);
  if (rc == 0) return {};
  return fmt::format("cannot write {} to {}: {}", what, fd == STDERR_FILENO ? "stderr" : "stdout",
                     sys::error_text(static_cast<int>(-rc)));
}

std::string write_output(const std::string& what, const std::string& format,
                         const std::string& path, const BenchmarkResult& result) {
  std::ostringstream text;
  make_writer(format)->write(result, text);
  if (path == "-") return write_to_stream(what, STDOUT_FILENO, text.str());
  if (const long rc = sys::write_file(path, text.str()); rc < 0)
    return fmt::format("cannot write {} {}: {}", what, path,
                       sys::error_text(static_cast<int>(-rc)));
  return {};
}

}  // namespace ccopy::cli
