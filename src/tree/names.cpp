#include "tree/names.hpp"

namespace ccopy::tree {

std::string compose_name(Random& random, std::span<const std::string_view> vocabulary,
                         unsigned words, std::string_view separator, double digits) {
  std::string name;
  for (unsigned i = 0; i < words; ++i) {
    if (i > 0) name += separator;
    name += vocabulary[random.below(vocabulary.size())];
  }
  if (random.chance(digits)) {
    static constexpr std::uint64_t kLimits[] = {10, 100, 1000, 10000};
    name += std::to_string(random.below(kLimits[random.below(4)]));
  }
  return name;
}

unsigned word_count(Random& random, double one, double two) {
  const double u = random.uniform();
  return u < one ? 1u : u < one + two ? 2u : 3u;
}

}  // namespace ccopy::tree
