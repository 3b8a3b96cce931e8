// `linux`: a tree shaped like the Linux 6.1 source tree, calibrated to Debian's linux-source-6.1
// (/usr/src/linux-source-6.1.tar.xz, extracted and measured with bench/tree_stats.py; the figures
// and the commands are in docs/trees.md). What is taken from the real tree:
//   - the number of directories at each depth (so the depth distribution is the real one);
//   - the quantile functions of file sizes and of files per directory (57 and 43 knots);
//   - the file types and their shares, their typical sizes and which ones are executable;
//   - the symlinks: 8 to a file in the same directory, 11 to a directory, 37 to a file elsewhere.
// What is modelled: parents are drawn by a Chinese-restaurant process whose affinity (0.12) gives
// the real share of leaf directories (4,023 of 5,096), and files per directory are given to
// directories so that shallow ones tend to hold more (the real mean file depth is 4.65 where a
// depth-blind assignment gives 5.05).
#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include "tree/builder.hpp"
#include "tree/names.hpp"
#include "tree/planners.hpp"
#include "tree/sampling.hpp"
#include "tree/skeleton.hpp"

namespace ccopy::tree {
namespace {

constexpr double kFiles = 78579;
constexpr double kDirectoriesAtDepth[] = {1, 24, 608, 1505, 1383, 835, 287, 233, 164, 56};
constexpr double kSiblingLinks = 8;     // sun8i-a33-et-q8-v1.6.dts -> sun8i-a33-q8-tablet.dts
constexpr double kDirectoryLinks = 11;  // scripts/dtc/include-prefixes/arm -> ../../../arch/...
constexpr double kFarLinks = 37;        // selftests/.../lib.sh -> ../../../net/forwarding/lib.sh
constexpr double kAffinity = 0.12;
constexpr double kDirectoriesWithFiles = 4775;
// How loosely files per directory follow depth: the standard deviation of the noise added to
// -depth before shallow directories are given the larger counts. Calibrated to the real mean
// file depth of 4.65.
constexpr double kDepthNoise = 5.5;
// How loosely sizes follow file types: the noise added to a type's mean log size.
constexpr double kTypeNoise = 1.5;

// Sizes in bytes at cumulative fractions of the real tree's 78,579 files (nearest rank).
constexpr Knot kFileSizes[] = {
    {0.0, 0},           {0.000382, 0},       {0.000383, 1},       {0.001, 14},
    {0.002, 26},        {0.005, 48},         {0.01, 73},          {0.02, 125},
    {0.03, 172},        {0.05, 254},         {0.075, 349},        {0.1, 446},
    {0.15, 687},        {0.2, 959},          {0.25, 1280},        {0.3, 1621},
    {0.35, 2038},       {0.4, 2525},         {0.45, 3129},        {0.5, 3874},
    {0.55, 4787},       {0.6, 5910},         {0.65, 7264},        {0.7, 9044},
    {0.75, 11416},      {0.8, 14833},        {0.85, 19906},       {0.9, 28759},
    {0.95, 48093},      {0.96, 55875},       {0.97, 66614},       {0.98, 83945},
    {0.985, 98142},     {0.99, 124858},      {0.992, 140826},     {0.994, 168980},
    {0.996, 221377},    {0.997, 290410},     {0.998, 402767},     {0.9985, 693288},
    {0.9988, 855196},   {0.999, 1120270},    {0.9991, 1235340},   {0.9992, 1336648},
    {0.9993, 1486409},  {0.9994, 1628028},   {0.9995, 2103101},   {0.9996, 3509832},
    {0.9997, 5179756},  {0.99975, 6013406},  {0.9998, 6585844},   {0.99985, 7205864},
    {0.9999, 11394491}, {0.99993, 12839488}, {0.99996, 14373916}, {0.99998, 16730577},
    {1.0, 23944620}};

// Files per directory, as (cumulative fraction of the 5,096 directories, count + 1): a value
// floored in [F(k-1), F(k)) is exactly k for the small counts, then the tail's quantiles.
constexpr Knot kFilesPerDirectory[] = {
    {0.0, 0},      {0.06299, 1},  {0.14325, 2},  {0.23587, 3},  {0.33242, 4},  {0.41405, 5},
    {0.47684, 6},  {0.53022, 7},  {0.57830, 8},  {0.61774, 9},  {0.65149, 10}, {0.68093, 11},
    {0.70742, 12}, {0.72527, 13}, {0.74097, 14}, {0.75491, 15}, {0.77198, 16}, {0.78552, 17},
    {0.79867, 18}, {0.81064, 19}, {0.81829, 20}, {0.82928, 21}, {0.83772, 22}, {0.84674, 23},
    {0.85322, 24}, {0.86068, 25}, {0.9, 33},     {0.92, 40},    {0.94, 48},    {0.95, 53},
    {0.96, 63},    {0.97, 79},    {0.98, 105},   {0.985, 126},  {0.99, 157},   {0.993, 188},
    {0.995, 211},  {0.997, 269},  {0.998, 329},  {0.999, 485},  {0.9995, 596}, {0.9998, 1402},
    {1.0, 2542}};

// A file type: a suffix after a composed name (".c"), or a whole name ("Makefile"); its count in
// the real tree, the mean of ln(size + 1) of its files, and the share of them that is executable.
// A whole name is at most once in a directory: a directory holds it with probability its count
// over the real tree's 4,775 directories that hold files (a Makefile in 58% of them).
struct FileType {
  std::string_view text;
  bool whole_name;
  double count;
  float log_size;
  double executable;
};

constexpr FileType kFileTypes[] = {
    {".c", false, 32004, 9.09f, 0},
    {".h", false, 23401, 7.85f, 0},
    {".rst", false, 3249, 8.08f, 0},
    {".yaml", false, 2984, 7.63f, 0},
    {"Makefile", true, 2784, 5.92f, 0},
    {".dts", false, 2618, 7.66f, 0},
    {".txt", false, 2082, 7.17f, 0},
    {".dtsi", false, 1897, 8.3f, 0},
    {"Kconfig", true, 1627, 7.2f, 0},
    {"", false, 1423, 6.98f, 94.0 / 1423},
    {".S", false, 1322, 7.89f, 0},
    {".sh", false, 757, 7.65f, 646.0 / 757},
    {".json", false, 598, 8.62f, 0},
    {".gitignore", true, 306, 4.25f, 0},
    {".py", false, 144, 8.08f, 38.0 / 144},
    {"Kbuild", true, 134, 5.39f, 0},
    {".tc", false, 101, 6.72f, 0},
    {".config", false, 84, 5.24f, 0},
    {"Build", true, 79, 4.68f, 0},
    {".svg", false, 74, 9.96f, 0},
    {".cocci", false, 72, 7.53f, 0},
    {"README", true, 58, 7.38f, 0},
    {"TODO", true, 57, 6.19f, 0},
    {".pl", false, 49, 8.95f, 29.0 / 49},
    {".litmus", false, 38, 6.28f, 0},
    {".boot", false, 32, 7.0f, 0},
    {".bconf", false, 30, 7.0f, 0},
    {".debug", false, 29, 6.0f, 0},
    {".rs", false, 29, 8.5f, 0},
    {".log", false, 22, 7.5f, 0},
    {".tbl", false, 21, 8.5f, 0},
    {".conf", false, 20, 6.5f, 0},
    {".dot", false, 18, 7.0f, 0},
    {".asn1", false, 16, 6.5f, 0},
    {".xsl", false, 15, 7.5f, 0},
    {".cfg", false, 15, 6.5f, 0},
    // The remaining 390 files of the real tree carry dozens of rarer suffixes.
    {".lds", false, 65, 7.5f, 0},
    {".awk", false, 65, 7.5f, 0},
    {".xml", false, 65, 7.5f, 0},
    {".in", false, 65, 7.5f, 0},
    {".y", false, 65, 8.5f, 0},
    {".bin", false, 65, 8.5f, 0},
};

constexpr std::string_view kWords[] = {
    "acpi",     "amd",  "arm",    "audio", "bcm",     "blk",   "bpf",    "bus",      "cache",
    "can",      "cdc",  "cgroup", "chip",  "clk",     "codec", "common", "core",     "cpu",
    "crypto",   "ctrl", "debug",  "dev",   "dma",     "drm",   "dsa",    "dsp",      "edac",
    "efi",      "eth",  "ext4",   "fault", "fb",      "fs",    "fw",     "gpio",     "gpu",
    "hash",     "hda",  "hdmi",   "hid",   "host",    "hw",    "i2c",    "i915",     "idle",
    "iio",      "imx",  "init",   "input", "intel",   "io",    "iommu",  "ipc",      "ipv4",
    "ipv6",     "irq",  "kvm",    "led",   "lib",     "link",  "lock",   "mac",      "main",
    "mbox",     "mdio", "media",  "mem",   "mfd",     "misc",  "mlx5",   "mm",       "mmc",
    "mtd",      "mux",  "net",    "nfs",   "nvme",    "of",    "omap",   "ops",      "page",
    "panel",    "pci",  "pcm",    "perf",  "phy",     "pin",   "pm",     "power",    "probe",
    "proc",     "ptp",  "pwm",    "qcom",  "queue",   "rcu",   "reg",    "regmap",   "reset",
    "ring",     "rtc",  "sata",   "sched", "scsi",    "sdhci", "serial", "setup",    "slab",
    "smp",      "snd",  "soc",    "sock",  "spi",     "stat",  "sun8i",  "swap",     "sync",
    "sys",      "tcp",  "tegra",  "test",  "thermal", "time",  "timer",  "tpm",      "trace",
    "tty",      "uart", "udp",    "usb",   "util",    "vfio",  "video",  "virtio",   "vm",
    "watchdog", "wifi", "x86",    "xdp",   "xfs",     "zone",  "ath",    "rockchip", "exynos",
};

struct Counts {
  std::uint64_t files = 0;
  std::uint64_t sibling_links = 0, directory_links = 0, far_links = 0;
  std::vector<std::uint64_t> per_level;
};

Counts counts_for(double scale) {
  Counts c;
  c.files = scaled(kFiles, scale, 1);
  c.sibling_links = scaled(kSiblingLinks, scale, 1);
  c.directory_links = scaled(kDirectoryLinks, scale, 1);
  c.far_links = scaled(kFarLinks, scale, 1);
  // Every level keeps a directory, so a scaled tree is as deep as the real one.
  for (std::size_t d = 0; d < std::size(kDirectoriesAtDepth); ++d)
    c.per_level.push_back(d == 0 ? 1 : scaled(kDirectoriesAtDepth[d], scale, 1));
  return c;
}

// How many files each directory holds: drawn from the real distribution, shallow directories
// preferred, no leaf left empty (the real tree has no empty directory), the deepest level
// holding at least one file, and `total` in all.
std::vector<std::uint64_t> files_per_directory(const Skeleton& s, std::uint64_t total,
                                               Random& random) {
  const std::size_t n = s.size();
  std::vector<std::uint64_t> drawn =
      stratified(n, random, [](double u) { return table_quantile(kFilesPerDirectory, u); });
  std::vector<float> keys(n);
  for (std::size_t k = 0; k < n; ++k)
    keys[k] = static_cast<float>(-static_cast<double>(s.depth[k]) + kDepthNoise * random.normal());
  std::vector<std::uint64_t> count = assign_by_key(std::move(drawn), keys);
  // Only directories with subdirectories may be without files: swap a leaf's zero with a
  // parent directory's count.
  std::vector<std::size_t> donors;
  for (std::size_t k = 0; k < n; ++k)
    if (s.child_count(k) > 0 && count[k] > 0) donors.push_back(k);
  for (std::size_t k = 0; k < n; ++k) {
    if (s.child_count(k) > 0 || count[k] > 0 || donors.empty()) continue;
    const std::size_t pick = static_cast<std::size_t>(random.below(donors.size()));
    std::swap(count[k], count[donors[pick]]);
    donors[pick] = donors.back();
    donors.pop_back();
  }
  // Scale the counts to `total`, keeping a file in every leaf when there are enough files.
  std::vector<std::uint64_t> minimum(n, 0);
  std::uint64_t leaves = 0;
  for (std::size_t k = 0; k < n; ++k) leaves += s.child_count(k) == 0;
  if (leaves <= total)
    for (std::size_t k = 0; k < n; ++k) minimum[k] = s.child_count(k) == 0 && count[k] > 0;
  std::vector<double> weights(n);
  for (std::size_t k = 0; k < n; ++k) weights[k] = static_cast<double>(count[k] - minimum[k]);
  count = apportion(total, weights, minimum);
  // The deepest directory of all holds a file, so the tree is as deep as the real one.
  const std::size_t deepest = n - 1;
  if (count[deepest] == 0) {
    const auto most =
        static_cast<std::size_t>(std::max_element(count.begin(), count.end()) - count.begin());
    --count[most];
    ++count[deepest];
  }
  return count;
}

std::string directory_name(Random& random) {
  return compose_name(random, kWords, word_count(random, 0.7, 0.25), random.chance(0.5) ? "-" : "_",
                      0.08);
}

// A composed name with a suffix type's suffix ("mlx5_core.c", "sun8i-a33-olinuxino.dts").
std::string file_name(Random& random, const FileType& t) {
  const bool dashed = t.text == ".dts" || t.text == ".yaml" || t.text == ".rst" ||
                      t.text == ".txt" || t.text == ".sh" || t.text == ".json";
  return compose_name(random, kWords, word_count(random, 0.35, 0.45), dashed ? "-" : "_", 0.12) +
         std::string(t.text);
}

struct Planned {
  std::vector<std::uint32_t> file_begin, file_end;  // each directory's files in the manifest
  std::vector<float> size_keys;                     // per file, in manifest order
  std::uint32_t first_file = 0;
};

// Names every directory's subdirectories and files, appending the files.
Planned name_entries(ManifestBuilder& b, const Skeleton& s, std::span<const std::uint64_t> count,
                     Random& random) {
  Planned p;
  p.file_begin.resize(s.size());
  p.file_end.resize(s.size());
  p.first_file = static_cast<std::uint32_t>(b.size());
  std::vector<double> weights;  // of the suffix types; whole names are placed per directory
  for (const FileType& t : kFileTypes) weights.push_back(t.whole_name ? 0 : t.count);
  const WeightedChoice suffixes(weights);
  NameSet used;
  bool any_executable = false;
  auto add = [&](std::size_t k, const std::string& name, const FileType& t) {
    const bool executable = random.chance(t.executable);
    any_executable |= executable;
    b.add_file(static_cast<std::uint32_t>(k), name, 0, executable ? 0755 : 0644);
    p.size_keys.push_back(static_cast<float>(t.log_size + kTypeNoise * random.normal()));
  };
  for (std::size_t k = 0; k < s.size(); ++k) {
    used.clear();
    for (std::uint32_t c = s.child_begin[k]; c < s.child_begin[k + 1]; ++c)
      b.set_name(s.children[c], unique_name(used, [&] { return directory_name(random); }));
    p.file_begin[k] = static_cast<std::uint32_t>(b.size());
    std::uint64_t placed = 0;
    for (const FileType& t : kFileTypes) {
      if (placed == count[k]) break;
      if (!t.whole_name || !random.chance(t.count / kDirectoriesWithFiles)) continue;
      if (!used.insert(t.text)) continue;  // a subdirectory has that name
      add(k, std::string(t.text), t);
      ++placed;
    }
    for (; placed < count[k]; ++placed) {
      const FileType& t = kFileTypes[suffixes.pick(random)];
      add(k, unique_name(used, [&] { return file_name(random, t); }), t);
    }
    p.file_end[k] = static_cast<std::uint32_t>(b.size());
  }
  // A few scripts are executable (814 of the real files): a scaled tree keeps one.
  if (!any_executable && b.size() > p.first_file) b.manifest().entries[p.first_file].mode = 0755;
  return p;
}

void give_sizes(Manifest& m, const Planned& p, Random& random) {
  std::vector<std::uint64_t> sizes = stratified(
      p.size_keys.size(), random, [](double u) { return table_quantile(kFileSizes, u); });
  // The real tree has empty files (30): a scaled tree keeps one.
  if (!sizes.empty()) sizes.front() = 0;
  const std::vector<std::uint64_t> assigned = assign_by_key(std::move(sizes), p.size_keys);
  for (std::size_t i = 0; i < assigned.size(); ++i) {
    ManifestEntry& e = m.entries[p.first_file + i];
    e.size = e.data = assigned[i];
  }
}

// True when `name` is taken in directory `dir`: by a subdirectory, a file or a symlink so far.
bool name_taken(const Manifest& m, const Skeleton& s, const Planned& p, std::uint32_t dir,
                std::string_view name) {
  for (std::uint32_t c = s.child_begin[dir]; c < s.child_begin[dir + 1]; ++c)
    if (m.name(m.entries[s.children[c]]) == name) return true;
  for (std::uint32_t f = p.file_begin[dir]; f < p.file_end[dir]; ++f)
    if (m.name(m.entries[f]) == name) return true;
  for (std::size_t i = p.file_end.back(); i < m.entries.size(); ++i)
    if (m.entries[i].parent == dir && m.name(m.entries[i]) == name) return true;
  return false;
}

std::uint32_t random_file(const Planned& p, std::uint64_t files, Random& random) {
  return p.first_file + static_cast<std::uint32_t>(random.below(files));
}

// "foo.dts" -> "foo-v2.dts": another name for a file in its own directory.
std::string variant_name(std::string_view name, Random& random) {
  const std::size_t dot = name.rfind('.');
  const std::size_t cut = dot == std::string_view::npos || dot == 0 ? name.size() : dot;
  static constexpr std::string_view kTags[] = {"-v2", "-alt", "-old", "-v1.2", "-rev2"};
  return std::string(name.substr(0, cut)) + std::string(kTags[random.below(5)]) +
         std::string(name.substr(cut));
}

// Up to 64 tries to place one link; a crowded small tree may have no room for some.
template <class Try>
void place(Try&& attempt) {
  for (int i = 0; i < 64; ++i)
    if (attempt()) return;
}

void add_symlinks(ManifestBuilder& b, const Skeleton& s, const Planned& p, const Counts& c,
                  Random& random) {
  const Manifest& m = b.manifest();
  const std::uint64_t files = c.files;
  for (std::uint64_t i = 0; i < c.sibling_links; ++i)
    place([&] {
      const std::uint32_t target = random_file(p, files, random);
      const std::uint32_t dir = m.entries[target].parent;
      const std::string name = variant_name(m.name(m.entries[target]), random);
      if (name.size() > 255 || name_taken(m, s, p, dir, name)) return false;
      b.add_symlink(dir, name, std::string(m.name(m.entries[target])));
      return true;
    });
  for (std::uint64_t i = 0; i < c.far_links; ++i)
    place([&] {
      const std::uint32_t target = random_file(p, files, random);
      const auto dir = static_cast<std::uint32_t>(random.below(s.size()));
      const std::string name(m.name(m.entries[target]));
      if (s.depth[dir] < 2 || m.entries[target].parent == dir || name_taken(m, s, p, dir, name))
        return false;
      b.add_symlink(dir, name, relative_target(m, dir, target));
      return true;
    });
  for (std::uint64_t i = 0; i < c.directory_links; ++i)
    place([&] {
      const auto target = static_cast<std::uint32_t>(1 + random.below(s.size() - 1));
      const auto dir = static_cast<std::uint32_t>(random.below(s.size()));
      const std::string name(m.name(m.entries[target]));
      if (s.depth[dir] < 2 || is_ancestor(m, target, dir) || name_taken(m, s, p, dir, name))
        return false;
      b.add_symlink(dir, name, relative_target(m, dir, target));
      return true;
    });
}

}  // namespace

Error plan_linux(const TreeRecipe& recipe, Manifest& out) {
  Random random(recipe.seed ^ 0x6c696e7578ULL);  // "linux": each shape draws its own stream
  const Counts c = counts_for(recipe.scale);
  const Skeleton s = grow_by_level(c.per_level, kAffinity, random);
  const std::vector<std::uint64_t> count = files_per_directory(s, c.files, random);
  ManifestBuilder b(out);
  const std::size_t links = c.sibling_links + c.far_links + c.directory_links;
  b.reserve(s.size() + c.files + links, (s.size() + c.files) * 13 + links * 64);
  for (std::size_t k = 1; k < s.size(); ++k) b.add_directory(s.parent[k], {}, 0755);
  const Planned p = name_entries(b, s, count, random);
  give_sizes(out, p, random);
  add_symlinks(b, s, p, c, random);
  return {};
}

}  // namespace ccopy::tree
