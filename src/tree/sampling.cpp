#include "tree/sampling.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace ccopy::tree {

double table_quantile(std::span<const Knot> knots, double u) {
  if (u <= knots.front().u) return knots.front().value;
  if (u >= knots.back().u) return knots.back().value;
  const auto after = std::upper_bound(knots.begin(), knots.end(), u,
                                      [](double x, const Knot& k) { return x < k.u; });
  const Knot& hi = *after;
  const Knot& lo = *(after - 1);
  const double t = (u - lo.u) / (hi.u - lo.u);
  const double a = std::log1p(lo.value);
  const double b = std::log1p(hi.value);
  return std::expm1(a + t * (b - a));
}

std::vector<std::uint64_t> stratified(std::uint64_t n, Random& random,
                                      const std::function<double(double)>& quantile) {
  std::vector<std::uint64_t> values;
  values.reserve(n);
  const double width = 1.0 / static_cast<double>(n);
  for (std::uint64_t i = 0; i < n; ++i) {
    const double u = (static_cast<double>(i) + random.uniform()) * width;
    const double v = std::floor(quantile(u));
    values.push_back(v <= 0 ? 0 : static_cast<std::uint64_t>(v));
  }
  // The quantile function is monotone, so the values already increase; sorting guards against
  // rounding at knots.
  std::sort(values.begin(), values.end());
  return values;
}

std::vector<std::uint64_t> assign_by_key(std::vector<std::uint64_t> values,
                                         std::span<const float> keys) {
  std::sort(values.begin(), values.end());
  std::vector<std::uint32_t> order(keys.size());
  std::iota(order.begin(), order.end(), 0u);
  // Ties are broken by index so that the result does not depend on the sort's stability.
  std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
    return keys[a] < keys[b] || (keys[a] == keys[b] && a < b);
  });
  std::vector<std::uint64_t> assigned(keys.size());
  for (std::size_t rank = 0; rank < order.size(); ++rank) assigned[order[rank]] = values[rank];
  return assigned;
}

std::vector<std::uint64_t> apportion(std::uint64_t total, std::span<const double> weights,
                                     std::span<const std::uint64_t> minimum) {
  const std::size_t n = weights.size();
  std::vector<std::uint64_t> parts(n, 0);
  std::uint64_t fixed = 0;
  if (!minimum.empty()) {
    for (std::size_t i = 0; i < n; ++i) parts[i] = minimum[i];
    fixed = std::accumulate(minimum.begin(), minimum.end(), std::uint64_t{0});
  }
  if (n == 0 || fixed >= total) return parts;
  double sum = std::accumulate(weights.begin(), weights.end(), 0.0);
  // Without weights, the parts go evenly to the items that have a minimum (else to all).
  std::vector<double> even;
  if (sum <= 0) {
    for (std::size_t i = 0; i < n; ++i) even.push_back(!minimum.empty() && minimum[i] > 0 ? 1 : 0);
    sum = std::accumulate(even.begin(), even.end(), 0.0);
    if (sum <= 0) std::fill(even.begin(), even.end(), 1.0), sum = static_cast<double>(n);
    weights = even;
  }
  const std::uint64_t spread = total - fixed;
  std::vector<std::pair<double, std::size_t>> remainders;
  remainders.reserve(n);
  std::uint64_t given = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double exact = static_cast<double>(spread) * weights[i] / sum;
    const auto whole = static_cast<std::uint64_t>(std::floor(exact));
    parts[i] += whole;
    given += whole;
    remainders.emplace_back(exact - std::floor(exact), i);
  }
  std::sort(remainders.begin(), remainders.end(), [](const auto& a, const auto& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  });
  for (std::size_t k = 0; given < spread; k = (k + 1) % n, ++given) ++parts[remainders[k].second];
  return parts;
}

std::uint64_t scaled(double count, double scale, std::uint64_t minimum) {
  const double v = std::round(count * scale);
  const auto n = v <= 0 ? std::uint64_t{0} : static_cast<std::uint64_t>(v);
  return std::max(n, minimum);
}

WeightedChoice::WeightedChoice(std::span<const double> weights) {
  cumulative_.reserve(weights.size());
  double sum = 0;
  for (double w : weights) cumulative_.push_back(sum += w);
}

std::size_t WeightedChoice::pick(Random& random) const {
  const double x = random.uniform() * cumulative_.back();
  const auto it = std::upper_bound(cumulative_.begin(), cumulative_.end(), x);
  return std::min(static_cast<std::size_t>(it - cumulative_.begin()), cumulative_.size() - 1);
}

}  // namespace ccopy::tree
