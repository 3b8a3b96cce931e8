// `mixed`: the engines' test tree. Small (about 4 MiB of data) and fixed (the scale does not
// apply; the seed only chooses the bytes), it holds every kind of entry a copier must handle:
//   sizes/      files of 0, 1, 4096, 65535, 65536, 65537 bytes and 3 MiB + 17
//   sparse/     1 MiB files with a hole at the start, in the middle, at the end, and all hole
//   links/      symlinks relative, to a sibling, absolute (to a missing path and to "/"),
//               dangling, and to a directory
//   hardlinks/  three names of one file in three directories; two names of one in one directory
//   special/    a FIFO
//   names/      names with a space, a newline, bytes that are not UTF-8, a leading dash, glob
//               characters, and one of exactly 255 bytes
//   modes/      files of modes 0600, 0640, 0755 and 0444, and a 0500 directory with files in it
//   empty/      an empty directory inside an empty directory
//   deep/       24 directories of 200-byte names (a path of about 4,850 bytes, beyond PATH_MAX)
//   with a
//               file and a symlink at the bottom
#include <string>

#include "tree/builder.hpp"
#include "tree/planners.hpp"

namespace ccopy::tree {
namespace {

constexpr std::uint64_t KiB = 1024;
constexpr std::uint64_t MiB = 1024 * KiB;

void add_sizes(ManifestBuilder& b) {
  const std::uint32_t d = b.add_directory(0, "sizes", 0755);
  b.add_file(d, "zero", 0, 0644);
  b.add_file(d, "one", 1, 0644);
  b.add_file(d, "page", 4096, 0644);
  b.add_file(d, "64k-1", 64 * KiB - 1, 0644);
  b.add_file(d, "64k", 64 * KiB, 0644);
  b.add_file(d, "64k+1", 64 * KiB + 1, 0644);
  b.add_file(d, "3m+17", 3 * MiB + 17, 0644);
}

void add_sparse(ManifestBuilder& b) {
  const std::uint32_t d = b.add_directory(0, "sparse", 0755);
  b.add_sparse_file(d, "hole-at-start", MiB, 256 * KiB, Holes::start, 0644);
  b.add_sparse_file(d, "hole-in-middle", MiB, 256 * KiB, Holes::middle, 0644);
  b.add_sparse_file(d, "hole-at-end", MiB, 256 * KiB, Holes::end, 0644);
  b.add_sparse_file(d, "all-hole", MiB, 0, Holes::all, 0644);
}

void add_links(ManifestBuilder& b) {
  const std::uint32_t d = b.add_directory(0, "links", 0755);
  b.add_file(d, "target", 100, 0644);
  b.add_symlink(d, "to-sibling", "target");
  b.add_symlink(d, "relative", "../sizes/page");
  b.add_symlink(d, "absolute", "/nonexistent/absolute/target");
  b.add_symlink(d, "to-root", "/");
  b.add_symlink(d, "dangling", "does-not-exist");
  b.add_symlink(d, "to-directory", "../sizes");
}

void add_hardlinks(ManifestBuilder& b) {
  const std::uint32_t d = b.add_directory(0, "hardlinks", 0755);
  const std::uint32_t a = b.add_directory(d, "a", 0755);
  const std::uint32_t bb = b.add_directory(d, "b", 0755);
  const std::uint32_t c = b.add_directory(d, "c", 0755);
  const std::uint32_t pair = b.add_directory(d, "pair", 0755);
  const std::uint32_t one = b.add_file(a, "one", 5000, 0644);
  b.add_hardlink(bb, "two", one);
  b.add_hardlink(c, "three", one);
  const std::uint32_t first = b.add_file(pair, "first", 3000, 0640);
  b.add_hardlink(pair, "second", first);
}

void add_names(ManifestBuilder& b) {
  const std::uint32_t d = b.add_directory(0, "names", 0755);
  b.add_file(d, "with space", 11, 0644);
  b.add_file(d, "new\nline", 12, 0644);
  b.add_file(d, "\xff\xfe", 13, 0644);
  b.add_file(d, "-leading-dash", 14, 0644);
  b.add_file(d, "glob*?[x]", 15, 0644);
  b.add_file(d, std::string("long-") + std::string(250, 'n'), 16, 0644);
}

void add_modes(ManifestBuilder& b) {
  const std::uint32_t d = b.add_directory(0, "modes", 0755);
  b.add_file(d, "mode-0600", 600, 0600);
  b.add_file(d, "mode-0640", 640, 0640);
  b.add_file(d, "mode-0755", 755, 0755);
  b.add_file(d, "mode-0444", 444, 0444);
  const std::uint32_t ro = b.add_directory(d, "read-only-dir", 0500);
  b.add_file(ro, "inside-1", 1000, 0644);
  b.add_file(ro, "inside-2", 2000, 0644);
}

void add_deep(ManifestBuilder& b) {
  std::uint32_t d = b.add_directory(0, "deep", 0755);
  for (int level = 1; level <= 24; ++level) {
    std::string name = "level-" + std::to_string(100 + level).substr(1) + "-";
    name.resize(200, 'd');
    d = b.add_directory(d, name, 0755);
  }
  b.add_file(d, "file-at-the-bottom", 1234, 0644);
  b.add_symlink(d, "link-at-the-bottom", "file-at-the-bottom");
}

}  // namespace

Error plan_mixed(const TreeRecipe& /*recipe*/, Manifest& out) {
  ManifestBuilder b(out);
  add_sizes(b);
  add_sparse(b);
  add_links(b);
  add_hardlinks(b);
  const std::uint32_t special = b.add_directory(0, "special", 0755);
  b.add_fifo(special, "fifo", 0644);
  add_names(b);
  add_modes(b);
  const std::uint32_t empty = b.add_directory(0, "empty", 0755);
  b.add_directory(empty, "inner-empty", 0755);
  add_deep(b);
  return {};
}

}  // namespace ccopy::tree
