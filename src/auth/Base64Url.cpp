// Strict unpadded base64url: a 256-entry decode table built at compile time.

#include "auth/Base64Url.h"

#include <array>
#include <cstdint>

namespace wsr::auth {
namespace {

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr uint8_t kNotInAlphabet = 0xff;

constexpr std::array<uint8_t, 256> makeDecodeTable() {
  std::array<uint8_t, 256> table{};
  table.fill(kNotInAlphabet);
  for (size_t i = 0; i < kAlphabet.size(); ++i)
    table[static_cast<unsigned char>(kAlphabet[i])] = static_cast<uint8_t>(i);
  return table;
}

constexpr std::array<uint8_t, 256> kDecodeTable = makeDecodeTable();

uint8_t sextet(char c) {
  return kDecodeTable[static_cast<unsigned char>(c)];
}

}  // namespace

bool isBase64Url(std::string_view text) {
  const size_t tail = text.size() % 4;
  if (tail == 1) return false;
  for (const char c : text) {
    if (sextet(c) == kNotInAlphabet) return false;
  }
  // The last character carries 2 (tail 3) or 4 (tail 2) bits that encode no
  // byte; another spelling with those bits set would decode the same.
  if (tail == 2) return (sextet(text.back()) & 0x0f) == 0;
  if (tail == 3) return (sextet(text.back()) & 0x03) == 0;
  return true;
}

bool base64UrlDecode(std::string_view text, std::string& out) {
  out.clear();
  if (!isBase64Url(text)) return false;
  out.reserve(text.size() / 4 * 3 + 2);
  uint32_t bits = 0;
  int bitCount = 0;
  for (const char c : text) {
    bits = (bits << 6) | sextet(c);
    bitCount += 6;
    if (bitCount >= 8) {
      bitCount -= 8;
      out.push_back(static_cast<char>((bits >> bitCount) & 0xff));
    }
  }
  return true;
}

std::string base64UrlEncode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  uint32_t bits = 0;
  int bitCount = 0;
  for (const char c : bytes) {
    bits = (bits << 8) | static_cast<unsigned char>(c);
    bitCount += 8;
    while (bitCount >= 6) {
      bitCount -= 6;
      out.push_back(kAlphabet[(bits >> bitCount) & 0x3f]);
    }
  }
  if (bitCount > 0) out.push_back(kAlphabet[(bits << (6 - bitCount)) & 0x3f]);
  return out;
}

}  // namespace wsr::auth
