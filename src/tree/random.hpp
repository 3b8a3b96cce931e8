// The pseudo-random streams of the tree library: the same numbers on every machine and with every
// standard library (no std::*_distribution, whose output is implementation-defined), so that a
// recipe plans the same tree and writes the same bytes everywhere.
#pragma once

#include <cmath>
#include <cstdint>

namespace ccopy::tree {

/// splitmix64: turns a counter into well-mixed words; it seeds Xoshiro256.
inline std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/// xoshiro256** (Blackman and Vigna): fast, and every seed gives its own stream. The same
/// generator fills the benchmark's flat files (src/fileset.cpp), so a flat tree written here
/// holds the bytes the original generator wrote.
class Xoshiro256 {
 public:
  explicit Xoshiro256(std::uint64_t seed) {
    for (auto& word : s_) word = splitmix64(seed);
  }
  std::uint64_t next() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t s_[4]{};
};

/// The seed of the data stream of entry `index` of a tree written with `seed`. For index i+1 it
/// is the seed src/fileset.cpp gives its file i, so `flat` keeps the original's bytes.
inline std::uint64_t file_stream_seed(std::uint64_t seed, std::uint64_t index) {
  return seed ^ (0x9e3779b97f4a7c15ULL * index);
}

/// The planners' source of randomness: uniform numbers, integers and normal deviates.
class Random {
 public:
  explicit Random(std::uint64_t seed) : x_(seed) {}
  /// Uniform in [0, 1), with 53 random bits.
  double uniform() { return static_cast<double>(x_.next() >> 11) * 0x1.0p-53; }
  /// Uniform in [0, n); n > 0. Lemire's multiply-shift, without the rejection step: the bias is
  /// below n / 2^64, far below anything a tree's statistics could show.
  std::uint64_t below(std::uint64_t n) {
    __extension__ using Wide = unsigned __int128;  // GCC and Clang; __extension__: -Wpedantic
    return static_cast<std::uint64_t>((static_cast<Wide>(x_.next()) * n) >> 64);
  }
  /// Uniform in [lo, hi].
  std::uint64_t between(std::uint64_t lo, std::uint64_t hi) { return lo + below(hi - lo + 1); }
  /// True with probability p.
  bool chance(double p) { return uniform() < p; }
  /// A standard normal deviate (Box-Muller; the second value of each pair is dropped, so that
  /// the stream's position does not depend on earlier calls' parity).
  double normal() {
    const double u1 = 1.0 - uniform();  // (0, 1]: log() stays finite
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }

 private:
  Xoshiro256 x_;
};

/// The standard normal distribution's quantile function (Acklam's rational approximation,
/// relative error below 1.2e-9, refined by one Halley step with erfc). p in (0, 1).
inline double normal_quantile(double p) {
  static constexpr double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,
                                 -2.759285104469687e+02, 1.383577518672690e+02,
                                 -3.066479806614716e+01, 2.506628277459239e+00};
  static constexpr double b[] = {-5.447609879822406e+01, 1.615858368580409e+02,
                                 -1.556989798598866e+02, 6.680131188771972e+01,
                                 -1.328068155288572e+01};
  static constexpr double c[] = {-7.784894002430293e-03, -3.223964580411365e-01,
                                 -2.400758277161838e+00, -2.549732539343734e+00,
                                 4.374664141464968e+00,  2.938163982698783e+00};
  static constexpr double d[] = {7.784695709041462e-03, 3.224671290700398e-01,
                                 2.445134137142996e+00, 3.754408661907416e+00};
  double x = 0;
  if (p < 0.02425) {
    const double q = std::sqrt(-2 * std::log(p));
    x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  } else if (p > 1 - 0.02425) {
    const double q = std::sqrt(-2 * std::log(1 - p));
    x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  } else {
    const double q = p - 0.5;
    const double r = q * q;
    x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
        (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  }
  const double e = 0.5 * std::erfc(-x / std::sqrt(2.0)) - p;
  const double u = e * std::sqrt(2 * 3.141592653589793) * std::exp(x * x / 2);
  return x - u / (1 + x * u / 2);
}

}  // namespace ccopy::tree
