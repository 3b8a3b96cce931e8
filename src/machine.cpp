// The context block: what machine, kernel, build and file system the numbers come from.
#include <sys/utsname.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <fstream>
#include <string>
#include <thread>

#include "build_info.hpp"
#include "ccopy/benchmark.hpp"
#include "sys/sys.hpp"

namespace ccopy {
namespace {

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(' ', colon + 1));
    }
  }
  return "unknown";
}

std::uint64_t memory_bytes() {
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const long page = ::sysconf(_SC_PAGESIZE);
  return pages > 0 && page > 0 ? static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page) : 0;
}

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

}  // namespace

RunContext describe_machine(const std::string& directory, bool cold_cache) {
  RunContext c;
  c.version = build::version;
  c.git_commit = build::git_commit;
  c.build_type = build::build_type;
  c.compiler = build::compiler;
  utsname names{};
  if (::uname(&names) == 0) c.kernel = std::string(names.sysname) + " " + names.release;
  c.cpu_model = cpu_model();
  c.cpus = std::thread::hardware_concurrency();
  const long usable = sys::usable_cpu_count();
  c.usable_cpus = usable > 0 ? static_cast<unsigned>(usable) : c.cpus;
  c.memory_bytes = memory_bytes();
  c.directory = directory;
  c.filesystem = sys::filesystem_type(directory);
  c.date = utc_now();
  c.cold_cache = cold_cache;
  return c;
}

}  // namespace ccopy
