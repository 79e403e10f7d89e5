#include "broker/ClusterSlot.h"

#include <array>

namespace wsr::broker {
namespace {

// The spec's 256-entry table, computed at compile time: one lookup per
// byte (a slot map change recomputes the slot of every channel watched).
constexpr std::array<uint16_t, 256> makeTable() {
  std::array<uint16_t, 256> table{};
  for (unsigned byte = 0; byte < 256; ++byte) {
    auto crc = static_cast<uint16_t>(byte << 8);
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc & 0x8000) != 0 ? static_cast<uint16_t>((crc << 1) ^ 0x1021)
                                : static_cast<uint16_t>(crc << 1);
    }
    table[byte] = crc;
  }
  return table;
}
constexpr std::array<uint16_t, 256> kTable = makeTable();
static_assert(kTable[1] == 0x1021 && kTable[255] == 0x1ef0, "the spec's table");

}  // namespace

uint16_t crc16(std::string_view data) {
  uint16_t crc = 0;
  for (char c : data) {
    const auto index = static_cast<uint8_t>((crc >> 8) ^ static_cast<unsigned char>(c));
    crc = static_cast<uint16_t>((crc << 8) ^ kTable[index]);
  }
  return crc;
}

uint16_t keySlot(std::string_view key) {
  const size_t open = key.find('{');
  if (open != std::string_view::npos) {
    const size_t close = key.find('}', open + 1);
    if (close != std::string_view::npos && close != open + 1) {
      key = key.substr(open + 1, close - open - 1);
    }
  }
  return static_cast<uint16_t>(crc16(key) % kClusterSlots);
}

}  // namespace wsr::broker
