#include "dist/shared_verify.hpp"

#include <fmt/format.h>

#include <new>
#include <vector>

#include "dist/result_codec.hpp"

namespace ccopy::dist {

Error verify_copy_shared(Comm& comm, const std::string& source, const std::string& copy,
                         const VerifyOptions& options, VerifyResult& out,
                         const std::atomic<bool>* cancel) {
  out = VerifyResult{};
  Error error;
  VerifyResult verdict;
  std::string outcome;
  try {
    VerifyOptions part = options;
    part.part = static_cast<unsigned>(comm.rank());
    part.parts = static_cast<unsigned>(comm.size());
    error = verify_copy(source, copy, part, verdict, cancel);
    const std::vector<std::string> all =
        comm.gather(comm.host_name() + '\n' + encode_verdict(error, verdict), 0);
    if (comm.rank() == 0) {
      std::vector<VerifyResult> verdicts(all.size());
      Error first;
      for (std::size_t r = 0; r < all.size(); ++r) {
        const std::size_t nl = all[r].find('\n');
        Error e;
        if (nl == std::string::npos || !decode_verdict(all[r].substr(nl + 1), e, verdicts[r]))
          e = Error::failure(fmt::format("verify: rank {} sent a verdict that cannot be read", r));
        if (!first && e) {
          first = r == 0 ? e : Error::failure(fmt::format("rank {} on host {}: {}", r,
                                                           all[r].substr(0, nl), e.message()));
          first.interrupted = e.interrupted;
        }
      }
      outcome = encode_verdict(first, first ? VerifyResult{} : merge_verdicts(verdicts));
    }
  } catch (const std::bad_alloc&) {
    outcome = encode_verdict(Error::from_errno(ENOMEM, "verify the copy"), VerifyResult{});
  }
  comm.broadcast(outcome, 0);
  error = Error{};
  if (!decode_verdict(outcome, error, out))
    return Error::failure("verify: rank 0's verdict cannot be read");
  return error;
}

}  // namespace ccopy::dist
