#include "config/Suggestion.h"

#include <algorithm>
#include <cstdint>

namespace wsr::config {

size_t editDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string suggestion(std::string_view typed, const std::vector<std::string>& candidates) {
  const std::string* best = nullptr;
  size_t bestDistance = SIZE_MAX;
  for (const auto& candidate : candidates) {
    // Close enough: a typo or two, or the key without its unit suffix (interval).
    const size_t distance = editDistance(typed, candidate);
    const bool close = distance <= std::max<size_t>(2, candidate.size() / 3) ||
                       (typed.size() >= 4 && candidate.starts_with(typed));
    if (close && distance < bestDistance) {
      bestDistance = distance;
      best = &candidate;
    }
  }
  return best ? "(did you mean " + *best + "?)" : "";
}

}  // namespace wsr::config
