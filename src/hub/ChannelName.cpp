#include "hub/ChannelName.h"

namespace wsr::hub {
namespace {

// A byte table rather than a chain of comparisons: checked for every
// subscribe and every publication.
struct AllowedBytes {
  bool allowed[256] = {};
  constexpr AllowedBytes() {
    for (char c = 'a'; c <= 'z'; ++c)
      allowed[static_cast<unsigned char>(c)] = true;
    for (char c = 'A'; c <= 'Z'; ++c)
      allowed[static_cast<unsigned char>(c)] = true;
    for (char c = '0'; c <= '9'; ++c)
      allowed[static_cast<unsigned char>(c)] = true;
    for (char c : {'_', '.', ':', '@', '-'})
      allowed[static_cast<unsigned char>(c)] = true;
  }
};
constexpr AllowedBytes kAllowed;

}  // namespace

bool isValidChannelName(std::string_view name) {
  if (name.empty() || name.size() > kMaxChannelNameBytes) return false;
  // An empty namespace (":x") names no settings.
  if (name.front() == ':') return false;
  for (char c : name) {
    if (!kAllowed.allowed[static_cast<unsigned char>(c)]) return false;
  }
  return true;
}

}  // namespace wsr::hub
