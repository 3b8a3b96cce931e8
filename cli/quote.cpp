#include "quote.hpp"

#include <cstdint>

namespace ccopy::cli {
namespace {

// The length of the valid UTF-8 sequence at the start of `s` (1 to 4), or 0 when its first
// byte does not begin one (overlong forms, surrogates and values above U+10FFFF are invalid).
std::size_t utf8_length(std::string_view s) {
  const auto b0 = static_cast<unsigned char>(s[0]);
  if (b0 < 0x80) return 1;
  std::size_t n;
  std::uint32_t min;
  std::uint32_t cp;
  if ((b0 & 0xE0) == 0xC0) {
    n = 2, min = 0x80, cp = b0 & 0x1Fu;
  } else if ((b0 & 0xF0) == 0xE0) {
    n = 3, min = 0x800, cp = b0 & 0x0Fu;
  } else if ((b0 & 0xF8) == 0xF0) {
    n = 4, min = 0x10000, cp = b0 & 0x07u;
  } else {
    return 0;
  }
  if (s.size() < n) return 0;
  for (std::size_t i = 1; i < n; ++i) {
    const auto b = static_cast<unsigned char>(s[i]);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3Fu);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

// A byte that must be written as a $'...' escape: a control character, or not valid UTF-8.
bool needs_escape(std::string_view rest, std::size_t& length) {
  length = utf8_length(rest);
  if (length == 0) {
    length = 1;
    return true;
  }
  const auto b = static_cast<unsigned char>(rest[0]);
  return length == 1 && (b < 0x20 || b == 0x7F);
}

std::string escape_byte(unsigned char b) {
  switch (b) {
    case '\a': return "\\a";
    case '\b': return "\\b";
    case '\t': return "\\t";
    case '\n': return "\\n";
    case '\v': return "\\v";
    case '\f': return "\\f";
    case '\r': return "\\r";
    case 0x1B: return "\\E";
    default: break;
  }
  std::string text = "\\";
  text += static_cast<char>('0' + ((b >> 6) & 7));
  text += static_cast<char>('0' + ((b >> 3) & 7));
  text += static_cast<char>('0' + (b & 7));
  return text;
}

bool has_escapes(std::string_view name) {
  for (std::size_t i = 0; i < name.size();) {
    std::size_t length;
    if (needs_escape(name.substr(i), length)) return true;
    i += length;
  }
  return false;
}

// `name` between two `mark`s, appended piece by piece: at -O3, GCC 12 reports a false overlap
// (-Wrestrict) inside libstdc++ for `"'" + std::string(name)`.
std::string enclosed(char mark, std::string_view name) {
  std::string out;
  out.reserve(name.size() + 2);
  out += mark;
  out += name;
  out += mark;
  return out;
}

}  // namespace

std::string quote(std::string_view name) {
  if (!has_escapes(name)) {
    if (name.find('\'') == std::string_view::npos) return enclosed('\'', name);
    if (name.find_first_of("$`\"\\!") == std::string_view::npos) return enclosed('"', name);
  }
  // Printable runs between single quotes (a quote itself as '\''), the rest as $'...' escapes.
  std::string out;
  bool open = false;
  for (std::size_t i = 0; i < name.size();) {
    std::size_t length;
    if (needs_escape(name.substr(i), length)) {
      if (open) out += '\'';
      open = false;
      out += "$'";
      for (std::size_t j = 0; j < length; ++j) out += escape_byte(static_cast<unsigned char>(name[i + j]));
      out += '\'';
    } else if (name[i] == '\'') {
      if (open) out += '\'';
      open = false;
      out += "\\'";
    } else {
      if (!open) out += '\'';
      open = true;
      out.append(name.substr(i, length));
    }
    i += length;
  }
  if (open) out += '\'';
  if (out.empty()) out = "''";
  return out;
}

std::string escape_name(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size());
  for (std::size_t i = 0; i < bytes.size();) {
    const std::size_t length = utf8_length(bytes.substr(i));
    if (length == 0) {
      const auto b = static_cast<unsigned char>(bytes[i]);
      out += "\\x";
      out += kHex[b >> 4];
      out += kHex[b & 15];
      ++i;
      continue;
    }
    if (bytes[i] == '\\') out += '\\';
    out.append(bytes.substr(i, length));
    i += length;
  }
  return out;
}

std::string unescape_name(std::string_view text) {
  const auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 1 < text.size() && text[i + 1] == '\\') {
      out += '\\';
      ++i;
    } else if (text[i] == '\\' && i + 3 < text.size() && text[i + 1] == 'x' &&
               hex(text[i + 2]) >= 0 && hex(text[i + 3]) >= 0) {
      out += static_cast<char>(hex(text[i + 2]) * 16 + hex(text[i + 3]));
      i += 3;
    } else {
      out += text[i];
    }
  }
  return out;
}

}  // namespace ccopy::cli
