#include "ws/FrameParser.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "WsTestUtil.h"
#include "ws/PerMessageDeflate.h"

namespace wsr::ws {
namespace {

using test::bytes;
using test::clientFrame;
using test::Recorder;

constexpr uint8_t kFin = 0x80;
constexpr uint8_t kRsv1 = 0x40;
constexpr uint8_t kText = 0x1;
constexpr uint8_t kBinary = 0x2;
constexpr uint8_t kCont = 0x0;
constexpr uint8_t kClose = 0x8;
constexpr uint8_t kPing = 0x9;
constexpr uint8_t kPong = 0xA;

ParserLimits deflateLimits(size_t max = 1 << 20, bool noTakeover = true) {
  ParserLimits limits;
  limits.maxMessageBytes = max;
  limits.deflate = true;
  limits.clientNoContextTakeover = noTakeover;
  return limits;
}

std::string compressOf(std::string_view message) {
  Deflater deflater;
  std::string out;
  deflater.compress(message, out);
  return out;
}

std::string closeBody(uint16_t code, std::string_view reason = {}) {
  std::string body;
  body += static_cast<char>(code >> 8);
  body += static_cast<char>(code & 0xFF);
  body.append(reason);
  return body;
}

struct Outcome {
  Recorder rec;
  ParseError error;
};

Outcome parseAll(std::string_view wire, const ParserLimits& limits = {}) {
  Outcome run;
  FrameParser parser(limits);
  run.error = parser.feed(wire, run.rec);
  return run;
}

void expectError(std::string_view wire, uint16_t code, const ParserLimits& limits = {}) {
  Outcome run = parseAll(wire, limits);
  EXPECT_EQ(run.error.closeCode, code) << "reason: " << run.error.reason;
  EXPECT_TRUE(run.rec.messages.empty());
}

// --- RFC 6455 section 5.7 examples -------------------------------------------

TEST(FrameParserTest, Rfc6455MaskedHello) {
  Outcome run = parseAll(bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}));
  ASSERT_FALSE(run.error) << run.error.reason;
  ASSERT_EQ(run.rec.messages.size(), 1u);
  EXPECT_EQ(run.rec.messages[0].payload, "Hello");
  EXPECT_FALSE(run.rec.messages[0].binary);
}

TEST(FrameParserTest, Rfc6455FragmentedHello) {
  const std::string wire = clientFrame(kText, "Hel") + clientFrame(kFin | kCont, "lo");
  Outcome run = parseAll(wire);
  ASSERT_FALSE(run.error) << run.error.reason;
  ASSERT_EQ(run.rec.messages.size(), 1u);
  EXPECT_EQ(run.rec.messages[0].payload, "Hello");
}

TEST(FrameParserTest, Rfc6455UnmaskedExampleIsRefusedFromAClient) {
  expectError(bytes({0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}), 1002);
}

TEST(FrameParserTest, Rfc6455PingWithHello) {
  Outcome run = parseAll(clientFrame(kFin | kPing, "Hello") + clientFrame(kFin | kPong, "Hello"));
  ASSERT_FALSE(run.error);
  EXPECT_EQ(run.rec.pings, std::vector<std::string>{"Hello"});
  EXPECT_EQ(run.rec.pongs, std::vector<std::string>{"Hello"});
}

TEST(FrameParserTest, Binary256And64KiB) {
  std::string b256(256, '\0'), b64k(65536, '\0');
  for (size_t i = 0; i < b256.size(); ++i)
    b256[i] = static_cast<char>(i);
  for (size_t i = 0; i < b64k.size(); ++i)
    b64k[i] = static_cast<char>(i * 7);
  const std::string f256 = clientFrame(kFin | kBinary, b256);
  const std::string f64k = clientFrame(kFin | kBinary, b64k);
  // The exact headers of RFC 6455 5.7 (masked here).
  EXPECT_EQ(f256.substr(0, 4), bytes({0x82, 0xfe, 0x01, 0x00}));
  EXPECT_EQ(f64k.substr(0, 10), bytes({0x82, 0xff, 0, 0, 0, 0, 0, 1, 0, 0}));
  Outcome run = parseAll(f256 + f64k);
  ASSERT_FALSE(run.error) << run.error.reason;
  ASSERT_EQ(run.rec.messages.size(), 2u);
  EXPECT_EQ(run.rec.messages[0].payload, b256);
  EXPECT_TRUE(run.rec.messages[0].binary);
  EXPECT_EQ(run.rec.messages[1].payload, b64k);
}

TEST(FrameParserTest, EmptyMessagesAndEmptyFragments) {
  const std::string wire = clientFrame(kFin | kText, "") + clientFrame(kBinary, "") +
                           clientFrame(kCont, "ab") + clientFrame(kFin | kCont, "");
  Outcome run = parseAll(wire);
  ASSERT_FALSE(run.error);
  ASSERT_EQ(run.rec.messages.size(), 2u);
  EXPECT_EQ(run.rec.messages[0].payload, "");
  EXPECT_EQ(run.rec.messages[1].payload, "ab");
  EXPECT_TRUE(run.rec.messages[1].binary);
}

TEST(FrameParserTest, PingInterleavedInAFragmentedMessage) {
  const std::string wire = clientFrame(kText, "Hel") + clientFrame(kFin | kPing, "p1") +
                           clientFrame(kCont, "l") + clientFrame(kFin | kPong, "") +
                           clientFrame(kFin | kCont, "o") + clientFrame(kFin | kText, "next");
  Outcome run = parseAll(wire);
  ASSERT_FALSE(run.error) << run.error.reason;
  EXPECT_EQ(run.rec.events, (std::vector<std::string>{"P:p1", "O:", "M:Hello", "M:next"}));
}

TEST(FrameParserTest, MaskPositionCarriesAcrossChunks) {
  // Chunks of odd sizes put the mask offset at every phase.
  const std::string payload(1000, 'x');
  const uint8_t mask[4] = {0x01, 0x82, 0x43, 0xc4};
  const std::string wire = clientFrame(kFin | kText, payload, true, mask);
  for (size_t chunk : {1, 3, 5, 7, 9, 13, 100}) {
    FrameParser parser(ParserLimits{});
    Recorder rec;
    for (size_t at = 0; at < wire.size(); at += chunk) {
      ASSERT_FALSE(parser.feed(std::string_view(wire).substr(at, chunk), rec));
    }
    ASSERT_EQ(rec.messages.size(), 1u);
    EXPECT_EQ(rec.messages[0].payload, payload) << chunk;
  }
}

// A conversation that exercises every kind of frame, for the split tests.
std::string conversation(std::vector<std::string>& expectedEvents) {
  std::string big(70000, '\0');
  for (size_t i = 0; i < big.size(); ++i)
    big[i] = static_cast<char>('a' + i % 26);
  const std::string text = "price \xe2\x82\xac 231.4 \xf0\x9f\x98\x80";
  const std::string compressed = compressOf(text + text);
  std::string wire;
  wire += clientFrame(kFin | kText, text);
  wire += clientFrame(kFin | kBinary, std::string(300, '\x9c'));
  wire += clientFrame(kText, text.substr(0, 7));  // splits the euro sign
  wire += clientFrame(kFin | kPing, "ping!");
  wire += clientFrame(kFin | kCont, text.substr(7));
  wire += clientFrame(kFin | kBinary, big);
  wire += clientFrame(kFin | kRsv1 | kText, compressed);
  wire += clientFrame(kRsv1 | kText, compressed.substr(0, 3));
  wire += clientFrame(kCont, compressed.substr(3, 4));
  wire += clientFrame(kFin | kCont, compressed.substr(7));
  wire += clientFrame(kFin | kClose, closeBody(1000, "bye"));
  expectedEvents = {"M:" + text,        "M:" + std::string(300, '\x9c'),
                    "P:ping!",          "M:" + text,
                    "M:" + big,         "M:" + text + text,
                    "M:" + text + text, "C:1000:bye"};
  return wire;
}

TEST(FrameParserTest, ByteByByteFeedingGivesTheSameResult) {
  std::vector<std::string> expected;
  const std::string wire = conversation(expected);
  FrameParser parser(deflateLimits());
  Recorder rec;
  for (char c : wire) {
    ParseError e = parser.feed(std::string_view(&c, 1), rec);
    ASSERT_FALSE(e) << e.reason;
  }
  EXPECT_EQ(rec.events, expected);
  EXPECT_TRUE(parser.closed());
}

TEST(FrameParserTest, RandomSplitsGiveTheSameResult) {
  std::vector<std::string> expected;
  const std::string wire = conversation(expected);
  {
    Outcome whole = parseAll(wire, deflateLimits());
    ASSERT_FALSE(whole.error);
    EXPECT_EQ(whole.rec.events, expected);
  }
  std::mt19937 rng(42);
  for (int iter = 0; iter < 200; ++iter) {
    FrameParser parser(deflateLimits());
    Recorder rec;
    size_t at = 0;
    while (at < wire.size()) {
      const size_t n = std::min<size_t>(wire.size() - at, 1 + rng() % (iter % 2 ? 20 : 5000));
      ParseError e = parser.feed(std::string_view(wire).substr(at, n), rec);
      ASSERT_FALSE(e) << e.reason;
      at += n;
    }
    ASSERT_EQ(rec.events, expected) << "iteration " << iter;
  }
}

// --- One test per rule of FrameParser::feed ----------------------------------

TEST(FrameParserRules, UnmaskedFrame) {
  expectError(clientFrame(kFin | kText, "hi", /*masked=*/false), 1002);
}

TEST(FrameParserRules, Rsv1WithoutDeflate) {
  expectError(clientFrame(kFin | kRsv1 | kText, compressOf("hi")), 1002);
}

TEST(FrameParserRules, Rsv2AndRsv3) {
  expectError(clientFrame(kFin | 0x20 | kText, "hi"), 1002, deflateLimits());
  expectError(clientFrame(kFin | 0x10 | kText, "hi"), 1002, deflateLimits());
}

TEST(FrameParserRules, Rsv1OnContinuation) {
  expectError(clientFrame(kRsv1 | kText, compressOf("hi")) + clientFrame(kFin | kRsv1 | kCont, ""),
              1002, deflateLimits());
}

TEST(FrameParserRules, Rsv1OnControl) {
  expectError(clientFrame(kFin | kRsv1 | kPing, ""), 1002, deflateLimits());
}

TEST(FrameParserRules, ReservedOpcodes) {
  for (uint8_t op : {0x3, 0x4, 0x5, 0x6, 0x7, 0xB, 0xC, 0xD, 0xE, 0xF}) {
    expectError(clientFrame(static_cast<uint8_t>(kFin | op), "x"), 1002);
  }
}

TEST(FrameParserRules, ControlFrameLongerThan125) {
  expectError(clientFrame(kFin | kPing, std::string(126, 'p')), 1002);
  Outcome ok = parseAll(clientFrame(kFin | kPing, std::string(125, 'p')));
  EXPECT_FALSE(ok.error);
  EXPECT_EQ(ok.rec.pings.size(), 1u);
}

TEST(FrameParserRules, FragmentedControlFrame) {
  expectError(clientFrame(kPing, "p"), 1002);
}

TEST(FrameParserRules, ContinuationWithoutMessage) {
  expectError(clientFrame(kFin | kCont, "x"), 1002);
}

TEST(FrameParserRules, NewDataFrameWhileMessageInProgress) {
  expectError(clientFrame(kText, "a") + clientFrame(kFin | kText, "b"), 1002);
  expectError(clientFrame(kBinary, "a") + clientFrame(kFin | kBinary, "b"), 1002);
}

TEST(FrameParserRules, NonMinimal16BitLength) {
  expectError(bytes({0x81, 0xfe, 0x00, 0x05, 1, 2, 3, 4, 'h', 'e', 'l', 'l', 'o'}), 1002);
}

TEST(FrameParserRules, NonMinimal64BitLength) {
  std::string wire = bytes({0x82, 0xff, 0, 0, 0, 0, 0, 0, 0, 200, 1, 2, 3, 4});
  wire += std::string(200, 'x');
  expectError(wire, 1002);
}

TEST(FrameParserRules, SixtyFourBitLengthWithTopBit) {
  expectError(bytes({0x82, 0xff, 0x80, 0, 0, 0, 0, 1, 0, 0, 1, 2, 3, 4}), 1002);
}

TEST(FrameParserRules, CloseBodyOfOneByte) {
  expectError(clientFrame(kFin | kClose, "\x03"), 1002);
}

TEST(FrameParserRules, InvalidCloseCodes) {
  for (uint16_t code : {0, 999, 1004, 1005, 1006, 1015, 2999, 5000}) {
    Outcome run = parseAll(clientFrame(kFin | kClose, closeBody(code)));
    EXPECT_EQ(run.error.closeCode, 1002) << code;
    EXPECT_TRUE(run.rec.closes.empty());
  }
}

TEST(FrameParserRules, InvalidUtf8InText) {
  expectError(clientFrame(kFin | kText, "caf\xc3"), 1007);  // truncated at FIN
  expectError(clientFrame(kFin | kText, "\xed\xa0\x80"), 1007);
  // Binary messages are not checked.
  EXPECT_FALSE(parseAll(clientFrame(kFin | kBinary, "\xff\xfe")).error);
}

TEST(FrameParserRules, InvalidUtf8InCloseReason) {
  Outcome run = parseAll(clientFrame(kFin | kClose, closeBody(1000, "\xc0\xaf")));
  EXPECT_EQ(run.error.closeCode, 1007);
  EXPECT_TRUE(run.rec.closes.empty());
}

TEST(FrameParserRules, CompressedPayloadThatDoesNotInflate) {
  expectError(clientFrame(kFin | kRsv1 | kBinary, bytes({0xff, 0xff, 0xff, 0xff})), 1007,
              deflateLimits());
}

TEST(FrameParserRules, InvalidUtf8InCompressedText) {
  expectError(clientFrame(kFin | kRsv1 | kText, compressOf("ok \xff")), 1007, deflateLimits());
}

TEST(FrameParserRules, MessageTooBigByDeclaredLength) {
  ParserLimits limits;
  limits.maxMessageBytes = 100;
  // Only the header: refused before any payload arrives.
  const std::string frame = clientFrame(kFin | kBinary, std::string(101, 'x'));
  FrameParser parser(limits);
  Recorder rec;
  ParseError e = parser.feed(std::string_view(frame).substr(0, 8), rec);
  EXPECT_EQ(e.closeCode, 1009);
  EXPECT_EQ(parser.bufferedBytes(), 0u);
  EXPECT_FALSE(parseAll(clientFrame(kFin | kBinary, std::string(100, 'x')), limits).error);
}

TEST(FrameParserRules, MessageTooBigAcrossFragments) {
  ParserLimits limits;
  limits.maxMessageBytes = 100;
  const std::string wire =
      clientFrame(kBinary, std::string(60, 'x')) + clientFrame(kFin | kCont, std::string(41, 'y'));
  FrameParser parser(limits);
  Recorder rec;
  // Header of the second fragment only: already refused.
  const size_t secondHeaderEnd = 2 + 4 + 60 + 2 + 4;
  EXPECT_EQ(parser.feed(std::string_view(wire).substr(0, secondHeaderEnd), rec).closeCode, 1009);
  EXPECT_EQ(parser.bufferedBytes(), 60u);
}

TEST(FrameParserRules, MessageTooBigAfterInflation) {
  const std::string message(5000, 'z');
  expectError(clientFrame(kFin | kRsv1 | kText, compressOf(message)), 1009, deflateLimits(4999));
  Outcome ok =
      parseAll(clientFrame(kFin | kRsv1 | kText, compressOf(message)), deflateLimits(5000));
  ASSERT_FALSE(ok.error);
  EXPECT_EQ(ok.rec.messages.at(0).payload, message);
}

TEST(FrameParserRules, CompressedBytesOverTheLimitAreRefused) {
  // Even if it might inflate small, a compressed message far beyond the limit
  // on the wire is refused from its header.
  std::string wire = bytes({0xc2, 0xff, 0, 0, 0, 0, 0x01, 0, 0, 0, 1, 2, 3, 4});  // 16 MiB
  expectError(wire, 1009, deflateLimits(1 << 20));
}

// --- Behaviour around the rules ----------------------------------------------

TEST(FrameParserTest, InvalidUtf8FailsFastAcrossFragments) {
  FrameParser parser(ParserLimits{});
  Recorder rec;
  // The first fragment is already impossible: refused before the rest arrives.
  ParseError e = parser.feed(clientFrame(kText, "ab\xff"), rec);
  EXPECT_EQ(e.closeCode, 1007);
  // Mid-frame too: the first chunk of a frame's payload.
  FrameParser parser2(ParserLimits{});
  std::string payload(101, 'a');
  payload[0] = '\xc0';
  const std::string frame = clientFrame(kFin | kText, payload);
  EXPECT_EQ(parser2.feed(std::string_view(frame).substr(0, 7), rec).closeCode, 1007);
  EXPECT_TRUE(rec.messages.empty());
}

TEST(FrameParserTest, Utf8SequenceSplitAcrossFragmentsIsFine) {
  Outcome run = parseAll(clientFrame(kText, "\xf0\x9f") + clientFrame(kCont, "\x98") +
                         clientFrame(kFin | kCont, "\x80"));
  ASSERT_FALSE(run.error) << run.error.reason;
  EXPECT_EQ(run.rec.messages.at(0).payload, "\xf0\x9f\x98\x80");
}

TEST(FrameParserTest, CloseWithoutBodyIs1005) {
  FrameParser parser(ParserLimits{});
  Recorder rec;
  EXPECT_FALSE(parser.feed(clientFrame(kFin | kClose, ""), rec));
  ASSERT_EQ(rec.closes.size(), 1u);
  EXPECT_EQ(rec.closes[0].first, 1005);
  EXPECT_EQ(rec.closes[0].second, "");
  EXPECT_TRUE(parser.closed());
}

TEST(FrameParserTest, NothingIsConsumedAfterClose) {
  FrameParser parser(ParserLimits{});
  Recorder rec;
  const std::string wire = clientFrame(kFin | kClose, closeBody(4001, "token expired")) +
                           clientFrame(kFin | kText, "after") + std::string("\xff\xff garbage");
  EXPECT_FALSE(parser.feed(wire, rec));
  ASSERT_EQ(rec.closes.size(), 1u);
  EXPECT_EQ(rec.closes[0].first, 4001);
  EXPECT_EQ(rec.closes[0].second, "token expired");
  EXPECT_TRUE(rec.messages.empty());
  EXPECT_TRUE(parser.closed());
}

TEST(FrameParserTest, CloseDuringAFragmentedMessage) {
  Outcome run = parseAll(clientFrame(kText, "par") + clientFrame(kFin | kClose, closeBody(1001)));
  ASSERT_FALSE(run.error);
  EXPECT_EQ(run.rec.events, std::vector<std::string>{"C:1001:"});
}

TEST(FrameParserTest, BufferedBytesTracksTheMessageInProgress) {
  FrameParser parser(ParserLimits{});
  Recorder rec;
  EXPECT_EQ(parser.bufferedBytes(), 0u);
  ASSERT_FALSE(parser.feed(clientFrame(kBinary, std::string(1000, 'a')), rec));
  EXPECT_EQ(parser.bufferedBytes(), 1000u);
  ASSERT_FALSE(parser.feed(clientFrame(kFin | kCont, "b"), rec));
  EXPECT_EQ(parser.bufferedBytes(), 0u);
  EXPECT_EQ(rec.messages.at(0).payload.size(), 1001u);
}

TEST(FrameParserTest, Rfc7692CompressedHello) {
  // 7.2.3.1: one frame.
  Outcome one =
      parseAll(clientFrame(kFin | kRsv1 | kText, bytes({0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00})),
               deflateLimits());
  ASSERT_FALSE(one.error) << one.error.reason;
  EXPECT_EQ(one.rec.messages.at(0).payload, "Hello");
  // 7.2.3.1: fragmented, RSV1 on the first frame only.
  Outcome two = parseAll(clientFrame(kRsv1 | kText, bytes({0xf2, 0x48, 0xcd})) +
                             clientFrame(kFin | kCont, bytes({0xc9, 0xc9, 0x07, 0x00})),
                         deflateLimits());
  ASSERT_FALSE(two.error) << two.error.reason;
  EXPECT_EQ(two.rec.messages.at(0).payload, "Hello");
  // 7.2.3.6: an empty message.
  Outcome empty = parseAll(clientFrame(kFin | kRsv1 | kText, bytes({0x00})), deflateLimits());
  ASSERT_FALSE(empty.error);
  EXPECT_EQ(empty.rec.messages.at(0).payload, "");
}

TEST(FrameParserTest, CompressedAndPlainMessagesMix) {
  Outcome run = parseAll(clientFrame(kFin | kText, "plain") +
                             clientFrame(kFin | kRsv1 | kBinary, compressOf("packed")) +
                             clientFrame(kFin | kText, "plain again"),
                         deflateLimits());
  ASSERT_FALSE(run.error) << run.error.reason;
  EXPECT_EQ(run.rec.events, (std::vector<std::string>{"M:plain", "M:packed", "M:plain again"}));
  EXPECT_TRUE(run.rec.messages[1].binary);
}

TEST(FrameParserTest, ContextTakeoverFollowsTheAgreement) {
  // RFC 7692 7.2.3.2: the second message refers back into the first.
  const std::string wire =
      clientFrame(kFin | kRsv1 | kText, bytes({0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00})) +
      clientFrame(kFin | kRsv1 | kText, bytes({0xf2, 0x00, 0x11, 0x00, 0x00}));
  Outcome takeover = parseAll(wire, deflateLimits(1 << 20, /*noTakeover=*/false));
  ASSERT_FALSE(takeover.error) << takeover.error.reason;
  EXPECT_EQ(takeover.rec.events, (std::vector<std::string>{"M:Hello", "M:Hello"}));
  // The client promised not to take over: the inflater starts afresh.
  Outcome fresh = parseAll(wire, deflateLimits(1 << 20, /*noTakeover=*/true));
  EXPECT_EQ(fresh.error.closeCode, 1007);
  EXPECT_EQ(fresh.rec.events, std::vector<std::string>{"M:Hello"});
}

TEST(FrameParserTest, DecompressionBombStopsNearTheLimit) {
  Deflater deflater(9);
  const std::string zeros(10 << 20, '\0');
  std::string compressed;
  deflater.compress(zeros, compressed);
  ASSERT_LT(compressed.size(), 20u * 1024);
  const size_t limit = 1 << 20;
  FrameParser parser(deflateLimits(limit));
  Recorder rec;
  const std::string frame = clientFrame(kFin | kRsv1 | kBinary, compressed);
  // Feed it in network-sized pieces, watching the buffer.
  ParseError e;
  size_t peak = 0;
  for (size_t at = 0; at < frame.size() && !e; at += 1500) {
    e = parser.feed(std::string_view(frame).substr(at, 1500), rec);
    peak = std::max(peak, parser.bufferedBytes());
  }
  EXPECT_EQ(e.closeCode, 1009);
  EXPECT_LE(peak, limit + 1);
  EXPECT_TRUE(rec.messages.empty());
}

TEST(FrameParserTest, StaysSmall) {
  // One per connection: catch accidental growth (a big inline buffer...).
  EXPECT_LE(sizeof(FrameParser), 160u);
}

}  // namespace
}  // namespace wsr::ws
