// Statistics against values computed by hand.
#include <gtest/gtest.h>

#include <vector>

#include "ccopy/stats.hpp"

namespace ccopy {
namespace {

TEST(Median, OfAnOddCountIsTheMiddleValue) {
  const std::vector<double> v{5, 1, 3};
  EXPECT_DOUBLE_EQ(median(v), 3);
}

TEST(Median, OfAnEvenCountIsTheMeanOfTheTwoMiddleValues) {
  const std::vector<double> v{4, 1, 3, 10};
  EXPECT_DOUBLE_EQ(median(v), 3.5);
}

TEST(Median, OfNothingIsZero) { EXPECT_DOUBLE_EQ(median(std::vector<double>{}), 0); }

TEST(MedianAbsoluteDeviation, MatchesAHandComputedValue) {
  // median 3; deviations 2 1 0 1 6 -> sorted 0 1 1 2 6 -> MAD 1.
  const std::vector<double> v{1, 2, 3, 4, 9};
  EXPECT_DOUBLE_EQ(median_absolute_deviation(v), 1);
}

TEST(Percentile, InterpolatesBetweenClosestRanks) {
  const std::vector<double> v{10, 20, 30, 40};
  EXPECT_DOUBLE_EQ(percentile(v, 0), 10);
  EXPECT_DOUBLE_EQ(percentile(v, 50), 25);
  EXPECT_DOUBLE_EQ(percentile(v, 90), 37);  // rank 2.7 -> 30 + 0.7 * 10
  EXPECT_DOUBLE_EQ(percentile(v, 100), 40);
  EXPECT_DOUBLE_EQ(percentile(std::vector<double>{7}, 99), 7);
}

TEST(MedianAbsoluteDeviation, OfAnEvenCountAveragesTheMiddleDeviations) {
  // median 2.5; deviations 1.5 .5 .5 7.5 -> sorted .5 .5 1.5 7.5 -> MAD (0.5 + 1.5) / 2 = 1.
  const std::vector<double> v{1, 2, 3, 10};
  EXPECT_DOUBLE_EQ(median_absolute_deviation(v), 1);
}

TEST(Percentile, OnAnOddSetHitsTheRanksExactly) {
  // Five values: ranks 0..4, so p25 is rank 1, p50 rank 2 and p75 rank 3, whatever the order.
  const std::vector<double> v{50, 10, 40, 20, 30};
  EXPECT_DOUBLE_EQ(percentile(v, 25), 20);
  EXPECT_DOUBLE_EQ(percentile(v, 50), 30);
  EXPECT_DOUBLE_EQ(percentile(v, 75), 40);
  EXPECT_DOUBLE_EQ(percentile(v, 99), 49.6);  // rank 3.96 -> 40 + 0.96 * 10
}

TEST(Percentile, OfTwoValuesAndOutOfRangeRequests) {
  const std::vector<double> v{1, 3};
  EXPECT_DOUBLE_EQ(percentile(v, 50), 2);
  EXPECT_DOUBLE_EQ(percentile(v, 90), 2.8);
  EXPECT_DOUBLE_EQ(percentile(v, -5), 1);
  EXPECT_DOUBLE_EQ(percentile(v, 150), 3);
  EXPECT_DOUBLE_EQ(percentile(std::vector<double>{}, 50), 0);
}

TEST(Outliers, AreFlaggedByModifiedZScore) {
  // median 10, MAD 1: 0.6745 * 90 / 1 > 3.5 flags 100; 0.6745 * 2 = 1.35 does not flag 12.
  const std::vector<double> v{9, 10, 11, 10, 12, 100, 8};
  const std::vector<std::size_t> out = mad_outliers(v);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], 5u);
}

TEST(Outliers, NoneWhenEveryValueIsEqual) {
  EXPECT_TRUE(mad_outliers(std::vector<double>{3, 3, 3}).empty());
}

TEST(Summarize, ComputesEveryField) {
  const std::vector<double> v{2, 4, 4, 4, 5, 5, 7, 9};
  const Summary s = summarize(v);
  EXPECT_EQ(s.count, 8u);
  EXPECT_DOUBLE_EQ(s.mean, 5);
  EXPECT_DOUBLE_EQ(s.median, 4.5);
  EXPECT_DOUBLE_EQ(s.min, 2);
  EXPECT_DOUBLE_EQ(s.max, 9);
  // Sum of squared deviations is 32; sample variance 32 / 7.
  EXPECT_NEAR(s.stddev, 2.138089935299395, 1e-12);
  // Deviations from 4.5: 2.5 .5 .5 .5 .5 .5 2.5 4.5 -> median 0.5.
  EXPECT_DOUBLE_EQ(s.mad, 0.5);
}

TEST(Summarize, OfOneSampleHasNoSpread) {
  const Summary s = summarize(std::vector<double>{1.5});
  EXPECT_DOUBLE_EQ(s.median, 1.5);
  EXPECT_DOUBLE_EQ(s.stddev, 0);
  EXPECT_TRUE(s.outliers.empty());
}

// The bootstrap interval of a ratio of medians, on samples whose answer is known.

TEST(BootstrapMedianRatio, SamplesWithoutSpreadHaveNoUncertainty) {
  const std::vector<double> a{10, 10, 10, 10, 10}, b{20, 20, 20, 20, 20};
  const RatioInterval r = bootstrap_median_ratio(a, b);
  EXPECT_DOUBLE_EQ(r.ratio, 2);
  EXPECT_DOUBLE_EQ(r.uncertainty, 0);
  EXPECT_DOUBLE_EQ(r.level, 0.95);
  EXPECT_EQ(r.resamples, 10'000u);
  EXPECT_TRUE(r.excludes_one());
}

TEST(BootstrapMedianRatio, OneSampleAgainstItselfIsWithinTheNoise) {
  const std::vector<double> a{9, 12, 10, 15, 11};
  const RatioInterval r = bootstrap_median_ratio(a, a);
  EXPECT_DOUBLE_EQ(r.ratio, 1);
  EXPECT_GT(r.uncertainty, 0);
  EXPECT_FALSE(r.excludes_one());
}

// Every resampled median lies within its sample's range, so every resampled ratio within
// [min b / max a, max b / min a]: the uncertainty cannot exceed the ratio's distance to either
// end.
TEST(BootstrapMedianRatio, StaysWithinWhatTheSamplesAllow) {
  const std::vector<double> a{10, 11, 9, 10.5, 9.5}, b{20, 22, 18, 21, 19};
  const RatioInterval r = bootstrap_median_ratio(a, b);
  EXPECT_DOUBLE_EQ(r.ratio, 2);
  EXPECT_GT(r.uncertainty, 0);
  EXPECT_LE(r.uncertainty, std::max(2 - 18.0 / 11, 22.0 / 9 - 2));
  EXPECT_TRUE(r.excludes_one()) << r.uncertainty;
}

TEST(BootstrapMedianRatio, InterleavedSamplesAreWithinTheNoise) {
  const std::vector<double> a{10, 12, 14, 16, 18}, b{11, 13, 15, 17, 19};
  const RatioInterval r = bootstrap_median_ratio(a, b);
  EXPECT_DOUBLE_EQ(r.ratio, 15.0 / 14);
  EXPECT_FALSE(r.excludes_one()) << r.uncertainty;
}

TEST(BootstrapMedianRatio, IsReproducibleAndIndependentOfTheSamplesOrder) {
  const std::vector<double> a{10, 12, 9, 30, 11, 10.5}, b{13, 12.5, 14, 15, 40, 13.5};
  const std::vector<double> a_shuffled{30, 10.5, 9, 12, 11, 10},
      b_shuffled{40, 13.5, 12.5, 15, 13, 14};
  const RatioInterval first = bootstrap_median_ratio(a, b);
  const RatioInterval again = bootstrap_median_ratio(a, b);
  const RatioInterval shuffled = bootstrap_median_ratio(a_shuffled, b_shuffled);
  EXPECT_EQ(first.uncertainty, again.uncertainty);
  EXPECT_EQ(first.uncertainty, shuffled.uncertainty);
  EXPECT_EQ(first.ratio, shuffled.ratio);
}

TEST(BootstrapMedianRatio, MoreRunsOfTheSameSpreadNarrowTheInterval) {
  const std::vector<double> a5{9, 9.5, 10, 10.5, 11}, b5{10.5, 11, 11.5, 12, 12.5};
  std::vector<double> a40, b40;
  for (int i = 0; i < 8; ++i) {
    a40.insert(a40.end(), a5.begin(), a5.end());
    b40.insert(b40.end(), b5.begin(), b5.end());
  }
  const RatioInterval few = bootstrap_median_ratio(a5, b5);
  const RatioInterval many = bootstrap_median_ratio(a40, b40);
  EXPECT_DOUBLE_EQ(few.ratio, many.ratio);
  EXPECT_LT(many.uncertainty, few.uncertainty / 2);
  EXPECT_FALSE(few.excludes_one());
  EXPECT_TRUE(many.excludes_one()) << "40 runs a side tell 1.15 from 1";
}

TEST(BootstrapMedianRatio, AHigherLevelGivesAWiderInterval) {
  const std::vector<double> a{10, 12, 9, 11, 13, 10}, b{12, 14, 11, 13, 15, 16};
  const double at_50 = bootstrap_median_ratio(a, b, 0.5).uncertainty;
  const double at_95 = bootstrap_median_ratio(a, b, 0.95).uncertainty;
  const double at_99 = bootstrap_median_ratio(a, b, 0.99).uncertainty;
  EXPECT_LT(at_50, at_95);
  EXPECT_LE(at_95, at_99);
}

// Samples of fewer than two runs have no spread to resample: a ratio, but no interval, and never
// "beyond the noise".
TEST(BootstrapMedianRatio, NeedsTwoValuesASide) {
  const std::vector<double> one{10}, two{20, 21};
  for (const auto& [a, b] : {std::pair{one, two}, std::pair{two, one}}) {
    const RatioInterval r = bootstrap_median_ratio(a, b);
    EXPECT_GT(r.ratio, 0);
    EXPECT_EQ(r.resamples, 0u);
    EXPECT_FALSE(r.excludes_one());
  }
  EXPECT_EQ(bootstrap_median_ratio(std::vector<double>{0, 0}, two).ratio, 0);
}

// With both samples from one distribution, a 95% interval should leave out 1 in about 5% of
// trials. The trials are drawn from a fixed generator, so this is a fixed set of samples: it
// checks the method is not grossly miscalibrated, not a random outcome.
TEST(BootstrapMedianRatio, RarelyCallsSamplesOfOneDistributionDifferent) {
  std::uint64_t state = 12345;
  const auto uniform = [&] {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<double>(state >> 11) / 9007199254740992.0;
  };
  int different = 0;
  constexpr int kTrials = 200;
  for (int t = 0; t < kTrials; ++t) {
    std::vector<double> a, b;
    for (int i = 0; i < 15; ++i) a.push_back(10 + uniform() * 4 + uniform() * uniform() * 10);
    for (int i = 0; i < 15; ++i) b.push_back(10 + uniform() * 4 + uniform() * uniform() * 10);
    different += bootstrap_median_ratio(a, b, 0.95, 2000).excludes_one() ? 1 : 0;
  }
  EXPECT_LE(different, kTrials / 10) << different << " of " << kTrials;
}

// Large samples take fewer resamples, down to 1000, so that a long run's report stays quick.
TEST(BootstrapMedianRatio, BoundsItsWorkOnLargeSamples) {
  std::vector<double> a(10'000), b(10'000);  // 20,000 draws per resample: the cap gives 1000
  for (std::size_t i = 0; i < a.size(); ++i) {
    a[i] = 10 + static_cast<double>(i % 7);
    b[i] = 20 + static_cast<double>(i % 5);
  }
  const RatioInterval r = bootstrap_median_ratio(a, b);
  EXPECT_EQ(r.resamples, 1000u);
  EXPECT_TRUE(r.excludes_one());
}

}  // namespace
}  // namespace ccopy
