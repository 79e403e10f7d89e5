// JWT verification: each algorithm, forgeries (alg none, HS/RS confusion,
// other keys, DER ES256 signatures), the claim checks and their order.

#include "auth/JwtVerifier.h"

#include <gtest/gtest.h>

#include <string>

#include "JwtTestUtil.h"

namespace wsr::auth {
namespace {

using test::kOtherSecret;
using test::kSecret;
using test::publicKeyPem;
using test::testKeys;

constexpr int64_t kNow = 1'700'000'000;

std::string payloadExpiringIn(int64_t seconds, std::string_view more = "") {
  std::string payload = R"({"sub":"alice","exp":)" + std::to_string(kNow + seconds);
  if (!more.empty()) payload += "," + std::string(more);
  return payload + "}";
}

const std::string kValidPayload = payloadExpiringIn(3600);

JwtOptions allAlgorithms() {
  JwtOptions options;
  options.algorithms = {JwtAlgorithm::HS256, JwtAlgorithm::RS256, JwtAlgorithm::ES256};
  return options;
}

// A key set with every kind: HS256 secret, RS256 and ES256 public keys.
std::shared_ptr<const JwtKeySet> fullKeySet() {
  static const std::string rsaPem = publicKeyPem(testKeys().rsa.get());
  static const std::string ecPem = publicKeyPem(testKeys().ec.get());
  JwtKeyTexts texts;
  texts.hs256Secrets = JwtKeyText{kSecret, "hs"};
  texts.rs256PublicKeys = JwtKeyText{rsaPem, "rs"};
  texts.es256PublicKeys = JwtKeyText{ecPem, "es"};
  std::string error;
  auto keys = JwtKeySet::build(texts, error);
  EXPECT_NE(keys, nullptr) << error;
  return keys;
}

class JwtVerifierTest : public ::testing::Test {
 protected:
  JwtResult verify(const std::string& token, int64_t now = kNow) {
    return verifyWith(options_, *keys_, token, now);
  }

  // Every refusal is checked for not quoting the token.
  static JwtResult verifyWith(const JwtOptions& options, const JwtKeySet& keys,
                              const std::string& token, int64_t now = kNow) {
    JwtResult result = JwtVerifier(options).verify(token, now, keys);
    if (!result.ok()) {
      EXPECT_FALSE(result.message.empty());
      const size_t lastDot = token.rfind('.');
      const std::string signature = lastDot == std::string::npos ? "" : token.substr(lastDot + 1);
      if (signature.size() >= 8) {
        EXPECT_EQ(result.message.find(signature), std::string::npos);
      }
      if (token.size() >= 8) {
        EXPECT_EQ(result.message.find(token), std::string::npos);
      }
    }
    return result;
  }

  void expectRefused(const std::string& token, JwtError error, int64_t now = kNow) {
    const JwtResult result = verify(token, now);
    ASSERT_FALSE(result.ok()) << token;
    EXPECT_EQ(jwtErrorName(result.error), jwtErrorName(error)) << result.message;
  }

  Identity expectAccepted(const std::string& token, int64_t now = kNow) {
    JwtResult result = verify(token, now);
    EXPECT_TRUE(result.ok()) << jwtErrorName(result.error) << ": " << result.message;
    return result.ok() ? *result.identity : Identity{};
  }

  JwtOptions options_ = allAlgorithms();
  std::shared_ptr<const JwtKeySet> keys_ = fullKeySet();
};

TEST_F(JwtVerifierTest, Hs256Valid) {
  const Identity identity = expectAccepted(test::hs256Token(kSecret, kValidPayload));
  EXPECT_EQ(identity.subject, "alice");
  EXPECT_EQ(identity.expiresAt, kNow + 3600);
  EXPECT_FALSE(identity.channels.has_value());
}

TEST_F(JwtVerifierTest, Rs256Valid) {
  const Identity identity =
      expectAccepted(test::rs256Token(testKeys().rsa.get(), payloadExpiringIn(60)));
  EXPECT_EQ(identity.subject, "alice");
  EXPECT_EQ(identity.expiresAt, kNow + 60);
}

TEST_F(JwtVerifierTest, Es256Valid) {
  const Identity identity =
      expectAccepted(test::es256Token(testKeys().ec.get(), payloadExpiringIn(60)));
  EXPECT_EQ(identity.subject, "alice");
}

TEST_F(JwtVerifierTest, TypIsOptionalAndCaseInsensitive) {
  expectAccepted(test::hs256Token(kSecret, kValidPayload, R"({"alg":"HS256"})"));
  expectAccepted(test::hs256Token(kSecret, kValidPayload, R"({"typ":"jwt","alg":"HS256"})"));
  expectRefused(test::hs256Token(kSecret, kValidPayload, R"({"alg":"HS256","typ":"JWS"})"),
                JwtError::Malformed);
  expectRefused(test::hs256Token(kSecret, kValidPayload, R"({"alg":"HS256","typ":1})"),
                JwtError::Malformed);
  expectRefused(
      test::hs256Token(kSecret, kValidPayload, "{\"alg\":\"HS256\",\"typ\":\"JWT\\u0000\"}"),
      JwtError::Malformed);
}

TEST_F(JwtVerifierTest, CritIsRefused) {
  expectRefused(
      test::hs256Token(kSecret, kValidPayload, R"({"alg":"HS256","crit":["exp"],"exp":1})"),
      JwtError::Malformed);
}

TEST_F(JwtVerifierTest, TamperedSignatureIsBad) {
  for (std::string token : {test::hs256Token(kSecret, kValidPayload),
                            test::rs256Token(testKeys().rsa.get(), kValidPayload),
                            test::es256Token(testKeys().ec.get(), kValidPayload)}) {
    // Flip bits of a full character in the middle of the signature (the
    // last character may carry unused bits).
    const size_t at = token.rfind('.') + 10;
    token[at] = token[at] == 'A' ? 'B' : 'A';
    expectRefused(token, JwtError::BadSignature);
  }
}

TEST_F(JwtVerifierTest, TamperedPayloadOrHeaderIsBad) {
  const std::string token = test::hs256Token(kSecret, kValidPayload);
  const std::string signature = token.substr(token.rfind('.'));
  // An expired payload with the old signature: the signature is checked
  // before the claims, so this counts as a bad signature, not as expired.
  expectRefused(test::signingInput(test::kHs256Header, payloadExpiringIn(-3600)) + signature,
                JwtError::BadSignature);
  expectRefused(test::signingInput(test::kHs256Header, "not json") + signature,
                JwtError::BadSignature);
  expectRefused(test::signingInput(R"({"alg":"HS256"})", kValidPayload) + signature,
                JwtError::BadSignature);
}

TEST_F(JwtVerifierTest, SignedByAnotherKeyIsBad) {
  expectRefused(test::hs256Token(kOtherSecret, kValidPayload), JwtError::BadSignature);
  expectRefused(test::rs256Token(testKeys().otherRsa.get(), kValidPayload), JwtError::BadSignature);
  expectRefused(test::es256Token(testKeys().otherEc.get(), kValidPayload), JwtError::BadSignature);
}

TEST_F(JwtVerifierTest, AlgNoneIsNeverAccepted) {
  for (const char* header : {R"({"alg":"none"})", R"({"alg":"None","typ":"JWT"})",
                             R"({"alg":"NONE"})", R"({"alg":""})"}) {
    const std::string input = test::signingInput(header, kValidPayload);
    expectRefused(input + ".", JwtError::AlgorithmNotAllowed);
    expectRefused(test::withSignature(input, test::hmacSha256(kSecret, input)),
                  JwtError::AlgorithmNotAllowed);
    expectRefused(input, JwtError::Malformed);  // no signature part at all
  }
}

TEST_F(JwtVerifierTest, UnknownOrMissingAlgIsNotAllowed) {
  for (const char* header :
       {R"({"alg":"HS512"})", R"({"alg":"hs256"})", R"({"alg":"RS256 "})", R"({"alg":256})",
        R"({"alg":null})", R"({"alg":["HS256"]})", R"({"typ":"JWT"})", "{}"}) {
    expectRefused(test::hs256Token(kSecret, kValidPayload, header), JwtError::AlgorithmNotAllowed);
  }
}

TEST_F(JwtVerifierTest, AlgorithmOutsideTheAllowListIsRefusedEvenWithKeys) {
  options_.algorithms = {JwtAlgorithm::HS256};
  expectAccepted(test::hs256Token(kSecret, kValidPayload));
  expectRefused(test::es256Token(testKeys().ec.get(), kValidPayload),
                JwtError::AlgorithmNotAllowed);
  expectRefused(test::rs256Token(testKeys().rsa.get(), kValidPayload),
                JwtError::AlgorithmNotAllowed);

  options_.algorithms = {};
  expectRefused(test::hs256Token(kSecret, kValidPayload), JwtError::AlgorithmNotAllowed);
}

TEST_F(JwtVerifierTest, AllowedAlgorithmWithoutKeysIsRefused) {
  const std::string ecPem = publicKeyPem(testKeys().ec.get());
  JwtKeyTexts texts;
  texts.es256PublicKeys = JwtKeyText{ecPem, "es"};
  std::string error;
  const auto onlyEc = JwtKeySet::build(texts, error);
  ASSERT_NE(onlyEc, nullptr) << error;
  const JwtResult result =
      verifyWith(allAlgorithms(), *onlyEc, test::hs256Token(kSecret, kValidPayload));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error, JwtError::AlgorithmNotAllowed);
  EXPECT_TRUE(
      verifyWith(allAlgorithms(), *onlyEc, test::es256Token(testKeys().ec.get(), kValidPayload))
          .ok());
}

// The classic confusion: a token "signed" with HMAC using the RSA public
// key's PEM text (which anyone has) as the secret.
TEST_F(JwtVerifierTest, RsaPublicKeyAsHmacSecretIsRefused) {
  const std::string rsaPem = publicKeyPem(testKeys().rsa.get());
  const std::string forged = test::hs256Token(rsaPem, kValidPayload);

  // Only RS256 allowed, only an RSA key loaded.
  JwtKeyTexts rsaOnly;
  rsaOnly.rs256PublicKeys = JwtKeyText{rsaPem, "rs"};
  std::string error;
  const auto rsaKeys = JwtKeySet::build(rsaOnly, error);
  ASSERT_NE(rsaKeys, nullptr) << error;
  JwtOptions rsOptions;
  rsOptions.algorithms = {JwtAlgorithm::RS256};
  JwtResult result = verifyWith(rsOptions, *rsaKeys, forged);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error, JwtError::AlgorithmNotAllowed);
  // HS256 allowed too, but no secret loaded: the RSA key is never a secret.
  result = verifyWith(allAlgorithms(), *rsaKeys, forged);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error, JwtError::AlgorithmNotAllowed);

  // Both allowed and an HS256 secret loaded as well: still refused.
  result = verifyWith(allAlgorithms(), *keys_, forged);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error, JwtError::BadSignature);
  // And with the PEM's trimmed text, the other spelling a lax loader might use.
  const size_t end = rsaPem.find_last_not_of('\n');
  result = verifyWith(allAlgorithms(), *keys_,
                      test::hs256Token(rsaPem.substr(0, end + 1), kValidPayload));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error, JwtError::BadSignature);
}

TEST_F(JwtVerifierTest, Es256SignatureInDerFormIsRefused) {
  expectRefused(test::es256TokenDerSignature(testKeys().ec.get(), kValidPayload),
                JwtError::BadSignature);
}

TEST_F(JwtVerifierTest, SignatureOfTheWrongLengthIsBad) {
  const std::string input = test::signingInput(test::kEs256Header, kValidPayload);
  const std::string raw = test::derToRawEcdsa(test::digestSign(testKeys().ec.get(), input));
  expectRefused(test::withSignature(input, raw.substr(0, 63)), JwtError::BadSignature);
  expectRefused(test::withSignature(input, raw + '\0'), JwtError::BadSignature);
  expectRefused(input + ".", JwtError::BadSignature);
  const std::string hsInput = test::signingInput(test::kHs256Header, kValidPayload);
  expectRefused(test::withSignature(hsInput, test::hmacSha256(kSecret, hsInput).substr(0, 16)),
                JwtError::BadSignature);
  expectRefused(hsInput + ".", JwtError::BadSignature);
}

TEST_F(JwtVerifierTest, ExpiryWithLeeway) {
  options_.leewaySeconds = 30;
  expectAccepted(test::hs256Token(kSecret, payloadExpiringIn(-29)));
  expectRefused(test::hs256Token(kSecret, payloadExpiringIn(-30)), JwtError::Expired);
  expectRefused(test::hs256Token(kSecret, payloadExpiringIn(-31)), JwtError::Expired);

  options_.leewaySeconds = 0;
  expectAccepted(test::hs256Token(kSecret, payloadExpiringIn(1)));
  expectRefused(test::hs256Token(kSecret, payloadExpiringIn(0)), JwtError::Expired);
}

TEST_F(JwtVerifierTest, ExpiryDefaultLeewayIs30Seconds) {
  EXPECT_EQ(JwtOptions{}.leewaySeconds, 30);
  EXPECT_TRUE(JwtOptions{}.requireExpiry);
  EXPECT_EQ(JwtOptions{}.maxTokenBytes, 8192u);
  EXPECT_TRUE(JwtOptions{}.algorithms.empty());
}

TEST_F(JwtVerifierTest, ExpiryMustBeANumberAndIsRequiredByDefault) {
  expectRefused(test::hs256Token(kSecret, R"({"sub":"alice"})"), JwtError::Malformed);
  expectRefused(test::hs256Token(kSecret, R"({"sub":"alice","exp":"1800000000"})"),
                JwtError::Malformed);
  expectRefused(test::hs256Token(kSecret, R"({"sub":"alice","exp":null})"), JwtError::Malformed);

  options_.requireExpiry = false;
  const Identity identity = expectAccepted(test::hs256Token(kSecret, R"({"sub":"alice"})"));
  EXPECT_EQ(identity.expiresAt, 0);
  // When present it is still checked.
  expectRefused(test::hs256Token(kSecret, payloadExpiringIn(-3600)), JwtError::Expired);
}

TEST_F(JwtVerifierTest, FractionalAndExtremeExpiry) {
  options_.leewaySeconds = 0;
  const std::string almost = R"({"sub":"a","exp":)" + std::to_string(kNow) + ".9}";
  expectRefused(test::hs256Token(kSecret, almost), JwtError::Expired);  // rounded down
  const Identity identity = expectAccepted(
      test::hs256Token(kSecret, R"({"sub":"a","exp":)" + std::to_string(kNow + 1) + ".5}"));
  EXPECT_EQ(identity.expiresAt, kNow + 1);
  expectAccepted(test::hs256Token(kSecret, R"({"sub":"a","exp":18446744073709551615})"));
  expectAccepted(test::hs256Token(kSecret, R"({"sub":"a","exp":1e300})"));
  expectRefused(test::hs256Token(kSecret, R"({"sub":"a","exp":-9223372036854775808})"),
                JwtError::Expired);
  expectRefused(test::hs256Token(kSecret, R"({"sub":"a","exp":-1e300})"), JwtError::Expired);
}

TEST_F(JwtVerifierTest, NotBeforeWithLeeway) {
  options_.leewaySeconds = 30;
  const auto withNbf = [](int64_t offset) {
    return test::hs256Token(kSecret,
                            payloadExpiringIn(3600, R"("nbf":)" + std::to_string(kNow + offset)));
  };
  expectAccepted(withNbf(-100));
  expectAccepted(withNbf(30));
  expectRefused(withNbf(31), JwtError::NotYetValid);
  expectRefused(test::hs256Token(kSecret, payloadExpiringIn(3600, R"("nbf":"soon")")),
                JwtError::Malformed);
  expectRefused(test::hs256Token(kSecret, payloadExpiringIn(3600, R"("nbf":1e300)")),
                JwtError::NotYetValid);
}

TEST_F(JwtVerifierTest, Issuer) {
  expectAccepted(test::hs256Token(kSecret, payloadExpiringIn(60, R"("iss":"anyone")")));
  options_.issuer = "https://auth.example.com";
  expectAccepted(
      test::hs256Token(kSecret, payloadExpiringIn(60, R"("iss":"https://auth.example.com")")));
  expectRefused(test::hs256Token(kSecret, payloadExpiringIn(60)), JwtError::WrongIssuer);
  expectRefused(test::hs256Token(kSecret, payloadExpiringIn(60, R"("iss":"https://evil")")),
                JwtError::WrongIssuer);
  expectRefused(
      test::hs256Token(kSecret, payloadExpiringIn(60, R"("iss":["https://auth.example.com"])")),
      JwtError::WrongIssuer);
}

TEST_F(JwtVerifierTest, AudienceStringOrArray) {
  expectAccepted(test::hs256Token(kSecret, payloadExpiringIn(60, R"("aud":"other")")));
  options_.audience = "wsrouter";
  expectAccepted(test::hs256Token(kSecret, payloadExpiringIn(60, R"("aud":"wsrouter")")));
  expectAccepted(
      test::hs256Token(kSecret, payloadExpiringIn(60, R"("aud":["billing","wsrouter"])")));
  expectRefused(test::hs256Token(kSecret, payloadExpiringIn(60, R"("aud":"billing")")),
                JwtError::WrongAudience);
  expectRefused(test::hs256Token(kSecret, payloadExpiringIn(60, R"("aud":["billing"])")),
                JwtError::WrongAudience);
  expectRefused(test::hs256Token(kSecret, payloadExpiringIn(60, R"("aud":[])")),
                JwtError::WrongAudience);
  expectRefused(test::hs256Token(kSecret, payloadExpiringIn(60, R"("aud":{"x":"wsrouter"})")),
                JwtError::WrongAudience);
  expectRefused(test::hs256Token(kSecret, payloadExpiringIn(60)), JwtError::WrongAudience);
}

TEST_F(JwtVerifierTest, IssuerIsCheckedBeforeAudience) {
  options_.issuer = "me";
  options_.audience = "wsrouter";
  expectRefused(test::hs256Token(kSecret, payloadExpiringIn(60, R"("iss":"you","aud":"x")")),
                JwtError::WrongIssuer);
}

TEST_F(JwtVerifierTest, Subject) {
  const std::string exp = R"("exp":)" + std::to_string(kNow + 60);
  const auto token = [&](std::string_view sub) {
    return test::hs256Token(kSecret, "{" + exp + (sub.empty() ? "" : ",") + std::string(sub) + "}");
  };
  expectRefused(token(""), JwtError::InvalidSubject);
  expectRefused(token(R"("sub":"")"), JwtError::InvalidSubject);
  expectRefused(token(R"("sub":42)"), JwtError::InvalidSubject);
  expectRefused(token(R"("sub":null)"), JwtError::InvalidSubject);
  expectRefused(token(R"("sub":"a b")"), JwtError::InvalidSubject);
  expectRefused(token(R"("sub":"a:b")"), JwtError::InvalidSubject);
  expectRefused(token(R"("sub":"caf\u00e9")"), JwtError::InvalidSubject);
  expectRefused(token(R"("sub":"a\u0000")"), JwtError::InvalidSubject);
  expectRefused(token(R"("sub":")" + std::string(129, 'x') + "\""), JwtError::InvalidSubject);
  EXPECT_EQ(expectAccepted(token(R"("sub":")" + std::string(128, 'x') + "\"")).subject,
            std::string(128, 'x'));
  EXPECT_EQ(expectAccepted(token(R"("sub":"Alice_1.b-c@example.com")")).subject,
            "Alice_1.b-c@example.com");
}

TEST_F(JwtVerifierTest, ChannelsClaim) {
  Identity identity = expectAccepted(
      test::hs256Token(kSecret, payloadExpiringIn(60, R"("channels":["stock:*","market"])")));
  ASSERT_TRUE(identity.channels.has_value());
  EXPECT_EQ(*identity.channels, (std::vector<std::string>{"stock:*", "market"}));

  identity = expectAccepted(test::hs256Token(kSecret, payloadExpiringIn(60, R"("channels":[])")));
  ASSERT_TRUE(identity.channels.has_value());
  EXPECT_TRUE(identity.channels->empty());

  for (const char* bad : {R"("channels":"stock:*")", R"("channels":["a",1])", R"("channels":null)",
                          R"("channels":{"a":"b"})"}) {
    expectRefused(test::hs256Token(kSecret, payloadExpiringIn(60, bad)), JwtError::Malformed);
  }
}

TEST_F(JwtVerifierTest, OtherClaimsAreFlattenedForLookups) {
  const Identity identity = expectAccepted(test::hs256Token(
      kSecret, payloadExpiringIn(60, R"("tier":"premium","level":5,"beta":true,"ratio":1.5,)"
                                     R"("roles":["trader",7,false],"org":{"tier":"gold"},)"
                                     R"("nothing":null)")));
  EXPECT_TRUE(identity.hasClaimValue("tier", "premium"));
  EXPECT_FALSE(identity.hasClaimValue("tier", "Premium"));
  EXPECT_FALSE(identity.hasClaimValue("tier", "\"premium\""));
  EXPECT_TRUE(identity.hasClaimValue("level", "5"));
  EXPECT_FALSE(identity.hasClaimValue("level", "5.0"));
  EXPECT_TRUE(identity.hasClaimValue("beta", "true"));
  EXPECT_TRUE(identity.hasClaimValue("ratio", "1.5"));
  EXPECT_TRUE(identity.hasClaimValue("roles", "trader"));
  EXPECT_TRUE(identity.hasClaimValue("roles", "7"));
  EXPECT_TRUE(identity.hasClaimValue("roles", "false"));
  EXPECT_FALSE(identity.hasClaimValue("roles", "admin"));
  EXPECT_FALSE(identity.hasClaimValue("org", "gold"));
  EXPECT_FALSE(identity.hasClaimValue("tier", "gold"));
  EXPECT_FALSE(identity.hasClaimValue("nothing", "null"));
  EXPECT_FALSE(identity.hasClaimValue("missing", ""));
  EXPECT_TRUE(identity.hasClaimValue("sub", "alice"));
}

TEST_F(JwtVerifierTest, WrongNumberOfPartsIsMalformed) {
  const std::string token = test::hs256Token(kSecret, kValidPayload);
  for (const std::string& bad :
       {std::string(), std::string("."), std::string(".."), std::string("..."), std::string("abc"),
        token + ".", token + ".AAAA", "." + token, token.substr(0, token.rfind('.'))}) {
    expectRefused(bad, JwtError::Malformed);
  }
}

TEST_F(JwtVerifierTest, GarbageInEachPartIsMalformed) {
  const std::string token = test::hs256Token(kSecret, kValidPayload);
  const size_t firstDot = token.find('.');
  const size_t secondDot = token.find('.', firstDot + 1);
  const std::string header = token.substr(0, firstDot);
  const std::string payload = token.substr(firstDot + 1, secondDot - firstDot - 1);
  const std::string signature = token.substr(secondDot + 1);
  const auto joined = [](std::string_view a, std::string_view b, std::string_view c) {
    std::string token(a);
    token.append(".").append(b).append(".").append(c);
    return token;
  };
  for (const std::string_view garbage : {"!!!!", "a b", "A", "AAAA=", "ab+/", ""}) {
    expectRefused(joined(garbage, payload, signature), JwtError::Malformed);
    expectRefused(joined(header, garbage, signature), JwtError::Malformed);
    if (!garbage.empty()) {
      expectRefused(joined(header, payload, garbage), JwtError::Malformed);
    }
  }
  // A non-canonical spelling of the signature (unused bits set) is refused
  // before any cryptography: a token has one spelling.
  std::string noncanonical = token;
  char& last = noncanonical.back();
  last = last == 'B' ? 'C' : 'B';
  expectRefused(noncanonical, JwtError::Malformed);
}

TEST_F(JwtVerifierTest, HeaderThatIsNotAJsonObjectIsMalformed) {
  for (const char* header : {"null", "[]", R"(["alg","HS256"])", R"("HS256")", "42", "{",
                             R"({"alg":"HS256"} x)", "\xff\xfe", R"({"alg":"HS256",})", ""}) {
    const std::string input = test::signingInput(header, kValidPayload);
    const std::string token = test::withSignature(input, test::hmacSha256(kSecret, input));
    expectRefused(token, JwtError::Malformed);
  }
}

TEST_F(JwtVerifierTest, SignedPayloadThatIsNotAJsonObjectIsMalformed) {
  for (const char* payload : {"null", "[]", R"("alice")", "42", "{", "not json",
                              R"({"sub":"alice","exp":1e999})", "{\"sub\":\"\xff\"}", ""}) {
    expectRefused(test::hs256Token(kSecret, payload), JwtError::Malformed);
  }
}

TEST_F(JwtVerifierTest, HugeTokensAreRefusedBeforeAnythingElse) {
  expectRefused(std::string(8193, 'A'), JwtError::TooLong);
  expectRefused(std::string(1 << 20, '.'), JwtError::TooLong);
  const std::string padding(9000, 'x');
  expectRefused(test::hs256Token(kSecret, payloadExpiringIn(60, R"("pad":")" + padding + "\"")),
                JwtError::TooLong);

  const std::string token = test::hs256Token(kSecret, kValidPayload);
  options_.maxTokenBytes = token.size();
  expectAccepted(token);
  options_.maxTokenBytes = token.size() - 1;
  expectRefused(token, JwtError::TooLong);
}

TEST_F(JwtVerifierTest, RotationOverlapEitherKeyVerifies) {
  const std::string secrets = std::string(kSecret) + "\n" + std::string(kOtherSecret) + "\n";
  const std::string rsaPems =
      publicKeyPem(testKeys().rsa.get()) + publicKeyPem(testKeys().otherRsa.get());
  const std::string ecPems =
      publicKeyPem(testKeys().ec.get()) + publicKeyPem(testKeys().otherEc.get());
  JwtKeyTexts texts;
  texts.hs256Secrets = JwtKeyText{secrets, "hs"};
  texts.rs256PublicKeys = JwtKeyText{rsaPems, "rs"};
  texts.es256PublicKeys = JwtKeyText{ecPems, "es"};
  std::string error;
  keys_ = JwtKeySet::build(texts, error);
  ASSERT_NE(keys_, nullptr) << error;
  expectAccepted(test::hs256Token(kSecret, kValidPayload));
  expectAccepted(test::hs256Token(kOtherSecret, kValidPayload));
  expectAccepted(test::rs256Token(testKeys().rsa.get(), kValidPayload));
  expectAccepted(test::rs256Token(testKeys().otherRsa.get(), kValidPayload));
  expectAccepted(test::es256Token(testKeys().ec.get(), kValidPayload));
  expectAccepted(test::es256Token(testKeys().otherEc.get(), kValidPayload));
  expectRefused(test::hs256Token("a-third-secret-that-is-long-enough-0000", kValidPayload),
                JwtError::BadSignature);
}

TEST(JwtError, StableNames) {
  EXPECT_EQ(jwtErrorName(JwtError::Malformed), "malformed");
  EXPECT_EQ(jwtErrorName(JwtError::AlgorithmNotAllowed), "algorithm_not_allowed");
  EXPECT_EQ(jwtErrorName(JwtError::BadSignature), "bad_signature");
  EXPECT_EQ(jwtErrorName(JwtError::Expired), "expired");
  EXPECT_EQ(jwtErrorName(JwtError::NotYetValid), "not_yet_valid");
  EXPECT_EQ(jwtErrorName(JwtError::WrongIssuer), "wrong_issuer");
  EXPECT_EQ(jwtErrorName(JwtError::WrongAudience), "wrong_audience");
  EXPECT_EQ(jwtErrorName(JwtError::InvalidSubject), "invalid_subject");
  EXPECT_EQ(jwtErrorName(JwtError::TooLong), "too_long");
}

TEST(JwtAlgorithms, ParseForConfiguration) {
  JwtAlgorithmSet set;
  std::string error;
  ASSERT_TRUE(parseJwtAlgorithms({"RS256", "ES256"}, set, error)) << error;
  EXPECT_EQ(set, (JwtAlgorithmSet{JwtAlgorithm::RS256, JwtAlgorithm::ES256}));
  EXPECT_FALSE(set.contains(JwtAlgorithm::HS256));

  const JwtAlgorithmSet before = set;
  EXPECT_FALSE(parseJwtAlgorithms({"HS256", "none"}, set, error));
  EXPECT_NE(error.find("'none'"), std::string::npos) << error;
  EXPECT_NE(error.find("never"), std::string::npos) << error;
  EXPECT_EQ(set, before) << "a failed parse leaves the set alone";
  EXPECT_FALSE(parseJwtAlgorithms({"NONE"}, set, error));
  EXPECT_NE(error.find("never"), std::string::npos) << error;
  EXPECT_FALSE(parseJwtAlgorithms({"HS512"}, set, error));
  EXPECT_NE(error.find("'HS512'"), std::string::npos) << error;
  EXPECT_FALSE(parseJwtAlgorithms({"hs256"}, set, error));
  EXPECT_NE(error.find("'hs256'"), std::string::npos) << error;
  EXPECT_FALSE(parseJwtAlgorithms({}, set, error));
  EXPECT_FALSE(error.empty());
}

TEST(JwtAlgorithms, NamesBothWays) {
  for (const JwtAlgorithm algorithm :
       {JwtAlgorithm::HS256, JwtAlgorithm::RS256, JwtAlgorithm::ES256}) {
    EXPECT_EQ(jwtAlgorithmFromName(jwtAlgorithmName(algorithm)), algorithm);
  }
  EXPECT_EQ(jwtAlgorithmFromName("none"), std::nullopt);
  EXPECT_EQ(jwtAlgorithmFromName(std::string_view("HS256\0", 6)), std::nullopt);
}

}  // namespace
}  // namespace wsr::auth
