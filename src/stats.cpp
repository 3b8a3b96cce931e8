#include "ccopy/stats.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace ccopy {
namespace {

std::vector<double> sorted(std::span<const double> values) {
  std::vector<double> copy(values.begin(), values.end());
  std::sort(copy.begin(), copy.end());
  return copy;
}

double median_of_sorted(const std::vector<double>& s) {
  if (s.empty()) return 0;
  const std::size_t mid = s.size() / 2;
  return s.size() % 2 == 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2.0;
}

}  // namespace

double median(std::span<const double> values) { return median_of_sorted(sorted(values)); }

double percentile(std::span<const double> values, double p) {
  if (values.empty()) return 0;
  const std::vector<double> s = sorted(values);
  const double rank = std::clamp(p, 0.0, 100.0) / 100.0 * static_cast<double>(s.size() - 1);
  const auto lower = static_cast<std::size_t>(std::floor(rank));
  const std::size_t upper = std::min(lower + 1, s.size() - 1);
  const double fraction = rank - static_cast<double>(lower);
  return s[lower] + (s[upper] - s[lower]) * fraction;
}

double median_absolute_deviation(std::span<const double> values) {
  const double m = median(values);
  std::vector<double> deviations;
  deviations.reserve(values.size());
  for (double v : values) deviations.push_back(std::fabs(v - m));
  return median(deviations);
}

std::vector<std::size_t> mad_outliers(std::span<const double> values) {
  std::vector<std::size_t> result;
  const double m = median(values);
  const double mad = median_absolute_deviation(values);
  if (mad == 0) return result;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (std::fabs(0.6745 * (values[i] - m) / mad) > 3.5) result.push_back(i);
  }
  return result;
}

Summary summarize(std::span<const double> values) {
  Summary s;
  s.count = values.size();
  if (values.empty()) return s;
  const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
  s.min = *lo;
  s.max = *hi;
  s.mean = std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(s.count);
  if (s.count > 1) {
    double sum = 0;
    for (double v : values) sum += (v - s.mean) * (v - s.mean);
    s.stddev = std::sqrt(sum / static_cast<double>(s.count - 1));
  }
  s.median = median(values);
  s.mad = median_absolute_deviation(values);
  s.outliers = mad_outliers(values);
  return s;
}

}  // namespace ccopy
