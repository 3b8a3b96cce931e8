// copy_tree(): the phases in order. The walk starts at every root; the engine copies the files
// the walk streams to it (its threads walk when they have nothing to copy); hardlinks are made as
// their first names complete; each directory's metadata is set when its last entry is done, and
// the roots' last of all.
#include "ccopy/copy.hpp"

#include <fmt/format.h>

#include <new>
#include <system_error>

#include "copy/context.hpp"
#include "copy/walk.hpp"
#include "sys/sys.hpp"

namespace ccopy {

std::string CopyError::reason() const {
  // cp's sentences name both paths themselves.
  if (code == 0 && operation == "into itself") return detail;
  if (code == 0 && operation == "same file")
    return "'" + path + "' and '" + destination + "' are the same file";
  std::string text = operation;
  if (!destination.empty()) text += " '" + destination + "'";
  if (code != 0 && !detail.empty()) return text + ": " + detail + " (" + sys::error_text(code) + ")";
  if (code != 0) return text + ": " + sys::error_text(code);
  if (detail.empty()) return text;
  return text.empty() ? detail : text + ": " + detail;
}

void Engine::copy(copy::FileSource& files, copy::FileContext& context,
                  const EngineOptions& options) {
  // Nothing an engine throws (an allocation refused, a thread refused) may escape: it stops the
  // copy, and whatever was in flight is abandoned by the engine's own destructors.
  try {
    run(files, context, options);
  } catch (const std::bad_alloc&) {
    context.fatal(Error::from_errno(ENOMEM, fmt::format("the {} engine", name())));
  } catch (const std::system_error& e) {
    context.fatal(Error::from_errno(e.code().value(), fmt::format("the {} engine", name())));
  } catch (const std::exception& e) {
    context.fatal(Error::failure(fmt::format("the {} engine: {}", name(), e.what())));
  }
  // An engine returns only when the source is finished, unless it stopped early: then the
  // context is stopping, and the walk drops what it still holds.
  copy::FileJob job;
  while (files.next(job, true) == copy::FileSource::Pull::job) {
    if (!context.stopping())
      context.fatal(Error::failure(fmt::format("the {} engine stopped before copying every file",
                                               name())));
    copy::FileOutcome outcome;
    outcome.cancelled = true;
    context.failed_before_plan(job, outcome);
  }
}

CopyResult copy_tree(const std::vector<CopyRoot>& roots, Engine& engine,
                     const EngineOptions& engine_options, const CopyOptions& options,
                     CopyObserver& observer, CopyProgress* progress) {
  try {
    copy::FileContext context(options, observer, progress);
    {
      copy::Walk walk(context);
      for (const CopyRoot& root : roots) walk.add_root(root);
      engine.copy(walk, context, engine_options);
      walk.release_roots();
    }
    return context.take_result();
  } catch (const std::bad_alloc&) {
    CopyResult result;
    result.fatal = Error::from_errno(ENOMEM, "copy");
    return result;
  }
}

}  // namespace ccopy
