// Names as people and programs read them. File names are bytes: they may hold newlines, quotes
// and bytes that are not UTF-8. Messages quote them as GNU cp does (shell-escape quoting, so a
// name can be pasted back into a shell); the JSON keeps them as valid UTF-8, with a reversible
// escape for what is not.
#pragma once

#include <string>
#include <string_view>

namespace ccopy::cli {

/// 'name' as cp quotes it in messages: 'a b', "it's", 'a'$'\n''b', 'x'$'\377''y'.
[[nodiscard]] std::string quote(std::string_view name);

/// The bytes of a name as valid UTF-8, reversibly: valid UTF-8 sequences as they are, a
/// backslash as two backslashes, and every byte that is not part of a valid sequence as \xHH
/// (two lowercase hex digits). docs/copy.md gives the rule; unescape_name() undoes it.
[[nodiscard]] std::string escape_name(std::string_view bytes);
/// The bytes escape_name() was given.
[[nodiscard]] std::string unescape_name(std::string_view text);

}  // namespace ccopy::cli
