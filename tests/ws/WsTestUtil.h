#pragma once
// Helpers shared by the ws codec tests: client (masked) frames and a handler
// that records what the parser delivered.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ws/FrameParser.h"

namespace wsr::ws::test {

inline constexpr uint8_t kDefaultMask[4] = {0x37, 0xfa, 0x21, 0x3d};

// A client frame: first byte as given, minimal length encoding, masked with
// `mask` unless `masked` is false.
inline std::string clientFrame(uint8_t firstByte, std::string_view payload, bool masked = true,
                               const uint8_t* mask = kDefaultMask) {
  std::string frame;
  frame += static_cast<char>(firstByte);
  const uint8_t maskBit = masked ? 0x80 : 0x00;
  const uint64_t n = payload.size();
  if (n < 126) {
    frame += static_cast<char>(maskBit | n);
  } else if (n <= 0xFFFF) {
    frame += static_cast<char>(maskBit | 126);
    frame += static_cast<char>(n >> 8);
    frame += static_cast<char>(n & 0xFF);
  } else {
    frame += static_cast<char>(maskBit | 127);
    for (int i = 7; i >= 0; --i)
      frame += static_cast<char>((n >> (8 * i)) & 0xFF);
  }
  if (masked) {
    frame.append(reinterpret_cast<const char*>(mask), 4);
    for (size_t i = 0; i < payload.size(); ++i) {
      frame += static_cast<char>(payload[i] ^ mask[i % 4]);
    }
  } else {
    frame.append(payload);
  }
  return frame;
}

inline std::string bytes(std::initializer_list<int> values) {
  std::string s;
  for (int v : values)
    s += static_cast<char>(v);
  return s;
}

struct Recorder : FrameHandler {
  struct Message {
    std::string payload;
    bool binary;
  };
  std::vector<Message> messages;
  std::vector<std::string> pings;
  std::vector<std::string> pongs;
  std::vector<std::pair<uint16_t, std::string>> closes;
  // Every event in order, to check interleaving: "M:<payload>", "P:", "O:", "C:".
  std::vector<std::string> events;

  void onMessage(std::string_view payload, bool binary) override {
    messages.push_back({std::string(payload), binary});
    events.push_back("M:" + std::string(payload));
  }
  void onPing(std::string_view payload) override {
    pings.emplace_back(payload);
    events.push_back("P:" + std::string(payload));
  }
  void onPong(std::string_view payload) override {
    pongs.emplace_back(payload);
    events.push_back("O:" + std::string(payload));
  }
  void onClose(uint16_t code, std::string_view reason) override {
    closes.emplace_back(code, std::string(reason));
    events.push_back("C:" + std::to_string(code) + ":" + std::string(reason));
  }
};

}  // namespace wsr::ws::test
