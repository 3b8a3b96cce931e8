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

// SplitMix64 (Steele, Lea and Flood, 2014): a fixed sequence on every platform, which the
// distributions of <random> are not (their algorithms are left to each standard library).
class SplitMix64 {
 public:
  explicit SplitMix64(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // A number below `n`; the modulo's bias, at most n / 2^64, is negligible for any sample.
  std::size_t below(std::size_t n) { return static_cast<std::size_t>(next() % n); }

 private:
  std::uint64_t state_;
};

constexpr std::uint64_t kBootstrapSeed = 0x5eedb007;
constexpr std::size_t kMaxDraws = 20'000'000;
constexpr std::size_t kMinResamples = 1000;

// The median of one resample of `sorted` (drawn with replacement, as many values as it holds):
// the draws are counted per index, and the middle ranks found by walking the counts, so a
// resample costs no sort. `counts` is scratch of sorted.size() entries.
double resampled_median(const std::vector<double>& sorted, SplitMix64& random,
                        std::vector<std::size_t>& counts) {
  const std::size_t n = sorted.size();
  std::fill(counts.begin(), counts.end(), 0);
  for (std::size_t i = 0; i < n; ++i) ++counts[random.below(n)];
  const auto value_at_rank = [&](std::size_t rank) {
    std::size_t seen = 0;
    for (std::size_t i = 0; i < n; ++i) {
      seen += counts[i];
      if (seen > rank) return sorted[i];
    }
    return sorted.back();
  };
  const double upper = value_at_rank(n / 2);
  return n % 2 == 1 ? upper : (value_at_rank(n / 2 - 1) + upper) / 2.0;
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

namespace ccopy {

bool RatioInterval::excludes_one() const {
  return resamples > 0 && std::fabs(ratio - 1.0) > uncertainty;
}

RatioInterval bootstrap_median_ratio(std::span<const double> a, std::span<const double> b,
                                     double level, std::size_t resamples) {
  RatioInterval out;
  const std::vector<double> sa = sorted(a), sb = sorted(b);
  const double median_a = median_of_sorted(sa);
  if (median_a <= 0) return out;
  out.ratio = median_of_sorted(sb) / median_a;
  // A resampled median of `a` can be any of its values: all must be positive for every
  // resampled ratio to be finite.
  if (sa.size() < 2 || sb.size() < 2 || resamples == 0 || sa.front() <= 0) return out;
  const std::size_t draws = sa.size() + sb.size();
  resamples = std::min(resamples, std::max(kMinResamples, kMaxDraws / draws));
  SplitMix64 random(kBootstrapSeed);
  std::vector<std::size_t> counts_a(sa.size()), counts_b(sb.size());
  std::vector<double> deviations;
  deviations.reserve(resamples);
  for (std::size_t i = 0; i < resamples; ++i) {
    const double ma = resampled_median(sa, random, counts_a);
    const double mb = resampled_median(sb, random, counts_b);
    deviations.push_back(std::fabs(mb / ma - out.ratio));
  }
  out.level = level;
  out.resamples = resamples;
  out.uncertainty = percentile(deviations, level * 100.0);
  return out;
}

}  // namespace ccopy
