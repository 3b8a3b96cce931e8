// Runs a program the way a container with a strict seccomp profile would: io_uring_setup
// fails with EPERM. Usage: deny_io_uring PROGRAM [ARGUMENTS...]
//
// Exits with 77 when the filter cannot be installed (no seccomp in this kernel or sandbox), so
// that tests can skip with that reason; otherwise the program replaces this one.
#include <seccomp.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace {

constexpr int kCannotFilter = 77;

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: deny_io_uring PROGRAM [ARGUMENTS...]\n");
    return 2;
  }
  // libseccomp sets no_new_privs before loading the filter, so no privilege is needed.
  scmp_filter_ctx filter = seccomp_init(SCMP_ACT_ALLOW);
  if (filter == nullptr) {
    std::fprintf(stderr, "deny_io_uring: seccomp_init failed\n");
    return kCannotFilter;
  }
  int rc = seccomp_rule_add(filter, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(io_uring_setup), 0);
  if (rc == 0) rc = seccomp_load(filter);
  seccomp_release(filter);
  if (rc < 0) {
    std::fprintf(stderr, "deny_io_uring: cannot install the seccomp filter: %s\n",
                 std::strerror(-rc));
    return kCannotFilter;
  }
  ::execv(argv[1], argv + 1);
  std::fprintf(stderr, "deny_io_uring: execv %s: %s\n", argv[1], std::strerror(errno));
  return 127;
}
