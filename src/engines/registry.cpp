#include <array>

#include "ccopy/engine.hpp"
#include "engines/engines.hpp"

namespace ccopy {
namespace {

const std::array<EngineInfo, 4> kEngines{{
    {"uring", "one io_uring event loop, one thread (-loops N: N rings); every step on the ring",
     engines::probe_uring, engines::make_uring_engine, OpenFiles::rings_with_pipes},
    {"uv", "one libuv event loop; open/sendfile/close on libuv's thread pool (-pool N)",
     engines::always_available, engines::make_uv_engine, OpenFiles::per_inflight},
    {"threads", "blocking open/read/write/close on OS threads, one per file or -workers N",
     engines::always_available, engines::make_threads_engine, OpenFiles::per_thread},
    {"kernel", "FICLONE, else copy_file_range, else read/write, on threads like 'threads'",
     engines::always_available, engines::make_kernel_engine, OpenFiles::per_thread},
}};

}  // namespace

std::span<const EngineInfo> engine_registry() { return kEngines; }

const EngineInfo* find_engine(std::string_view name) {
  for (const EngineInfo& info : kEngines)
    if (info.name == name) return &info;
  return nullptr;
}

std::string_view kernel_copy_name(KernelCopy mode) {
  switch (mode) {
    case KernelCopy::on:
      return "on";
    case KernelCopy::off:
      return "off";
    case KernelCopy::automatic:
      break;
  }
  return "auto";
}

namespace engines {
Availability always_available() { return {}; }
}  // namespace engines

}  // namespace ccopy
