// `photos`: a camera's pictures sorted by day, as photo managers lay them out: YEAR/YEAR-MM-DD/
// IMG_1234.JPG, 500 files of 2 to 6 MiB (uniform: what a 12 to 24 megapixel JPEG weighs) in a
// dozen day directories over two years. The camera's counter runs on from day to day, skipping
// the numbers of deleted shots, and wraps from 9999 to 0001.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>

#include "tree/builder.hpp"
#include "tree/planners.hpp"
#include "tree/sampling.hpp"

namespace ccopy::tree {
namespace {

constexpr double kFiles = 500;
constexpr double kDays = 12;
constexpr double kYears = 2;
constexpr std::uint64_t kLastYear = 2024;
constexpr std::uint64_t kSmallest = 2 << 20;
constexpr std::uint64_t kLargest = 6 << 20;

// `days` distinct dates of `year` in increasing order, as day-of-year numbers.
std::vector<unsigned> pick_days(std::uint64_t days, Random& random) {
  std::set<unsigned> chosen;
  while (chosen.size() < std::min<std::uint64_t>(days, 365))
    chosen.insert(static_cast<unsigned>(random.below(365)));
  return {chosen.begin(), chosen.end()};
}

std::string date_name(std::uint64_t year, unsigned day_of_year) {
  static constexpr unsigned kMonthDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  unsigned month = 0;
  while (day_of_year >= kMonthDays[month]) day_of_year -= kMonthDays[month++];
  char name[32];
  std::snprintf(name, sizeof name, "%04llu-%02u-%02u", static_cast<unsigned long long>(year),
                month + 1, day_of_year + 1);
  return name;
}

}  // namespace

Error plan_photos(const TreeRecipe& recipe, Manifest& out) {
  Random random(recipe.seed ^ 0x70686f746f73ULL);  // "photos"
  const std::uint64_t files = scaled(kFiles, recipe.scale, 1);
  const std::uint64_t years = std::min<std::uint64_t>(scaled(kYears, recipe.scale, 1), 1000);
  const std::uint64_t days = std::max(scaled(kDays, recipe.scale, 1), years);
  ManifestBuilder b(out);
  b.reserve(1 + years + days + files, (years + days) * 11 + files * 13);
  std::vector<std::uint32_t> day_dirs;
  for (std::uint64_t y = 0; y < years; ++y) {
    const std::uint64_t year = kLastYear - (years - 1 - y);
    const std::uint32_t year_dir = b.add_directory(0, std::to_string(year), 0755);
    const std::uint64_t in_year = days / years + (y < days % years ? 1 : 0);
    for (unsigned d : pick_days(in_year, random))
      day_dirs.push_back(b.add_directory(year_dir, date_name(year, d), 0755));
  }
  // Some days hold many more pictures than others: weights spread over two orders of magnitude.
  std::vector<double> weights;
  for (std::size_t i = 0; i < day_dirs.size(); ++i)
    weights.push_back(std::exp(1.2 * random.normal()));
  const std::vector<std::uint64_t> per_day = apportion(files, weights);
  std::vector<std::uint64_t> sizes = stratified(files, random, [](double u) {
    return static_cast<double>(kSmallest) + u * static_cast<double>(kLargest - kSmallest);
  });
  shuffle(sizes, random);
  std::uint64_t counter = 1000 + random.below(8000);
  std::size_t next_size = 0;
  char name[32];
  for (std::size_t d = 0; d < day_dirs.size(); ++d) {
    for (std::uint64_t i = 0; i < per_day[d]; ++i) {
      counter += random.chance(0.1) ? 1 + random.below(3) : 1;
      if (counter > 9999) counter -= 9999;
      std::snprintf(name, sizeof name, "IMG_%04llu.JPG", static_cast<unsigned long long>(counter));
      b.add_file(day_dirs[d], name, sizes[next_size++], 0644);
    }
  }
  return {};
}

}  // namespace ccopy::tree
