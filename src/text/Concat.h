#pragma once
// Builds a string from pieces by appending into one buffer: error messages
// without the temporaries of a + chain (and without GCC 12's false -Wrestrict
// on "literal" + std::string).

#include <string>
#include <string_view>

namespace wsr::text {

template <typename... Parts>
std::string concat(const Parts&... parts) {
  std::string text;
  text.reserve((std::string_view(parts).size() + ...));
  (text.append(std::string_view(parts)), ...);
  return text;
}

}  // namespace wsr::text
