#include "ws/FrameWriter.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>

#include "WsTestUtil.h"
#include "ws/PerMessageDeflate.h"
#include "ws/Utf8Validator.h"

namespace wsr::ws {
namespace {

using test::bytes;

TEST(FrameWriterTest, HeaderSizes) {
  EXPECT_EQ(frameHeaderSize(0), 2u);
  EXPECT_EQ(frameHeaderSize(125), 2u);
  EXPECT_EQ(frameHeaderSize(126), 4u);
  EXPECT_EQ(frameHeaderSize(65535), 4u);
  EXPECT_EQ(frameHeaderSize(65536), 10u);
}

TEST(FrameWriterTest, UnmaskedHelloAsInRfc6455) {
  const net::SharedBuffer frame = buildFrame(Opcode::Text, "Hello");
  EXPECT_EQ(frame.view(), bytes({0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}));
}

TEST(FrameWriterTest, ExtendedLengthsAsInRfc6455) {
  const std::string b256(256, 'a');
  const net::SharedBuffer f256 = buildFrame(Opcode::Binary, b256);
  ASSERT_EQ(f256.size(), 4u + 256);
  EXPECT_EQ(f256.view().substr(0, 4), bytes({0x82, 0x7e, 0x01, 0x00}));
  EXPECT_EQ(f256.view().substr(4), b256);

  const std::string b64k(65536, 'b');
  const net::SharedBuffer f64k = buildFrame(Opcode::Binary, b64k);
  ASSERT_EQ(f64k.size(), 10u + 65536);
  EXPECT_EQ(f64k.view().substr(0, 10), bytes({0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0}));
  EXPECT_EQ(f64k.view().substr(10), b64k);

  const net::SharedBuffer f65535 = buildFrame(Opcode::Text, std::string(65535, 'c'));
  EXPECT_EQ(f65535.view().substr(0, 4), bytes({0x81, 0x7e, 0xff, 0xff}));
  const net::SharedBuffer f125 = buildFrame(Opcode::Text, std::string(125, 'c'));
  EXPECT_EQ(f125.view().substr(0, 2), bytes({0x81, 0x7d}));
}

TEST(FrameWriterTest, Rsv1AndControlOpcodes) {
  EXPECT_EQ(buildFrame(Opcode::Text, "x", true).view(), bytes({0xc1, 0x01, 'x'}));
  EXPECT_EQ(buildFrame(Opcode::Ping, "").view(), bytes({0x89, 0x00}));
  EXPECT_EQ(buildFrame(Opcode::Pong, "p").view(), bytes({0x8a, 0x01, 'p'}));
}

TEST(FrameWriterTest, WriteFrameHeaderReturnsItsSize) {
  char out[10];
  EXPECT_EQ(writeFrameHeader(out, Opcode::Binary, 70000), 10u);
  EXPECT_EQ(std::string(out, 10), bytes({0x82, 0x7f, 0, 0, 0, 0, 0, 0x01, 0x11, 0x70}));
}

TEST(FrameWriterTest, CloseFrames) {
  EXPECT_EQ(buildCloseFrame(1000, "bye").view(), bytes({0x88, 0x05, 0x03, 0xe8, 'b', 'y', 'e'}));
  EXPECT_EQ(buildCloseFrame(4001, "").view(), bytes({0x88, 0x02, 0x0f, 0xa1}));
  EXPECT_EQ(buildCloseFrame(1005, "ignored").view(), bytes({0x88, 0x00}));
}

TEST(FrameWriterTest, CloseReasonCutAt123Bytes) {
  const net::SharedBuffer f = buildCloseFrame(1001, std::string(300, 'r'));
  ASSERT_EQ(f.size(), 2u + 125);
  EXPECT_EQ(static_cast<uint8_t>(f.data()[1]), 125);
  EXPECT_EQ(f.view().substr(4), std::string(123, 'r'));
}

TEST(FrameWriterTest, CloseReasonCutOnACodePointBoundary) {
  // 61 two-byte characters: byte 123 is the middle of the 62nd.
  std::string reason;
  for (int i = 0; i < 70; ++i)
    reason += "\xc3\xa9";
  const net::SharedBuffer f = buildCloseFrame(1000, reason);
  const std::string_view cut = f.view().substr(4);
  EXPECT_EQ(cut.size(), 122u);
  EXPECT_TRUE(isValidUtf8(cut));
  // Four-byte characters: 30 fit (120 bytes).
  std::string emoji;
  for (int i = 0; i < 40; ++i)
    emoji += "\xf0\x9f\x98\x80";
  const net::SharedBuffer f4 = buildCloseFrame(1000, emoji);
  const std::string_view cut4 = f4.view().substr(4);
  EXPECT_EQ(cut4.size(), 120u);
  EXPECT_TRUE(isValidUtf8(cut4));
  // Exactly 123 bytes is kept whole.
  const std::string exact = std::string(120, 'a') + "\xe2\x82\xac";
  EXPECT_EQ(std::string(buildCloseFrame(1000, exact).view().substr(4)), exact);
}

TEST(FrameWriterTest, PrepareWithoutDeflaterIsPlainOnly) {
  const PreparedMessage m = prepareMessage(Opcode::Text, std::string(1000, 'a'), nullptr, 0);
  EXPECT_EQ(m.plain.view().substr(0, 4), bytes({0x81, 0x7e, 0x03, 0xe8}));
  EXPECT_FALSE(m.compressed);
  EXPECT_EQ(m.frameFor(true).data(), m.plain.data());
}

TEST(FrameWriterTest, PrepareBelowThresholdIsPlainOnly) {
  Deflater deflater;
  const PreparedMessage m = prepareMessage(Opcode::Text, std::string(99, 'a'), &deflater, 100);
  EXPECT_FALSE(m.compressed);
  const PreparedMessage n = prepareMessage(Opcode::Text, std::string(100, 'a'), &deflater, 100);
  EXPECT_TRUE(n.compressed);
}

TEST(FrameWriterTest, PrepareSkipsCompressionThatDoesNotPay) {
  Deflater deflater;
  std::mt19937 rng(3);
  std::string noise(2000, '\0');
  for (char& c : noise)
    c = static_cast<char>(rng());
  const PreparedMessage m = prepareMessage(Opcode::Binary, noise, &deflater, 0);
  EXPECT_FALSE(m.compressed);
  EXPECT_EQ(m.plain.view().substr(4), noise);
}

TEST(FrameWriterTest, PrepareBuildsACompressedTwin) {
  Deflater deflater;
  std::string json;
  for (int i = 0; i < 50; ++i)
    json += R"({"type":"price_update","channel":"stock:AAPL"})";
  const PreparedMessage m = prepareMessage(Opcode::Text, json, &deflater, 64);
  ASSERT_TRUE(m.compressed);
  EXPECT_EQ(m.frameFor(false).data(), m.plain.data());
  EXPECT_EQ(m.frameFor(true).data(), m.compressed.data());
  const std::string_view frame = m.compressed.view();
  EXPECT_EQ(static_cast<uint8_t>(frame[0]), 0xc1);  // FIN, RSV1, text
  const size_t header = frameHeaderSize(frame.size() - 2 <= 125 ? frame.size() - 2 : 200);
  const std::string_view payload = frame.substr(header);
  EXPECT_LT(payload.size(), json.size());
  ASSERT_EQ(frame.size(), header + payload.size());
  Inflater inflater;
  std::string out;
  ASSERT_EQ(inflater.inflate(payload, true, 1 << 20, out), Inflater::Result::Ok);
  EXPECT_EQ(out, json);
}

// A payload written in place after the header allocateFrame wrote: the same
// bytes as buildFrame copying it, at each header form's edges.
TEST(FrameWriterTest, AllocatedFramesMatchBuiltOnesAtEveryHeaderSize) {
  for (const size_t size : {0u, 1u, 125u, 126u, 127u, 65535u, 65536u, 70000u}) {
    std::string payload(size, '\0');
    for (size_t i = 0; i < size; ++i)
      payload[i] = static_cast<char>('a' + i % 26);
    for (const bool rsv1 : {false, true}) {
      UnfilledFrame frame = allocateFrame(Opcode::Text, size, rsv1);
      ASSERT_EQ(frame.payload.size(), size);
      ASSERT_EQ(frame.frame.size(), frameHeaderSize(size) + size);
      // The payload is the frame's tail: one allocation, header and payload.
      EXPECT_EQ(frame.payload.data(), frame.frame.data() + frameHeaderSize(size));
      std::copy(payload.begin(), payload.end(), frame.payload.begin());
      EXPECT_EQ(frame.frame.view(), buildFrame(Opcode::Text, payload, rsv1).view()) << size;
      EXPECT_EQ(framePayload(frame.frame), payload) << size;
    }
  }
  EXPECT_EQ(allocateFrame(Opcode::Binary, 125).frame.view().substr(0, 2), bytes({0x82, 0x7d}));
  EXPECT_EQ(allocateFrame(Opcode::Binary, 126).frame.view().substr(0, 4),
            bytes({0x82, 0x7e, 0x00, 0x7e}));
  EXPECT_EQ(allocateFrame(Opcode::Text, 65535).frame.view().substr(0, 4),
            bytes({0x81, 0x7e, 0xff, 0xff}));
  EXPECT_EQ(allocateFrame(Opcode::Text, 65536).frame.view().substr(0, 10),
            bytes({0x81, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0}));
}

// The twin of a frame built in place deflates that frame's payload: the
// same bytes as preparing from the payload, and as deflating it directly.
TEST(FrameWriterTest, PreparingAFrameGivesTheSameTwinAsPreparingItsPayload) {
  Deflater deflater;
  for (const size_t repeats : {1u, 3u, 40u, 2000u}) {
    std::string json;
    for (size_t i = 0; i < repeats; ++i)
      json += R"({"type":"price_update","channel":"stock:AAPL","seq":)" + std::to_string(i) + "}";
    const PreparedMessage fromPayload = prepareMessage(Opcode::Text, json, &deflater, 64);
    const PreparedMessage fromFrame = prepareMessage(buildFrame(Opcode::Text, json), &deflater, 64);
    EXPECT_EQ(fromFrame.plain.view(), fromPayload.plain.view()) << repeats;
    ASSERT_EQ(bool(fromFrame.compressed), bool(fromPayload.compressed)) << repeats;
    ASSERT_EQ(bool(fromFrame.compressed), json.size() >= 64) << repeats;
    if (!fromFrame.compressed) continue;
    EXPECT_EQ(fromFrame.compressed.view(), fromPayload.compressed.view()) << repeats;
    std::string deflated;
    deflater.compress(json, deflated);
    EXPECT_EQ(fromFrame.compressed.view(), buildFrame(Opcode::Text, deflated, true).view());
    EXPECT_EQ(framePayload(fromFrame.compressed), deflated);
  }
}

TEST(FrameWriterTest, PreparingAFrameKeepsItsOpcodeAndThreshold) {
  Deflater deflater;
  const std::string zeros(300, '0');
  const PreparedMessage binary = prepareMessage(buildFrame(Opcode::Binary, zeros), &deflater, 0);
  ASSERT_TRUE(binary.compressed);
  EXPECT_EQ(static_cast<uint8_t>(binary.compressed.data()[0]), 0xc2);  // FIN, RSV1, binary
  // Below the threshold: the frame itself, shared, no twin.
  const net::SharedBuffer frame = buildFrame(Opcode::Text, zeros);
  const PreparedMessage plain = prepareMessage(frame, &deflater, 301);
  EXPECT_FALSE(plain.compressed);
  EXPECT_EQ(plain.plain.data(), frame.data());
  EXPECT_FALSE(prepareMessage(frame, nullptr, 0).compressed);
}

}  // namespace
}  // namespace wsr::ws
