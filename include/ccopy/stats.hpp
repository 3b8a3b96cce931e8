// Statistics over repeated measurements: what hyperfine and google/benchmark report.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

namespace ccopy {

/// The summary of a set of samples. Empty input gives all zeros.
struct Summary {
  std::size_t count = 0;
  double median = 0;
  double mean = 0;
  double stddev = 0;  ///< sample standard deviation (n - 1); 0 for fewer than two samples
  double min = 0;
  double max = 0;
  double mad = 0;     ///< median absolute deviation from the median (unscaled)
  std::vector<std::size_t> outliers;  ///< indices whose modified z-score exceeds 3.5
};

/// The median: the middle value, or the mean of the two middle values.
[[nodiscard]] double median(std::span<const double> values);
/// The p-th percentile (0 <= p <= 100) by linear interpolation between closest ranks.
[[nodiscard]] double percentile(std::span<const double> values, double p);
/// The median absolute deviation from the median.
[[nodiscard]] double median_absolute_deviation(std::span<const double> values);
/// Indices of outliers: |0.6745 (x - median) / MAD| > 3.5 (Iglewicz and Hoaglin, as hyperfine).
[[nodiscard]] std::vector<std::size_t> mad_outliers(std::span<const double> values);
[[nodiscard]] Summary summarize(std::span<const double> values);

}  // namespace ccopy
