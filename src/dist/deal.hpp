// The directories of a shared copy dealt to the ranks, so that each rank reads only its part of
// the tree: rank 0's first walk records every directory with its count of entries
// (CopyShare::log), the list is broadcast, and every rank computes the same deal from it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ccopy/copy.hpp"

namespace ccopy::dist {

/// `directories` dealt into `ranks` lists, each directory to exactly one: largest first (by
/// entries, a directory counting one entry more for its own opening), each to the rank with
/// the fewest entries so far (the lowest rank on a tie), so that no rank has more than the
/// fair share plus one directory's entries. Deterministic: the same list gives every rank the
/// same deal, whatever its order.
[[nodiscard]] std::vector<std::vector<SharedDirectory>> deal_directories(
    std::vector<SharedDirectory> directories, unsigned ranks);

/// The entries (plus one per directory) of one rank's deal: the measure the deal balances.
[[nodiscard]] std::uint64_t dealt_entries(const std::vector<SharedDirectory>& directories);

/// Names recorded one by one (CopyShare::log of a walk of dealt directories) as one entry per
/// directory, its names sorted and each once, the directories in (root, path) order.
[[nodiscard]] std::vector<SharedDirectory> group_names(std::vector<SharedDirectory> names);

/// The order of recorded entries: by (root, path, names), as a list of them is sorted and
/// searched.
[[nodiscard]] bool record_before(const SharedDirectory& a, const SharedDirectory& b);

/// The split files of a shared copy dealt to the ranks in pieces: each file's pieces and its
/// owner (the rank of its first piece, which creates and finishes it), per rank.
struct PieceDeal {
  std::vector<std::vector<SharedPiece>> pieces;  ///< per rank: the pieces it copies
  std::vector<std::vector<SharedPiece>> files;   ///< per rank: the files it owns, whole
};

/// `files` (one name each, `entries` its size, as CopyShare::large records them) cut into pieces
/// of `piece_size` bytes (the last one shorter), dealt round robin to `ranks` in the order of
/// (root, path, name), so that every rank's share of the bytes is within a piece of the fair
/// one. Deterministic; each list sorted by (root, path, name, offset).
[[nodiscard]] PieceDeal deal_pieces(std::vector<SharedDirectory> files, std::uint64_t piece_size,
                                    unsigned ranks);

/// Directories (with their names) as bytes, to broadcast, and back; false for bytes it did not
/// write.
[[nodiscard]] std::string encode_directories(const std::vector<SharedDirectory>& directories);
[[nodiscard]] bool decode_directories(const std::string& bytes, std::vector<SharedDirectory>& out);

}  // namespace ccopy::dist
