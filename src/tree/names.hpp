// Plausible names for generated entries: words drawn from a shape's vocabulary.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "tree/builder.hpp"
#include "tree/random.hpp"

namespace ccopy::tree {

/// `words` words of `vocabulary` joined by `separator`, and with probability `digits` a number
/// of one to four digits after the last one ("mlx5_core", "sun8i-a33").
[[nodiscard]] std::string compose_name(Random& random, std::span<const std::string_view> vocabulary,
                                       unsigned words, std::string_view separator, double digits);

/// One, two or three words, with the given probabilities of one and of two words.
[[nodiscard]] unsigned word_count(Random& random, double one, double two);

/// Draws names with `draw` until `used` has not seen one, and returns it (remembered in `used`).
/// After 64 draws the last one gets a numeric suffix until it is new: the loop always ends.
template <class Draw>
std::string unique_name(NameSet& used, Draw&& draw) {
  std::string name;
  for (int attempt = 0; attempt < 64; ++attempt) {
    name = draw();
    if (used.insert(name)) return name;
  }
  for (std::uint64_t n = 2;; ++n) {
    std::string candidate = name + "-" + std::to_string(n);
    if (used.insert(candidate)) return candidate;
  }
}

}  // namespace ccopy::tree
