// libFuzzer target: the frame parser. The first byte picks the options
// (deflate, context takeover, message limit, chunk size); the rest is the
// stream of client bytes, fed in chunks.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ws/FrameParser.h"
#include "ws/Utf8Validator.h"

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

class CheckingHandler : public wsr::ws::FrameHandler {
 public:
  explicit CheckingHandler(size_t limit) : limit_(limit) {}

  void onMessage(std::string_view payload, bool binary) override {
    check(payload.size() <= limit_);
    if (!binary) check(wsr::ws::isValidUtf8(payload));
    check(!closed_);
  }
  void onPing(std::string_view payload) override {
    check(payload.size() <= 125);
    check(!closed_);
  }
  void onPong(std::string_view payload) override {
    check(payload.size() <= 125);
    check(!closed_);
  }
  void onClose(uint16_t code, std::string_view reason) override {
    check(code == 1005 || wsr::ws::isValidCloseCode(code));
    check(code != 1005 || reason.empty());
    check(reason.size() <= 123);
    check(wsr::ws::isValidUtf8(reason));
    check(!closed_);
    closed_ = true;
  }

 private:
  size_t limit_;
  bool closed_ = false;
};

constexpr size_t kLimits[4] = {16, 1024, 64 * 1024, 1 << 20};
constexpr size_t kChunks[8] = {1, 2, 3, 7, 16, 100, 1000, SIZE_MAX};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t options = data[0];
  wsr::ws::ParserLimits limits;
  limits.deflate = (options & 0x01) != 0;
  limits.clientNoContextTakeover = (options & 0x02) != 0;
  limits.maxMessageBytes = kLimits[(options >> 2) & 0x3];
  const size_t chunk = kChunks[(options >> 4) & 0x7];

  wsr::ws::FrameParser parser(limits);
  CheckingHandler handler(limits.maxMessageBytes);
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  while (!rest.empty() && !parser.closed()) {
    const size_t n = rest.size() < chunk ? rest.size() : chunk;
    const wsr::ws::ParseError error = parser.feed(rest.substr(0, n), handler);
    rest.remove_prefix(n);
    check(parser.bufferedBytes() <= limits.maxMessageBytes + 1);
    if (error) {
      const uint16_t code = error.closeCode;
      check(code == 1002 || code == 1007 || code == 1009 || code == 1011);
      break;
    }
  }
  return 0;
}
