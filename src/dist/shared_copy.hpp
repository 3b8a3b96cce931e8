// copy_tree() by several ranks together (concurrent_copy_mpi, and ThreadComm in the tests), in
// passes of the one copy path, each a copy_tree() call with its own CopyShare:
//
//   1-2. level by level from the roots: every rank computes the same deal of the level's
//      directories (deal.hpp, weighed by their size) and reads only its own, copying their
//      files, symlinks and special files with the chosen engine and creating their
//      subdirectories, which, gathered from every rank, are the next level; names with several
//      links and files larger than --split are recorded instead (with -L, rank 0 first walks
//      and creates every directory, as only a walk from the roots finds loops, and the ranks
//      then read the directories dealt to them);
//   2b. the recorded names are gathered and broadcast, and each is copied by the rank its inode
//      falls to (CopyShare::takes), with the roots that are not directories: all names of one
//      inode fall to one rank, so each rank's hardlink registry keeps the groups whole;
//   2c. the large files in pieces dealt to every rank: their owners create and size them, every
//      rank copies its pieces, the owners finish each file or remove it;
//   3. the directories' metadata, level by level from the deepest, each by the rank that read it
//      (with -L, by rank 0's walk of every directory).
//
// A pass runs only when no rank was cancelled or stopped before it. The ranks' results are then
// gathered, merged (result_codec.hpp) and handed to every rank, so that every rank decides the
// same outcome.
#pragma once

#include <string>
#include <vector>

#include "ccopy/copy.hpp"
#include "dist/comm.hpp"

namespace ccopy::dist {

/// Collective: every rank calls it with the same roots and options. Returns, to every rank,
/// the result of the whole copy. The observer hears, on each rank, the entries that rank
/// copied (with CopyOptions::report_entries), and on rank 0 only every rank's errors and notes,
/// each once, as they happen (relay.hpp; once the copy is over where the Comm has no
/// messages). `progress`, on rank 0, counts the whole copy (where the Comm has no messages,
/// rank 0's share); elsewhere, this rank's share. Never throws.
[[nodiscard]] CopyResult copy_tree_shared(Comm& comm, const std::vector<CopyRoot>& roots,
                                          Engine& engine, const EngineOptions& engine_options,
                                          const CopyOptions& options, CopyObserver& observer,
                                          CopyProgress* progress = nullptr);

/// What one rank sees of a path: the file system's id and the inode of the path, or of its
/// nearest existing parent directory when it does not exist (a destination yet to be made).
[[nodiscard]] std::string identify_path(const std::string& path);

/// Collective: whether every rank sees the same source and destination of every root (as
/// identify_path() tells them), so that the ranks copy one tree into one place and not, say,
/// each into its own node-local /tmp. Empty when they do; otherwise, on every rank, the same
/// message naming the first rank and host that differs from rank 0.
[[nodiscard]] std::string check_same_roots(Comm& comm, const std::vector<CopyRoot>& roots);

}  // namespace ccopy::dist
