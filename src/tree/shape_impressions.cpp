// `impressions`: a file-system image drawn from the generative model of Agrawal, Arpaci-Dusseau
// and Arpaci-Dusseau, "Generating Realistic Impressions for File-System Benchmarking" (FAST 2009),
// with the parameters of its defaults (the paper's Table 2 and the inputfile Impressions ships):
//   - directories: one per 10.2 files ("Filesperdir: 10.2 N"; Impressions sets Numdirs to
//     Numfiles / Filesperdir), so 980 for 10,000 files, the root included; each new directory's
//     parent is drawn with probability proportional to (its subdirectories + 2) (FAST 2007);
//   - files per directory: 22.5% of the directories hold none, the others k >= 1 with
//     probability proportional to (k + 2.36)^-2, the inverse polynomial of degree 2 and offset
//     2.36 (Impressions' dircountfiles_prob), truncated where the mean reaches 10.2 files per
//     directory; the counts go to directories at random;
//   - file sizes: the hybrid of a lognormal body (mu 9.48, sigma 2.46 in ln bytes) for 99,994
//     files in 100,000 and a Pareto tail (shape 0.91, xm 2^29 = 512 MiB) for the other 6
//     ("FilesizeDistr: 99994 29 0.91"), both cut at 1 GiB; the tail has round(files * 6e-5)
//     files (one at 10,000 files), so the tree's size does not hang on a coin toss;
//   - names: Impressions' own, directories by number and files F<n>.<ext>, with its extension
//     popularity (47% drawn from a long tail of random three-letter extensions).
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "tree/builder.hpp"
#include "tree/planners.hpp"
#include "tree/random.hpp"
#include "tree/sampling.hpp"
#include "tree/skeleton.hpp"

namespace ccopy::tree {
namespace {

constexpr double kFiles = 10000;
constexpr double kFilesPerDirectory = 10.2;
constexpr double kEmptyShare = 0.225;
constexpr double kOffset = 2.36;
constexpr double kBodyShare = 0.99994;
constexpr double kMu = 9.48;
constexpr double kSigma = 2.46;
constexpr double kParetoShape = 0.91;
constexpr double kParetoBase = 536870912.0;  // 2^29
constexpr double kLargest = 1073741824.0;    // 1 GiB

struct Extension {
  std::string_view text;  // "" for none, "*" for a random three-letter one
  double percent;
};
constexpr Extension kExtensions[] = {{"", 6.91},     {".txt", 3.64}, {".jpg", 3.08}, {".exe", 2.88},
                                     {".cpp", 3.26}, {".htm", 4.45}, {".h", 6.69},   {".dll", 6.63},
                                     {".gif", 6.77}, {".pdb", 1.34}, {".pst", 1.0},  {".pch", 1.0},
                                     {".mp3", 1.0},  {".lib", 1.46}, {".wma", 1.0},  {".vhd", 1.0},
                                     {".pdf", 1.0},  {".mpg", 1.0},  {"*", 47.35}};

double body_quantile(double u) {
  static const double top =
      0.5 * std::erfc(-((std::log(kLargest) - kMu) / kSigma) / std::sqrt(2.0));
  return std::exp(kMu + kSigma * normal_quantile(std::clamp(u * top, 1e-15, 1 - 1e-15)));
}

double tail_quantile(double u) {
  const double span = 1 - std::pow(kParetoBase / kLargest, kParetoShape);
  return kParetoBase / std::pow(1 - u * span, 1 / kParetoShape);
}

// The number of files of each non-empty directory, stratified over the inverse polynomial cut
// at the smallest maximum whose mean reaches `mean`.
std::vector<std::uint64_t> nonempty_counts(std::uint64_t dirs, double mean, std::uint64_t cap,
                                           Random& random) {
  std::vector<double> cumulative;
  double weight = 0, moment = 0;
  for (std::uint64_t k = 1; k <= std::max<std::uint64_t>(cap, 1); ++k) {
    const double w = 1 / ((static_cast<double>(k) + kOffset) * (static_cast<double>(k) + kOffset));
    weight += w;
    moment += static_cast<double>(k) * w;
    cumulative.push_back(weight);
    if (moment / weight >= mean) break;
  }
  return stratified(dirs, random, [&](double u) {
    const auto it = std::lower_bound(cumulative.begin(), cumulative.end(), u * weight);
    return static_cast<double>(
        std::min<std::ptrdiff_t>(it - cumulative.begin(),
                                 static_cast<std::ptrdiff_t>(cumulative.size()) - 1) +
        1);
  });
}

std::vector<std::uint64_t> files_per_directory(const Skeleton& s, std::uint64_t files,
                                               Random& random) {
  const std::size_t n = s.size();
  const std::uint64_t empty =
      n < 2 ? 0 : std::max<std::uint64_t>(1, scaled(kEmptyShare, static_cast<double>(n)));
  const std::uint64_t filled = n - empty;
  std::vector<std::uint64_t> count(empty, 0);
  const double mean =
      static_cast<double>(files) / static_cast<double>(std::max<std::uint64_t>(filled, 1));
  for (std::uint64_t c : nonempty_counts(filled, mean, files, random)) count.push_back(c);
  shuffle(count, random);
  // At least one empty directory: give a zero to a leaf when none holds one.
  bool empty_leaf = false;
  for (std::size_t k = 0; k < n; ++k) empty_leaf |= count[k] == 0 && s.child_count(k) == 0;
  if (!empty_leaf && empty > 0)
    for (std::size_t k = n; k-- > 1;)
      if (s.child_count(k) == 0) {
        std::swap(count[k], *std::find(count.begin(), count.end(), 0u));
        break;
      }
  std::vector<std::uint64_t> minimum(n);
  std::vector<double> weights(n);
  for (std::size_t k = 0; k < n; ++k) {
    minimum[k] = count[k] > 0 && filled <= files;
    weights[k] = static_cast<double>(count[k] - minimum[k]);
  }
  return apportion(files, weights, minimum);
}

std::vector<std::uint64_t> file_sizes(std::uint64_t files, Random& random) {
  const std::uint64_t tail = std::min(files, scaled(1 - kBodyShare, static_cast<double>(files)));
  std::vector<std::uint64_t> sizes = stratified(files - tail, random, body_quantile);
  for (std::uint64_t s : stratified(tail, random, tail_quantile)) sizes.push_back(s);
  shuffle(sizes, random);
  return sizes;
}

std::string file_name(std::uint64_t number, const WeightedChoice& extensions, Random& random) {
  // Appended, not "F" + std::to_string(): at -O3, GCC 12 reports a false overlap (-Wrestrict)
  // inside libstdc++ for that.
  std::string name(1, 'F');
  name += std::to_string(number);
  const std::string_view ext = kExtensions[extensions.pick(random)].text;
  if (ext != "*") return name + std::string(ext);
  name += '.';
  for (int i = 0; i < 3; ++i) name += static_cast<char>('a' + random.below(26));
  return name;
}

}  // namespace

Error plan_impressions(const TreeRecipe& recipe, Manifest& out) {
  Random random(recipe.seed ^ 0x696d70726573ULL);  // "impres"
  const std::uint64_t files = scaled(kFiles, recipe.scale, 1);
  const std::uint64_t dirs = scaled(kFiles / kFilesPerDirectory, recipe.scale, 2);
  const Skeleton s = grow_by_preference(dirs, random);
  const std::vector<std::uint64_t> count = files_per_directory(s, files, random);
  const std::vector<std::uint64_t> sizes = file_sizes(files, random);
  std::vector<double> shares;
  for (const Extension& e : kExtensions) shares.push_back(e.percent);
  const WeightedChoice extensions(shares);

  ManifestBuilder b(out);
  b.reserve(dirs + files, dirs * 4 + files * 10);
  for (std::size_t k = 1; k < s.size(); ++k) b.add_directory(s.parent[k], std::to_string(k), 0755);
  std::uint64_t number = 0;
  for (std::size_t k = 0; k < s.size(); ++k)
    for (std::uint64_t i = 0; i < count[k]; ++i, ++number)
      b.add_file(static_cast<std::uint32_t>(k), file_name(number, extensions, random),
                 sizes[number], 0644);
  return {};
}

}  // namespace ccopy::tree
