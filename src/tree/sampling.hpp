// Drawing a shape's numbers: quantile tables, stratified samples, and matching drawn values to
// entries by a noisy preference.
//
// The shapes draw their sizes and counts by stratified sampling: n values of a distribution are
// its quantile function at (i + r_i) / n for i in 0..n-1, one uniform r_i per stratum. The
// resulting multiset has the distribution's percentiles almost exactly at any n, so a tree's
// median, p90 and p99 do not wander with the seed or the scale, and its largest value comes
// from the top stratum: a scaled tree keeps the shape of the distribution it imitates.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "tree/random.hpp"

namespace ccopy::tree {

/// A point of a quantile function: the value below which a fraction `u` of the population lies.
struct Knot {
  double u;
  double value;
};

/// The quantile function through `knots` (u increasing from 0 to 1), interpolated linearly in
/// log(1 + value) between knots: right for sizes and counts that span orders of magnitude.
[[nodiscard]] double table_quantile(std::span<const Knot> knots, double u);

/// `n` values of the distribution whose quantile function is `quantile`, stratified (see the
/// file's comment), each rounded down to an integer; in increasing order.
[[nodiscard]] std::vector<std::uint64_t> stratified(std::uint64_t n, Random& random,
                                                    const std::function<double(double)>& quantile);

/// Gives `values` (any order) to items so that an item with a smaller key gets a smaller value:
/// returns `assigned`, where assigned[i] is item i's value. The keys carry the noise that makes
/// the preference loose (a key is an item's preference plus a random deviate), so the multiset
/// of values is kept exactly while their correlation with the items' kinds is what the keys say.
[[nodiscard]] std::vector<std::uint64_t> assign_by_key(std::vector<std::uint64_t> values,
                                                       std::span<const float> keys);

/// Shuffles `items` in place (Fisher-Yates).
template <class T>
void shuffle(std::vector<T>& items, Random& random) {
  for (std::size_t i = items.size(); i > 1; --i) {
    const std::size_t j = static_cast<std::size_t>(random.below(i));
    std::swap(items[i - 1], items[j]);
  }
}

/// Spreads `total` over items in proportion to `weights` (largest remainders), so the parts add
/// up to `total` exactly. Each item gets at least `minimum[i]` when given (their sum must not
/// exceed `total`).
[[nodiscard]] std::vector<std::uint64_t> apportion(std::uint64_t total,
                                                   std::span<const double> weights,
                                                   std::span<const std::uint64_t> minimum = {});

/// Rounds `count * scale` to the nearest integer, and to at least `minimum`.
[[nodiscard]] std::uint64_t scaled(double count, double scale, std::uint64_t minimum = 0);

/// A choice among weighted alternatives, by the inverse of their cumulative weights.
class WeightedChoice {
 public:
  explicit WeightedChoice(std::span<const double> weights);
  [[nodiscard]] std::size_t pick(Random& random) const;

 private:
  std::vector<double> cumulative_;
};

}  // namespace ccopy::tree
