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

}  // namespace
}  // namespace ccopy
