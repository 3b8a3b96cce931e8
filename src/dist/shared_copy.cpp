#include "dist/shared_copy.hpp"

#include <fmt/format.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include <fcntl.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <new>
#include <tuple>

#include "dist/deal.hpp"
#include "dist/relay.hpp"
#include "dist/result_codec.hpp"
#include "copy/job.hpp"
#include "sys/sys.hpp"

namespace ccopy::dist {
namespace {

// What each pass lets through to the caller's observer: the entries it is the one to copy.
// Failures and notes go to the relay, which tells them on rank 0 as they happen; without one
// they are in the pass's result, and told once on rank 0 after the merge.
class PassObserver final : public CopyObserver {
 public:
  PassObserver(CopyObserver& to, Relay& relay, bool directories, bool others)
      : to_(to), relay_(relay), directories_(directories), others_(others) {}
  void copied(const CopiedEntry& entry) override {
    if (entry.type == EntryType::directory ? directories_ : others_) to_.copied(entry);
  }
  void failed(const CopyError& error) override {
    if (relay_.live()) relay_.failed(error);
  }
  void note(std::string_view text) override {
    if (relay_.live()) relay_.note(text);
  }

 private:
  CopyObserver& to_;
  Relay& relay_;
  bool directories_;
  bool others_;
};

CopyResult pass(const std::vector<CopyRoot>& roots, Engine& engine,
                const EngineOptions& engine_options, const CopyOptions& options, CopyShare share,
                CopyObserver& observer, CopyProgress* progress) {
  CopyOptions o = options;
  o.share = share;
  CopyResult r = copy_tree(roots, engine, engine_options, o, observer, progress);
  // copy_tree() ends its walk; the shared copy's is over only once the last pass that finds
  // files is (copy_in_passes() says when): until then the progress line's totals say "+".
  if (progress != nullptr) progress->walk_done.store(false);
  return r;
}

bool stops(const CopyResult& r) { return r.cancelled || static_cast<bool>(r.fatal); }

std::string parent_of(const std::string& path) {
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  const std::size_t slash = p.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : p.substr(0, slash);
}

// Every rank's records in `log`, as one list on every rank: grouped by directory (the names
// recorded in pass 2, group_names), or each record as it is, sorted.
std::vector<SharedDirectory> every_ranks_names(Comm& comm, SharedLog& log, bool& readable,
                                               bool group = true) {
  const std::vector<std::string> lists = comm.gather(encode_directories(log.take()), 0);
  std::string bytes;
  if (comm.rank() == 0) {
    std::vector<SharedDirectory> every;
    for (const std::string& list : lists) {
      std::vector<SharedDirectory> part;
      if (!decode_directories(list, part)) bytes = "unreadable";
      for (SharedDirectory& d : part) every.push_back(std::move(d));
    }
    if (!group) std::sort(every.begin(), every.end(), record_before);
    if (bytes.empty()) bytes = encode_directories(group ? group_names(std::move(every)) : every);
  }
  comm.broadcast(bytes, 0);
  std::vector<SharedDirectory> names;
  readable = decode_directories(bytes, names);
  return names;
}

CopyResult unreadable_list(const char* what) {
  CopyResult r;
  r.fatal = Error::failure(fmt::format("the ranks' list of {} cannot be read", what));
  return r;
}

// The record of `log` (sorted, as every_ranks_names gives it ungrouped) for the piece's file.
const SharedDirectory* record_of(const std::vector<SharedDirectory>& records,
                                 const SharedPiece& p) {
  const auto key = std::tie(p.root, p.path, p.name);
  auto at = std::lower_bound(records.begin(), records.end(), key,
                             [](const SharedDirectory& r, const auto& k) {
                               const std::string& name = r.names.empty() ? r.path : r.names[0];
                               return std::tie(r.root, r.path, name) < k;
                             });
  if (at == records.end() || at->names.empty() || at->root != p.root || at->path != p.path ||
      at->names[0] != p.name)
    return nullptr;
  return &*at;
}

// One step of the split files: a copy_tree() of just `pieces` (their files' names as the dealt
// directories), recording in `log` what the next step needs.
CopyResult split_step(const std::vector<CopyRoot>& roots, Engine& engine,
                      const EngineOptions& engine_options, const CopyOptions& options,
                      SplitStep step, const std::vector<SharedPiece>& pieces, SharedLog& log,
                      CopyObserver& observer, Relay& relay, CopyProgress* progress) {
  std::vector<SharedDirectory> names;
  for (const SharedPiece& p : pieces) names.push_back(SharedDirectory{p.root, p.path, 0, {p.name}});
  names = group_names(std::move(names));
  PassObserver tell(observer, relay, false, true);
  CopyShare share{0, 1, false};
  share.directories = &names;
  share.entry_roots = false;
  share.log = &log;
  share.split = step;
  share.pieces = &pieces;
  CopyResult r = pass(roots, engine, engine_options, options, share, tell, progress);
  r.copied.directories = 0;
  return r;
}

// Removes what the create step made for `files` and the commit step did not finish (a rank
// stopped on the way): nothing is left under a temporary name, nor a partial file where none was.
void remove_unfinished(const std::vector<CopyRoot>& roots, const std::vector<SharedPiece>& files,
                       const std::vector<SharedDirectory>& finished) {
  for (const SharedPiece& f : files) {
    if (f.into.empty() || static_cast<copy::Commit>(f.commit) == copy::Commit::inplace) continue;
    if (record_of(finished, f) != nullptr || f.root >= roots.size()) continue;
    const long top = sys::open_directory_at(AT_FDCWD, roots[f.root].destination.c_str(), 0);
    if (top < 0) continue;
    sys::unique_fd dir(static_cast<int>(top));
    if (!f.path.empty()) {
      const long below = sys::open_directory_below(dir.get(), f.path, O_NOFOLLOW);
      if (below < 0) continue;
      dir.reset(static_cast<int>(below));
    }
    (void)sys::remove_at(dir.get(), f.into.c_str(), 0);
  }
}

// The files pass 2 left to split (CopyShare::large): every rank's, in pieces dealt to all
// (deal_pieces). Their owners create and size them, every rank copies its pieces into them,
// and the owners finish each whose pieces are all in, or remove it where one failed.
void copy_split_files(Comm& comm, const std::vector<CopyRoot>& roots, Engine& engine,
                      const EngineOptions& engine_options, const CopyOptions& options,
                      SharedLog& large, CopyObserver& observer, Relay& relay,
                      std::vector<CopyResult>& mine, bool& stopped) {
  CopyProgress* progress = relay.counters();
  const auto rank = static_cast<unsigned>(comm.rank());
  bool readable = false;
  std::vector<SharedDirectory> files = every_ranks_names(comm, large, readable, false);
  if (!readable) {
    mine.push_back(unreadable_list("files to split"));
    stopped = true;
    return;
  }
  if (files.empty()) return;
  PieceDeal deal =
      deal_pieces(std::move(files), options.split_size, static_cast<unsigned>(comm.size()));
  std::vector<SharedPiece>& owned = deal.files[rank];
  std::vector<SharedPiece>& pieces = deal.pieces[rank];

  // The owners create each destination, with its size.
  SharedLog log;
  CopyResult created = split_step(roots, engine, engine_options, options, SplitStep::create,
                                  owned, log, observer, relay, progress);
  stopped = comm.max(stops(created) ? 1 : 0) != 0;
  mine.push_back(std::move(created));
  const std::vector<SharedDirectory> made = every_ranks_names(comm, log, readable, false);
  const auto named = [&](std::vector<SharedPiece>& list) {
    std::vector<SharedPiece> kept;
    for (SharedPiece& p : list) {
      const SharedDirectory* r = record_of(made, p);
      if (r == nullptr || r->names.size() != 2) continue;  // kept, or failed: no pieces
      p.into = r->names[1];
      p.commit = static_cast<std::uint8_t>(r->entries);
      kept.push_back(std::move(p));
    }
    list = std::move(kept);
  };
  named(owned);
  named(pieces);
  if (!readable) {
    mine.push_back(unreadable_list("files created to split"));
    stopped = true;
  }

  // Every rank copies its pieces.
  if (!stopped) {
    CopyResult copied = split_step(roots, engine, engine_options, options, SplitStep::piece,
                                   pieces, log, observer, relay, progress);
    stopped = comm.max(stops(copied) ? 1 : 0) != 0;
    mine.push_back(std::move(copied));
  }
  const std::vector<SharedDirectory> failed = every_ranks_names(comm, log, readable, false);

  // The owners finish their files, or remove those a piece of which failed.
  std::vector<SharedDirectory> finished;
  if (!stopped && readable) {
    for (SharedPiece& f : owned) f.failed = record_of(failed, f) != nullptr;
    CopyResult done = split_step(roots, engine, engine_options, options, SplitStep::commit,
                                 owned, log, observer, relay, progress);
    stopped = comm.max(stops(done) ? 1 : 0) != 0;
    mine.push_back(std::move(done));
    finished = log.take();
    std::sort(finished.begin(), finished.end(), record_before);
  } else if (!readable) {
    mine.push_back(unreadable_list("pieces that failed"));
    stopped = true;
  }
  remove_unfinished(roots, owned, finished);
}

// Passes 1 and 2 of a copy that follows symlinks (-L): rank 0 walks the sources and creates
// every directory, recording each with its count of entries; every rank then reads the
// directories dealt to it (deal.hpp). One walk from the roots finds a symlink that loops back
// to a directory above it (ELOOP); a walk level by level, which opens each directory by its
// path below its root, could not.
void walk_from_rank_zero(Comm& comm, const std::vector<CopyRoot>& roots, Engine& engine,
                         const EngineOptions& engine_options, const CopyOptions& options,
                         CopyShare leaving, CopyObserver& observer, Relay& relay,
                         std::vector<CopyResult>& mine, bool& stopped) {
  const bool first = comm.rank() == 0;
  CopyResult made;
  std::string list;
  if (first) {
    PassObserver tell(observer, relay, true, false);
    SharedLog directories;
    CopyShare share{0, 0, false};
    share.log = &directories;
    made = pass(roots, engine, engine_options, options, share, tell, nullptr);
    list = encode_directories(directories.take());
  }
  stopped = comm.max(stops(made) ? 1 : 0) != 0;
  if (first) mine.push_back(std::move(made));
  comm.broadcast(list, 0);
  if (stopped) return;
  std::vector<SharedDirectory> directories;
  if (!decode_directories(list, directories)) {
    mine.push_back(unreadable_list("directories"));
    stopped = true;
    return;
  }
  list = std::string();
  const std::vector<SharedDirectory> dealt = std::move(
      deal_directories(std::move(directories), static_cast<unsigned>(comm.size()))[
          static_cast<std::size_t>(comm.rank())]);
  PassObserver tell(observer, relay, false, true);
  leaving.directories = &dealt;
  CopyResult copied =
      pass(roots, engine, engine_options, options, leaving, tell, relay.counters());
  copied.copied.directories = 0;
  stopped = comm.max(stops(copied) ? 1 : 0) != 0;
  mine.push_back(std::move(copied));
}

// Passes 1 and 2 of every other copy, level by level: the roots are the first level; each rank
// reads the directories of a level dealt to it (deal.hpp, weighed by their size), copying what
// they hold and creating their subdirectories, which, gathered from every rank, are the next
// level. `levels` gets this rank's deal at each level, for the metadata.
void walk_level_by_level(Comm& comm, const std::vector<CopyRoot>& roots, Engine& engine,
                         const EngineOptions& engine_options, const CopyOptions& options,
                         CopyShare leaving, CopyObserver& observer, Relay& relay,
                         std::vector<CopyResult>& mine, bool& stopped,
                         std::vector<std::vector<SharedDirectory>>& levels) {
  CopyProgress* progress = relay.counters();
  std::vector<SharedDirectory> level;
  for (unsigned r = 0; r < roots.size(); ++r) level.push_back(SharedDirectory{r, "", 0, {}});
  while (!level.empty() && !stopped) {
    levels.push_back(std::move(deal_directories(std::move(level), static_cast<unsigned>(comm.size()))[
        static_cast<std::size_t>(comm.rank())]));
    SharedLog next;
    PassObserver tell(observer, relay, true, true);
    CopyShare share = leaving;
    share.directories = &levels.back();
    share.subdirectories = &next;
    CopyResult copied = pass(roots, engine, engine_options, options, share, tell, progress);
    stopped = comm.max(stops(copied) ? 1 : 0) != 0;
    mine.push_back(std::move(copied));
    bool readable = false;
    level = every_ranks_names(comm, next, readable, false);
    if (!readable) {
      mine.push_back(unreadable_list("directories of a level"));
      stopped = true;
    }
  }
}

CopyResult copy_in_passes(Comm& comm, const std::vector<CopyRoot>& roots, Engine& engine,
                          const EngineOptions& engine_options, const CopyOptions& options,
                          CopyObserver& observer, Relay& relay) {
  CopyProgress* progress = relay.counters();
  const bool first = comm.rank() == 0;
  const auto rank = static_cast<unsigned>(comm.rank());
  const auto ranks = static_cast<unsigned>(comm.size());
  std::vector<CopyResult> mine;

  // Passes 1 and 2: the directories created and read, each by one rank, which copies what they
  // hold but the names with several links (pass 2b) and the files to split (pass 2c).
  SharedLog linked;
  SharedLog large;  // the files to split
  const bool split = options.split_size > 0 && ranks > 1 && !options.dry_run;
  CopyShare leaving{0, 1, false};
  leaving.entry_roots = false;
  leaving.log = &linked;
  if (split) {
    leaving.split_size = options.split_size;
    leaving.large = &large;
  }
  bool stopped = false;
  const bool by_levels = !options.dereference;
  std::vector<std::vector<SharedDirectory>> levels;
  if (by_levels)
    walk_level_by_level(comm, roots, engine, engine_options, options, leaving, observer, relay,
                        mine, stopped, levels);
  else
    walk_from_rank_zero(comm, roots, engine, engine_options, options, leaving, observer, relay,
                        mine, stopped);

  // Pass 2b: every name with several links (and every root that is not a directory), taken by
  // the rank its inode falls to, so that each hardlink group is copied whole by one rank.
  if (!stopped) {
    bool readable = false;
    const std::vector<SharedDirectory> names = every_ranks_names(comm, linked, readable);
    if (!readable) {
      mine.push_back(unreadable_list("names with several links"));
      return merge_results(mine);
    }
    PassObserver tell(observer, relay, false, true);
    CopyShare share{rank, ranks, false};
    share.directories = &names;
    CopyResult copied = pass(roots, engine, engine_options, options, share, tell, progress);
    copied.copied.directories = 0;
    stopped = comm.max(stops(copied) ? 1 : 0) != 0;
    mine.push_back(std::move(copied));
  }

  // Pass 2c: the large files, in pieces by every rank.
  if (!stopped && split)
    copy_split_files(comm, roots, engine, engine_options, options, large, observer, relay, mine,
                     stopped);

  if (progress != nullptr && !stopped) progress->walk_done.store(true);

  // Pass 3: the directories' metadata, once every rank is done writing, deepest first: level by
  // level from the deepest, each directory by the rank that read it; or, after a walk from rank
  // 0, by rank 0's walk of every directory.
  if (!stopped && !options.dry_run && by_levels) {
    for (std::size_t l = levels.size(); l-- > 0 && !stopped;) {
      PassObserver tell(observer, relay, false, false);
      CopyShare share{0, 0, true};
      share.directories = &levels[l];
      share.metadata_only = true;
      CopyResult finished = pass(roots, engine, engine_options, options, share, tell, nullptr);
      finished.copied.directories = 0;
      stopped = comm.max(stops(finished) ? 1 : 0) != 0;
      mine.push_back(std::move(finished));
    }
  } else if (!stopped && first && !options.dry_run) {
    PassObserver tell(observer, relay, false, false);
    CopyResult finished =
        pass(roots, engine, engine_options, options, CopyShare{0, 0, true}, tell, nullptr);
    finished.copied.directories = 0;
    mine.push_back(std::move(finished));
  }
  return merge_results(mine);
}

}  // namespace

std::string identify_path(const std::string& path) {
  std::string at = path.empty() ? "." : path;
  for (int depth = 0; depth < 4096; ++depth) {
    struct ::stat st {};
    if (::lstat(at.c_str(), &st) == 0) {
      struct ::statfs fs {};
      // st_dev of a network file system is numbered by each client in turn, and may differ
      // between the hosts that share it; the file system's id (f_fsid) does not.
      int fsid[2] = {0, 0};
      if (::statfs(at.c_str(), &fs) == 0) std::memcpy(fsid, &fs.f_fsid, sizeof fsid);
      return fmt::format("{}{} fs {:x}:{:x} type {:x} inode {}", at == path ? "" : "parent ", at,
                         static_cast<unsigned>(fsid[0]), static_cast<unsigned>(fsid[1]),
                         static_cast<unsigned long>(fs.f_type), st.st_ino);
    }
    if (errno != ENOENT && errno != ENOTDIR) return fmt::format("{}: {}", at, std::strerror(errno));
    const std::string up = parent_of(at);
    if (up == at) break;
    at = up;
  }
  return fmt::format("{}: not found", path);
}

std::string check_same_roots(Comm& comm, const std::vector<CopyRoot>& roots) {
  std::string mine;
  for (const CopyRoot& root : roots)
    mine += "source " + identify_path(root.source) + "\ndestination " +
            identify_path(root.destination) + "\n";
  const std::string host = comm.host_name();
  std::vector<std::string> all = comm.gather(host + "\n" + mine, 0);
  std::string verdict;
  if (comm.rank() == 0) {
    const std::string& reference = all[0];
    const std::string reference_host = reference.substr(0, reference.find('\n'));
    const std::string reference_view = reference.substr(reference.find('\n') + 1);
    for (std::size_t r = 1; r < all.size() && verdict.empty(); ++r) {
      const std::size_t nl = all[r].find('\n');
      const std::string other_host = all[r].substr(0, nl);
      const std::string view = all[r].substr(nl + 1);
      if (view == reference_view) continue;
      // The first line that differs says which root, and how.
      std::size_t a = 0, b = 0;
      std::string ours, theirs;
      while (a < reference_view.size() && b < view.size()) {
        const std::size_t ea = reference_view.find('\n', a), eb = view.find('\n', b);
        ours = reference_view.substr(a, ea - a);
        theirs = view.substr(b, eb - b);
        if (ours != theirs) break;
        a = ea + 1;
        b = eb + 1;
      }
      verdict = fmt::format(
          "rank {} on host {} does not see what rank 0 on host {} sees ({} there, {} here): "
          "every rank must see the same source and destination (a shared file system, not a "
          "node-local directory)",
          r, other_host, reference_host, theirs, ours);
    }
  }
  comm.broadcast(verdict, 0);
  return verdict;
}

CopyResult copy_tree_shared(Comm& comm, const std::vector<CopyRoot>& roots, Engine& engine,
                            const EngineOptions& engine_options, const CopyOptions& options,
                            CopyObserver& observer, CopyProgress* progress) {
  // Every rank has looked at the destination (cp's "into an existing directory" shapes, the
  // engine --engine auto picks for it) before rank 0 creates it.
  comm.barrier();
  Relay relay(comm, observer, progress);
  // Rank 0 draws the progress line: every rank's walk stats its files, so that the sum of the
  // bytes found is the whole copy's.
  CopyOptions shared = options;
  shared.stat_in_walk = comm.max(options.stat_in_walk ? 1 : 0) != 0;
  CopyResult local;
  try {
    local = copy_in_passes(comm, roots, engine, engine_options, shared, observer, relay);
  } catch (const std::bad_alloc&) {
    local = CopyResult{};
    local.fatal = Error::from_errno(ENOMEM, "copy");
  }
  relay.finish();
  std::string bytes = encode_result(local);
  local = CopyResult{};
  const std::vector<std::string> all = comm.gather(bytes, 0);
  if (comm.rank() == 0) {
    std::vector<CopyResult> parts(all.size());
    for (std::size_t r = 0; r < all.size(); ++r)
      if (!decode_result(all[r], parts[r]))
        parts[r].fatal =
            Error::failure(fmt::format("rank {} sent a result that cannot be read", r));
    const CopyResult merged = merge_results(parts);
    for (const CopyError& e : merged.errors)
      if (!relay.told(e)) observer.failed(e);
    for (const std::string& n : merged.notes)
      if (!relay.told(n)) observer.note(n);
    bytes = encode_result(merged);
  }
  comm.broadcast(bytes, 0);
  CopyResult result;
  if (!decode_result(bytes, result))
    result.fatal = Error::failure("the ranks' result cannot be read");
  return result;
}

}  // namespace ccopy::dist
