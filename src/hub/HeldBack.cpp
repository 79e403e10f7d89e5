#include "hub/HeldBack.h"

#include <algorithm>

namespace wsr::hub {

void HeldBack::erase(std::vector<Entry>::iterator it) {
  bytes_ -= it->bytes;
  entries_.erase(it);
}

void HeldBack::forget(const LocalChannel* channel) {
  std::erase_if(entries_, [&](const Entry& entry) {
    if (entry.channel != channel) return false;
    bytes_ -= entry.bytes;
    return true;
  });
}

std::vector<HeldBack::Entry> HeldBack::takeAll() {
  std::vector<Entry> out;
  out.swap(entries_);
  bytes_ = 0;
  return out;
}

}  // namespace wsr::hub
