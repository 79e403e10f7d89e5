#pragma once
// Trimming, for the parsers of HTTP headers and of secret files.

#include <string_view>

namespace wsr::text {

// Without leading and trailing spaces and tabs (HTTP's optional whitespace).
inline std::string_view trimSpaces(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
    text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t'))
    text.remove_suffix(1);
  return text;
}

// Without leading and trailing ASCII whitespace (a line of a file, CR included).
inline std::string_view trimWhitespace(std::string_view text) {
  constexpr std::string_view kSpace = " \t\r\n\v\f";
  const size_t first = text.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(kSpace) - first + 1);
}

}  // namespace wsr::text
