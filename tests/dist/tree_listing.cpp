// tree_listing ROOT [--no-times]: prints listing.hpp's listing of ROOT, for the shell tests that
// compare the copies mpirun's ranks make with the single process's.
#include <cstdio>
#include <cstring>

#include "dist/listing.hpp"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fputs("usage: tree_listing ROOT [--no-times]\n", stderr);
    return 2;
  }
  const bool times = !(argc > 2 && std::strcmp(argv[2], "--no-times") == 0);
  std::fputs(ccopy::testing::tree_listing(argv[1], times).c_str(), stdout);
  return 0;
}
