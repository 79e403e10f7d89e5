#pragma once
// "(did you mean port?)": the nearest of the known names to a mistyped one,
// for unknown keys and unknown WSROUTER_* variables.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace wsr::config {

// Levenshtein distance: insertions, deletions and substitutions.
size_t editDistance(std::string_view a, std::string_view b);

// "(did you mean <candidate>?)" when one candidate is close to what was
// typed, else empty.
std::string suggestion(std::string_view typed, const std::vector<std::string>& candidates);

}  // namespace wsr::config
