// Statistics over repeated measurements: what hyperfine and google/benchmark report.
#pragma once

#include <cstddef>
#include <cstdint>
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

/// The ratio of two medians with its uncertainty: `ratio` +- `uncertainty` is a symmetric
/// bootstrap confidence interval (Hall's symmetric percentile interval) at `level`.
struct RatioInterval {
  double ratio = 0;           ///< median(b) / median(a); 0 when median(a) is not positive
  double uncertainty = 0;     ///< half the width of the interval
  double level = 0;           ///< the confidence level, 0.95 by default
  std::size_t resamples = 0;  ///< 0 when there is no interval (a sample of fewer than 2)

  /// Whether there is an interval and it leaves out 1: a difference beyond the noise of these
  /// samples. False without an interval.
  [[nodiscard]] bool excludes_one() const;
};

/// The bootstrap of median(b) / median(a). Each of `resamples` rounds draws as many values as
/// each sample holds from it, with replacement and independently of the other sample, and takes
/// the ratio of the two medians; `uncertainty` is the `level` quantile of how far those ratios
/// lie from the observed one (|r* - r|). The draws come from a generator with a fixed seed, so
/// the same samples always give the same interval. A sample of fewer than two values, or an `a`
/// with a value that is not positive, gives no interval (`resamples` 0). The rounds are fewer
/// than `resamples`, down to 1000, when the samples are so large that all of them would take
/// more than 20 million draws.
[[nodiscard]] RatioInterval bootstrap_median_ratio(std::span<const double> a,
                                                   std::span<const double> b, double level = 0.95,
                                                   std::size_t resamples = 10'000);

}  // namespace ccopy
