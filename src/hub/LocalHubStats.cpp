#include "hub/LocalHubStats.h"

namespace wsr::hub {
namespace {

constexpr std::array<std::string_view, kCloseCodeSlots> kCloseCodeLabels = {
    "1000", "1001", "1002", "1006", "1007", "1008",
    "1009", "1011", "4001", "4008", "4029", "other"};

}  // namespace

size_t closeCodeSlot(uint16_t code) {
  for (size_t i = 0; i < kCountedCloseCodes.size(); ++i) {
    if (kCountedCloseCodes[i] == code) return i;
  }
  return kCountedCloseCodes.size();
}

std::string_view closeCodeLabel(size_t slot) {
  return kCloseCodeLabels[slot < kCloseCodeSlots ? slot : kCloseCodeSlots - 1];
}

}  // namespace wsr::hub
