// libFuzzer target: permessage-deflate. Inflates the input as a client's
// compressed message under a limit, and round-trips it through the deflater.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "ws/PerMessageDeflate.h"

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

constexpr size_t kLimit = 64 * 1024;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  wsr::ws::Inflater whole;
  std::string out;
  const auto result = whole.inflate(input, true, kLimit, out);
  check(out.size() <= kLimit + 1);
  check(result != wsr::ws::Inflater::Result::TooBig || out.size() > kLimit);
  check(result == wsr::ws::Inflater::Result::TooBig || out.size() <= kLimit);

  // The same bytes in two fragments inflate the same.
  if (result == wsr::ws::Inflater::Result::Ok && size > 1) {
    const size_t cut = data[0] % size;
    wsr::ws::Inflater split;
    std::string splitOut;
    check(split.inflate(input.substr(0, cut), false, kLimit, splitOut) ==
          wsr::ws::Inflater::Result::Ok);
    check(split.inflate(input.substr(cut), true, kLimit, splitOut) ==
          wsr::ws::Inflater::Result::Ok);
    check(splitOut == out);
  }

  // Whatever we send must come back intact, at exactly its own size.
  static wsr::ws::Deflater deflater;  // resets per message: no state leaks
  std::string compressed;
  deflater.compress(input, compressed);
  wsr::ws::Inflater back;
  std::string roundTrip;
  check(back.inflate(compressed, true, input.size(), roundTrip) == wsr::ws::Inflater::Result::Ok);
  check(roundTrip == input);
  return 0;
}
