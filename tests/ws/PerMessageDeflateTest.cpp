#include "ws/PerMessageDeflate.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <random>
#include <string>

#include "WsTestUtil.h"

namespace wsr::ws {
namespace {

using test::bytes;

constexpr const char* kFullResponse =
    "permessage-deflate; server_no_context_takeover; client_no_context_takeover";

bool negotiate(std::vector<std::string_view> tokens, DeflateAgreement& agreement) {
  return negotiatePerMessageDeflate(tokens, agreement);
}

bool accepts(std::string_view offer) {
  DeflateAgreement a;
  return negotiate({offer}, a);
}

std::string compressOf(std::string_view message, int level = 6) {
  Deflater deflater(level);
  std::string out;
  deflater.compress(message, out);
  return out;
}

std::string randomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s)
    c = static_cast<char>(rng());
  return s;
}

// Text-like data that compresses well.
std::string jsonish(size_t n) {
  std::string s;
  for (int i = 0; s.size() < n; ++i) {
    s += R"({"type":"price_update","channel":"stock:AAPL","seq":)" + std::to_string(i) +
         R"(,"data":{"price":231.4}})";
  }
  s.resize(n);
  return s;
}

TEST(NegotiateTest, AcceptsPlainOfferAndAlwaysAsksClientNoContextTakeover) {
  DeflateAgreement a;
  ASSERT_TRUE(negotiate({"permessage-deflate"}, a));
  EXPECT_TRUE(a.clientNoContextTakeover);
  EXPECT_EQ(a.responseHeader, kFullResponse);
}

TEST(NegotiateTest, AcceptsBrowserOffer) {
  DeflateAgreement a;
  ASSERT_TRUE(negotiate({"permessage-deflate; client_max_window_bits"}, a));
  EXPECT_EQ(a.responseHeader, kFullResponse);  // client_max_window_bits not echoed
  EXPECT_TRUE(accepts("permessage-deflate; client_max_window_bits=10"));
  EXPECT_TRUE(accepts("permessage-deflate; client_max_window_bits=\"8\""));
  EXPECT_TRUE(accepts("permessage-deflate;client_no_context_takeover;server_no_context_takeover"));
  EXPECT_TRUE(accepts("permessage-deflate; server_max_window_bits=15"));
  EXPECT_TRUE(accepts("Permessage-Deflate; Server_No_Context_Takeover"));
}

// RFC 7692 section 7, each parameter against the response it requires
// (issue 11, defect 4). "declined" is an empty response: no compression.
TEST(NegotiateTest, EachParameterCombinationGetsTheResponseSection7Requires) {
  const std::string full = kFullResponse;
  const std::string window15 = full + "; server_max_window_bits=15";
  const std::string declined;
  const std::pair<std::string, std::string> cases[] = {
      {"permessage-deflate", full},
      // 7.1.1.1 and 7.1.1.2: accepted by including them (we always do).
      {"permessage-deflate; server_no_context_takeover", full},
      {"permessage-deflate; client_no_context_takeover", full},
      {"permessage-deflate; server_no_context_takeover; client_no_context_takeover", full},
      // 7.1.2.1: accepted only by answering the same or a smaller value;
      // we compress with 2^15 for everyone, so only 15 is accepted.
      {"permessage-deflate; server_max_window_bits=15", window15},
      {"permessage-deflate; server_max_window_bits=\"15\"", window15},
      {"permessage-deflate; server_max_window_bits = 15", window15},
      {"permessage-deflate; server_max_window_bits=14", declined},
      {"permessage-deflate; server_max_window_bits=9", declined},
      {"permessage-deflate; server_max_window_bits=8", declined},
      // 7.1.2.2: accepted without answering it (optional; never answered
      // to an offer without it).
      {"permessage-deflate; client_max_window_bits", full},
      {"permessage-deflate; client_max_window_bits=8", full},
      {"permessage-deflate; client_max_window_bits=15", full},
      // All four at once.
      {"permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
       "server_max_window_bits=15; client_max_window_bits=10",
       window15},
      {"permessage-deflate; client_max_window_bits; server_max_window_bits=15", window15},
      // 7.1: invalid values decline the offer.
      {"permessage-deflate; server_max_window_bits", declined},
      {"permessage-deflate; server_max_window_bits=", declined},
      {"permessage-deflate; server_max_window_bits=16", declined},
      {"permessage-deflate; server_max_window_bits=7", declined},
      {"permessage-deflate; server_max_window_bits=015", declined},
      {"permessage-deflate; server_max_window_bits=-15", declined},
      {"permessage-deflate; server_max_window_bits=1a", declined},
      {"permessage-deflate; client_max_window_bits=16", declined},
      {"permessage-deflate; client_max_window_bits=08", declined},
      {"permessage-deflate; server_no_context_takeover=true", declined},
      {"permessage-deflate; client_no_context_takeover=1", declined},
      // 7.1: so do duplicates, each parameter at most once.
      {"permessage-deflate; server_max_window_bits=15; server_max_window_bits=15", declined},
      {"permessage-deflate; client_max_window_bits; client_max_window_bits", declined},
      {"permessage-deflate; server_no_context_takeover; server_no_context_takeover", declined},
      {"permessage-deflate; client_no_context_takeover; client_no_context_takeover", declined},
      // 7.1: and parameters not defined for an offer.
      {"permessage-deflate; x-mystery", declined},
      {"permessage-deflate; server_max_window_bits=15; x=1", declined},
  };
  for (const auto& [offer, response] : cases) {
    DeflateAgreement agreement;
    const bool accepted = negotiate({offer}, agreement);
    EXPECT_EQ(accepted, !response.empty()) << offer;
    EXPECT_EQ(agreement.responseHeader, response) << offer;
    // Never client_max_window_bits: 7.1.2.2 forbids it without an offer of
    // it, and with one it is optional.
    EXPECT_EQ(agreement.responseHeader.find("client_max_window_bits"), std::string::npos);
  }
}

TEST(NegotiateTest, AnOfferWithASmallerServerWindowFallsThroughToTheNext) {
  DeflateAgreement a;
  ASSERT_TRUE(negotiate({"permessage-deflate; server_max_window_bits=10",
                         "permessage-deflate; server_max_window_bits=15"},
                        a));
  EXPECT_EQ(a.responseHeader, std::string(kFullResponse) + "; server_max_window_bits=15");
  DeflateAgreement b;
  ASSERT_TRUE(negotiate(
      {"permessage-deflate; server_max_window_bits=15; mystery", "permessage-deflate"}, b));
  EXPECT_EQ(b.responseHeader, kFullResponse);  // the window of the declined offer is not used
}

TEST(NegotiateTest, DeclinesSmallerServerWindow) {
  EXPECT_FALSE(accepts("permessage-deflate; server_max_window_bits=10"));
  EXPECT_FALSE(accepts("permessage-deflate; server_max_window_bits=8"));
  EXPECT_FALSE(accepts("permessage-deflate; server_max_window_bits"));  // value required
}

TEST(NegotiateTest, DeclinesMalformedValues) {
  EXPECT_FALSE(accepts("permessage-deflate; client_max_window_bits=7"));
  EXPECT_FALSE(accepts("permessage-deflate; client_max_window_bits=16"));
  EXPECT_FALSE(accepts("permessage-deflate; client_max_window_bits=010"));
  EXPECT_FALSE(accepts("permessage-deflate; client_max_window_bits=abc"));
  EXPECT_FALSE(accepts("permessage-deflate; client_max_window_bits="));
  EXPECT_FALSE(accepts("permessage-deflate; server_no_context_takeover=1"));
  EXPECT_FALSE(accepts("permessage-deflate; client_no_context_takeover=yes"));
  EXPECT_FALSE(accepts("permessage-deflate; ; client_max_window_bits"));
}

TEST(NegotiateTest, DeclinesUnknownParameters) {
  EXPECT_FALSE(accepts("permessage-deflate; mystery"));
  EXPECT_FALSE(accepts("permessage-deflate; client_max_window_bits; x=1"));
}

TEST(NegotiateTest, DeclinesDuplicateParameters) {
  EXPECT_FALSE(accepts("permessage-deflate; client_max_window_bits; client_max_window_bits=10"));
  EXPECT_FALSE(
      accepts("permessage-deflate; server_no_context_takeover; server_no_context_takeover"));
  EXPECT_FALSE(
      accepts("permessage-deflate; client_no_context_takeover; client_no_context_takeover"));
}

TEST(NegotiateTest, PicksSecondOfferWhenFirstDeclined) {
  DeflateAgreement a;
  ASSERT_TRUE(negotiate({"permessage-deflate; server_max_window_bits=10",
                         "permessage-deflate; client_max_window_bits"},
                        a));
  EXPECT_EQ(a.responseHeader, kFullResponse);
}

TEST(NegotiateTest, IgnoresOtherExtensionsAndNothingAcceptable) {
  DeflateAgreement a;
  EXPECT_TRUE(negotiate({"x-webkit-deflate-frame", "permessage-deflate"}, a));
  DeflateAgreement b;
  EXPECT_FALSE(negotiate({"x-webkit-deflate-frame", "permessage-deflatex"}, b));
  EXPECT_TRUE(b.responseHeader.empty());
  EXPECT_FALSE(b.clientNoContextTakeover);
  DeflateAgreement c;
  EXPECT_FALSE(negotiate({}, c));
}

TEST(DeflaterTest, CompressesHelloAsInRfc7692) {
  // RFC 7692 7.2.3.1.
  EXPECT_EQ(compressOf("Hello"), bytes({0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}));
}

TEST(DeflaterTest, EveryMessageStandsAlone) {
  // No context takeover: the second "Hello" is compressed exactly like the first.
  Deflater deflater;
  std::string a, b;
  deflater.compress("Hello", a);
  deflater.compress("Hello", b);
  EXPECT_EQ(a, b);
}

TEST(DeflaterTest, EmptyMessageGivesAValidPayload) {
  const std::string out = compressOf("");
  EXPECT_EQ(out, bytes({0x00}));  // RFC 7692 7.2.3.6
  Inflater inflater;
  std::string plain;
  EXPECT_EQ(inflater.inflate(out, true, 100, plain), Inflater::Result::Ok);
  EXPECT_EQ(plain, "");
}

TEST(DeflaterTest, OverwritesTheOutput) {
  Deflater deflater;
  std::string out = "stale";
  deflater.compress("Hello", out);
  EXPECT_EQ(out, bytes({0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}));
}

TEST(InflaterTest, InflatesRfc7692Examples) {
  const std::string cases[] = {
      bytes({0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}),        // 7.2.3.1
      bytes({0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00}),  // 7.2.3.4, BFINAL
      bytes({0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07,
             0x00}),  // 7.2.3.5, two blocks
      bytes({0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00}),  // 7.2.3.3, stored
  };
  for (const std::string& c : cases) {
    Inflater inflater;
    std::string out;
    EXPECT_EQ(inflater.inflate(c, true, 1000, out), Inflater::Result::Ok);
    EXPECT_EQ(out, "Hello");
  }
}

TEST(InflaterTest, ContextTakeoverAcrossMessages) {
  // RFC 7692 7.2.3.2: the second "Hello" refers back into the first.
  Inflater inflater;
  std::string first, second;
  ASSERT_EQ(inflater.inflate(bytes({0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}), true, 100, first),
            Inflater::Result::Ok);
  ASSERT_EQ(inflater.inflate(bytes({0xf2, 0x00, 0x11, 0x00, 0x00}), true, 100, second),
            Inflater::Result::Ok);
  EXPECT_EQ(second, "Hello");
  // After reset() the back reference points at nothing.
  inflater.reset();
  std::string third;
  EXPECT_EQ(inflater.inflate(bytes({0xf2, 0x00, 0x11, 0x00, 0x00}), true, 100, third),
            Inflater::Result::Corrupt);
}

TEST(InflaterTest, FragmentsInAnySplit) {
  const std::string message = jsonish(5000);
  const std::string compressed = compressOf(message);
  for (size_t piece : {size_t{1}, size_t{2}, size_t{7}, size_t{100}, compressed.size()}) {
    Inflater inflater;
    std::string out;
    for (size_t at = 0; at < compressed.size(); at += piece) {
      ASSERT_EQ(
          inflater.inflate(std::string_view(compressed).substr(at, piece), false, 1 << 20, out),
          Inflater::Result::Ok);
    }
    ASSERT_EQ(inflater.inflate({}, true, 1 << 20, out), Inflater::Result::Ok);
    EXPECT_EQ(out, message) << "piece " << piece;
  }
}

TEST(InflaterTest, RoundTripsRandomData) {
  std::mt19937 rng(7);
  Deflater deflater;
  Inflater inflater;  // reused: each message ends on a block boundary
  for (int i = 0; i < 200; ++i) {
    const size_t n = rng() % 70000;
    const std::string message =
        (i % 2 == 0) ? randomBytes(n, static_cast<uint32_t>(i)) : jsonish(n);
    std::string compressed, out;
    deflater.compress(message, compressed);
    ASSERT_EQ(inflater.inflate(compressed, true, 1 << 20, out), Inflater::Result::Ok);
    ASSERT_EQ(out, message) << "size " << n;
    inflater.reset();
  }
}

TEST(InflaterTest, LimitIsExactAtTheBoundary) {
  const std::string message = jsonish(10000);
  const std::string compressed = compressOf(message);
  {
    Inflater inflater;
    std::string out;
    EXPECT_EQ(inflater.inflate(compressed, true, message.size(), out), Inflater::Result::Ok);
    EXPECT_EQ(out, message);
  }
  {
    Inflater inflater;
    std::string out;
    EXPECT_EQ(inflater.inflate(compressed, true, message.size() - 1, out),
              Inflater::Result::TooBig);
    EXPECT_LE(out.size(), message.size());
  }
}

TEST(InflaterTest, BombStopsAtTheLimitQuickly) {
  // 64 MiB of zeros deflates to about 64 KiB (deflate's best ratio is about
  // 1,032 to 1), which inflates to 64 times the limit.
  Deflater deflater(9);
  const std::string zeros(64 << 20, '\0');
  std::string compressed;
  deflater.compress(zeros, compressed);
  ASSERT_LT(compressed.size(), 100u * 1024);
  const size_t limit = 1 << 20;
  Inflater inflater;
  std::string out;
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(inflater.inflate(compressed, true, limit, out), Inflater::Result::TooBig);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_LE(out.size(), limit + 1);
  EXPECT_GE(out.size(), limit - 16 * 1024);
  EXPECT_LT(elapsed, std::chrono::seconds(1));
}

TEST(InflaterTest, CorruptStreams) {
  {
    Inflater inflater;
    std::string out;
    // BTYPE 11 is reserved.
    EXPECT_EQ(inflater.inflate(bytes({0xff, 0xff, 0xff}), true, 100, out),
              Inflater::Result::Corrupt);
  }
  {
    // Bytes after a final block.
    Inflater inflater;
    std::string out;
    EXPECT_EQ(inflater.inflate(bytes({0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00, 0x41}), true,
                               100, out),
              Inflater::Result::Corrupt);
  }
  {
    // A final block in one call, an invalid block (BTYPE 11) in the next.
    Inflater inflater;
    std::string out;
    ASSERT_EQ(inflater.inflate(bytes({0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}), false, 100, out),
              Inflater::Result::Ok);
    EXPECT_EQ(inflater.inflate(bytes({0xff}), false, 100, out), Inflater::Result::Corrupt);
  }
}

TEST(InflaterTest, Rfc7692FinalBlockFollowedByEmptyBlockInAnySplit) {
  // 7.2.3.4: BFINAL block with "Hello", then 0x00 (an empty stored block's
  // header, closed by our 00 00 FF FF tail).
  const std::string payload = bytes({0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00});
  for (size_t cut = 0; cut <= payload.size(); ++cut) {
    Inflater inflater;
    std::string out;
    ASSERT_EQ(inflater.inflate(payload.substr(0, cut), false, 100, out), Inflater::Result::Ok);
    ASSERT_EQ(inflater.inflate(payload.substr(cut), true, 100, out), Inflater::Result::Ok);
    EXPECT_EQ(out, "Hello") << cut;
  }
}

TEST(InflaterTest, SeveralFinalBlocksInOneMessage) {
  // A sender that flushes every fragment with Z_FINISH: "Hel" then "lo".
  std::string payload;
  for (const char* piece : {"Hel", "lo"}) {
    z_stream z{};
    ASSERT_EQ(deflateInit2(&z, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), Z_OK);
    std::string out(64, '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(piece));
    z.avail_in = static_cast<uInt>(std::strlen(piece));
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    ASSERT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
    out.resize(out.size() - z.avail_out);
    deflateEnd(&z);
    payload += out;
  }
  Inflater inflater;
  std::string out;
  ASSERT_EQ(inflater.inflate(payload, true, 100, out), Inflater::Result::Ok);
  EXPECT_EQ(out, "Hello");
}

TEST(InflaterTest, MessageAfterAFinalBlockStartsAFreshStream) {
  Inflater inflater;
  std::string a, b;
  ASSERT_EQ(inflater.inflate(bytes({0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}), true, 100, a),
            Inflater::Result::Ok);
  ASSERT_EQ(inflater.inflate(bytes({0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}), true, 100, b),
            Inflater::Result::Ok);
  EXPECT_EQ(a, "Hello");
  EXPECT_EQ(b, "Hello");
}

}  // namespace
}  // namespace wsr::ws
