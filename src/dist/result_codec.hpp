// CopyResult as bytes, for the ranks to send one another, and the reduction of the ranks'
// results into the one result of the copy they shared.
#pragma once

#include <string>
#include <vector>

#include "ccopy/copy.hpp"
#include "ccopy/tree.hpp"

namespace ccopy::dist {

/// Every field of `result`, latencies included.
[[nodiscard]] std::string encode_result(const CopyResult& result);
/// The result encode_result() wrote; false (and `out` unspecified) for bytes it did not write.
[[nodiscard]] bool decode_result(const std::string& bytes, CopyResult& out);

/// One error as bytes (a rank's message to rank 0), and back; false for bytes it did not write.
[[nodiscard]] std::string encode_error(const CopyError& error);
[[nodiscard]] bool decode_error(const std::string& bytes, CopyError& out);

/// One rank's part of a shared verification: its verdict, or the Error that stopped it.
[[nodiscard]] std::string encode_verdict(const Error& error, const VerifyResult& verdict);
/// What encode_verdict() wrote; false (and the outputs unspecified) for bytes it did not write.
[[nodiscard]] bool decode_verdict(const std::string& bytes, Error& error, VerifyResult& verdict);

/// The ranks' results as one: counts, failures and latencies summed; errors in rank order with
/// the ones several ranks met (a directory every rank failed to read) kept once and counted
/// once; notes once each; the first rank's fatal error; cancelled when any rank was.
[[nodiscard]] CopyResult merge_results(const std::vector<CopyResult>& parts);

}  // namespace ccopy::dist
