#include <cstdlib>
#include <string>

#include "program.hpp"

namespace ccopy::cli {
namespace {

unsigned number(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return 0;
  char* end = nullptr;
  const unsigned long n = std::strtoul(value, &end, 10);
  return *end == '\0' && n < 1'000'000'000UL ? static_cast<unsigned>(n) : 0;
}

}  // namespace

// Open MPI sets OMPI_COMM_WORLD_SIZE; MPICH's Hydra and Slurm's PMI set PMI_SIZE; a PMIx
// launcher sets PMIX_RANK, which names a second rank when it is above 0.
unsigned launched_ranks() {
  unsigned ranks = 1;
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"})
    if (const unsigned n = number(name); n > ranks) ranks = n;
  if (const unsigned rank = number("PMIX_RANK"); rank + 1 > ranks) ranks = rank + 1;
  return ranks;
}

unsigned launched_rank() {
  for (const char* name : {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK"})
    if (const unsigned n = number(name); n > 0) return n;
  return 0;
}

}  // namespace ccopy::cli
