// JWT key sets: parsing and vetting each kind of key file, errors that name
// the file and never the secret, each kind serving only its algorithm.

#include "auth/JwtKeys.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "JwtTestUtil.h"

namespace wsr::auth {
namespace {

using test::kOtherSecret;
using test::kSecret;
using test::publicKeyPem;
using test::testKeys;

std::shared_ptr<const JwtKeySet> buildHs(std::string_view content, std::string& error) {
  JwtKeyTexts texts;
  texts.hs256Secrets = JwtKeyText{content, "/run/secrets/jwt-hs"};
  return JwtKeySet::build(texts, error);
}

std::shared_ptr<const JwtKeySet> buildRs(std::string_view content, std::string& error) {
  JwtKeyTexts texts;
  texts.rs256PublicKeys = JwtKeyText{content, "/run/secrets/jwt-rs.pem"};
  return JwtKeySet::build(texts, error);
}

std::shared_ptr<const JwtKeySet> buildEs(std::string_view content, std::string& error) {
  JwtKeyTexts texts;
  texts.es256PublicKeys = JwtKeyText{content, "/run/secrets/jwt-es.pem"};
  return JwtKeySet::build(texts, error);
}

TEST(JwtKeys, HmacSecretsOnePerLineTrimmedBlankLinesSkipped) {
  const std::string content =
      "\n  " + std::string(kSecret) + " \r\n\t\n" + std::string(kOtherSecret) + "\n   \n";
  std::string error;
  const auto keys = buildHs(content, error);
  ASSERT_NE(keys, nullptr) << error;
  EXPECT_EQ(keys->keyCount(JwtAlgorithm::HS256), 2u);
  EXPECT_FALSE(keys->hasKeys(JwtAlgorithm::RS256));
  EXPECT_FALSE(keys->hasKeys(JwtAlgorithm::ES256));
  // Trimmed: the secret is the text without the surrounding whitespace.
  const std::string input = "header.payload";
  EXPECT_TRUE(keys->verifySignature(JwtAlgorithm::HS256, input, test::hmacSha256(kSecret, input)));
  EXPECT_TRUE(
      keys->verifySignature(JwtAlgorithm::HS256, input, test::hmacSha256(kOtherSecret, input)));
  EXPECT_FALSE(keys->verifySignature(JwtAlgorithm::HS256, input,
                                     test::hmacSha256("  " + std::string(kSecret), input)));
}

TEST(JwtKeys, HmacSecretOf32BytesIsTheMinimum) {
  std::string error;
  EXPECT_NE(buildHs(std::string(32, 'k'), error), nullptr) << error;
  const std::string shortSecret(31, 'k');
  EXPECT_EQ(buildHs(std::string(kSecret) + "\n\n" + shortSecret + "\n", error), nullptr);
  EXPECT_NE(error.find("/run/secrets/jwt-hs"), std::string::npos) << error;
  EXPECT_NE(error.find("line 3"), std::string::npos) << error;
  EXPECT_NE(error.find("32 bytes"), std::string::npos) << error;
  EXPECT_EQ(error.find(shortSecret), std::string::npos) << "the error must not quote the secret";
  EXPECT_EQ(error.find(kSecret), std::string::npos) << "the error must not quote the secret";
}

TEST(JwtKeys, HmacFileWithoutSecretIsRefused) {
  std::string error;
  EXPECT_EQ(buildHs("", error), nullptr);
  EXPECT_NE(error.find("no secret"), std::string::npos) << error;
  EXPECT_EQ(buildHs(" \n\t\n", error), nullptr);
  EXPECT_NE(error.find("/run/secrets/jwt-hs"), std::string::npos) << error;
}

TEST(JwtKeys, PemTextIsNeverAnHmacSecret) {
  std::string error;
  EXPECT_EQ(buildHs(publicKeyPem(testKeys().rsa.get()), error), nullptr);
  EXPECT_NE(error.find("line 1"), std::string::npos) << error;
  EXPECT_NE(error.find("PEM"), std::string::npos) << error;
}

TEST(JwtKeys, RsaPublicKeysRotationOverlapInOneFile) {
  const std::string content = "# old key\n" + publicKeyPem(testKeys().rsa.get()) + "\n# new key\n" +
                              publicKeyPem(testKeys().otherRsa.get());
  std::string error;
  const auto keys = buildRs(content, error);
  ASSERT_NE(keys, nullptr) << error;
  EXPECT_EQ(keys->keyCount(JwtAlgorithm::RS256), 2u);
  EXPECT_FALSE(keys->hasKeys(JwtAlgorithm::HS256));
  const std::string input = "header.payload";
  EXPECT_TRUE(keys->verifySignature(JwtAlgorithm::RS256, input,
                                    test::digestSign(testKeys().rsa.get(), input)));
  EXPECT_TRUE(keys->verifySignature(JwtAlgorithm::RS256, input,
                                    test::digestSign(testKeys().otherRsa.get(), input)));
}

TEST(JwtKeys, RsaKeyOf1024BitsIsRefused) {
  const auto weak = test::generateRsaKey(1024);
  std::string error;
  EXPECT_EQ(buildRs(publicKeyPem(testKeys().rsa.get()) + publicKeyPem(weak.get()), error), nullptr);
  EXPECT_NE(error.find("/run/secrets/jwt-rs.pem"), std::string::npos) << error;
  EXPECT_NE(error.find("block 2"), std::string::npos) << error;
  EXPECT_NE(error.find("1024"), std::string::npos) << error;
  EXPECT_NE(error.find("2048"), std::string::npos) << error;
}

TEST(JwtKeys, EcKeyInTheRsaFileIsRefused) {
  std::string error;
  EXPECT_EQ(buildRs(publicKeyPem(testKeys().ec.get()), error), nullptr);
  EXPECT_NE(error.find("/run/secrets/jwt-rs.pem"), std::string::npos) << error;
  EXPECT_NE(error.find("not an RSA key"), std::string::npos) << error;
}

TEST(JwtKeys, EcP256PublicKeys) {
  std::string error;
  const auto keys =
      buildEs(publicKeyPem(testKeys().ec.get()) + publicKeyPem(testKeys().otherEc.get()), error);
  ASSERT_NE(keys, nullptr) << error;
  EXPECT_EQ(keys->keyCount(JwtAlgorithm::ES256), 2u);
  const std::string input = "header.payload";
  EXPECT_TRUE(keys->verifySignature(
      JwtAlgorithm::ES256, input,
      test::derToRawEcdsa(test::digestSign(testKeys().otherEc.get(), input))));
}

TEST(JwtKeys, RsaKeyInTheEcFileIsRefused) {
  std::string error;
  EXPECT_EQ(buildEs(publicKeyPem(testKeys().rsa.get()), error), nullptr);
  EXPECT_NE(error.find("/run/secrets/jwt-es.pem"), std::string::npos) << error;
  EXPECT_NE(error.find("not an EC key"), std::string::npos) << error;
}

TEST(JwtKeys, EcKeyOnP384IsRefused) {
  const auto p384 = test::generateEcKey("P-384");
  std::string error;
  EXPECT_EQ(buildEs(publicKeyPem(p384.get()), error), nullptr);
  EXPECT_NE(error.find("/run/secrets/jwt-es.pem"), std::string::npos) << error;
  EXPECT_NE(error.find("P-256"), std::string::npos) << error;
}

TEST(JwtKeys, PrivateKeyBlockIsRefusedNotSkipped) {
  std::string error;
  EXPECT_EQ(buildRs(publicKeyPem(testKeys().rsa.get()) + test::privateKeyPem(testKeys().rsa.get()),
                    error),
            nullptr);
  EXPECT_NE(error.find("/run/secrets/jwt-rs.pem"), std::string::npos) << error;
  EXPECT_NE(error.find("PRIVATE KEY"), std::string::npos) << error;
  EXPECT_NE(error.find("block 2"), std::string::npos) << error;
}

TEST(JwtKeys, FileWithoutPemBlockIsRefused) {
  std::string error;
  EXPECT_EQ(buildRs("not a key\n", error), nullptr);
  EXPECT_NE(error.find("no PEM PUBLIC KEY block"), std::string::npos) << error;
  EXPECT_EQ(buildEs("", error), nullptr);
  EXPECT_NE(error.find("/run/secrets/jwt-es.pem"), std::string::npos) << error;
}

TEST(JwtKeys, CorruptPemBlockIsRefused) {
  std::string pem = publicKeyPem(testKeys().ec.get());
  pem[pem.find('\n') + 5] = '*';  // not base64
  std::string error;
  EXPECT_EQ(buildEs(pem, error), nullptr);
  EXPECT_NE(error.find("/run/secrets/jwt-es.pem"), std::string::npos) << error;

  // Valid base64 that is not a SubjectPublicKeyInfo.
  EXPECT_EQ(buildEs("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", error),
            nullptr);
  EXPECT_NE(error.find("not a valid public key"), std::string::npos) << error;
}

TEST(JwtKeys, NoKeyFileAtAllIsRefused) {
  std::string error;
  EXPECT_EQ(JwtKeySet::build(JwtKeyTexts{}, error), nullptr);
  EXPECT_FALSE(error.empty());
}

TEST(JwtKeys, OneBadFileRefusesTheWholeSet) {
  const std::string rsaPem = publicKeyPem(testKeys().rsa.get());
  JwtKeyTexts texts;
  texts.hs256Secrets = JwtKeyText{kSecret, "hs"};
  texts.rs256PublicKeys = JwtKeyText{rsaPem, "rs"};
  texts.es256PublicKeys = JwtKeyText{rsaPem, "es"};
  std::string error;
  EXPECT_EQ(JwtKeySet::build(texts, error), nullptr);
  EXPECT_NE(error.find("'es'"), std::string::npos) << error;
}

TEST(JwtKeys, KeysOfEachKindServeOnlyTheirAlgorithm) {
  const std::string rsaPem = publicKeyPem(testKeys().rsa.get());
  const std::string ecPem = publicKeyPem(testKeys().ec.get());
  JwtKeyTexts texts;
  texts.hs256Secrets = JwtKeyText{kSecret, "hs"};
  texts.rs256PublicKeys = JwtKeyText{rsaPem, "rs"};
  texts.es256PublicKeys = JwtKeyText{ecPem, "es"};
  std::string error;
  const auto keys = JwtKeySet::build(texts, error);
  ASSERT_NE(keys, nullptr) << error;
  const std::string input = "header.payload";
  const std::string rsaSignature = test::digestSign(testKeys().rsa.get(), input);
  const std::string ecSignature = test::derToRawEcdsa(test::digestSign(testKeys().ec.get(), input));
  const std::string hmac = test::hmacSha256(kSecret, input);
  EXPECT_TRUE(keys->verifySignature(JwtAlgorithm::RS256, input, rsaSignature));
  EXPECT_TRUE(keys->verifySignature(JwtAlgorithm::ES256, input, ecSignature));
  EXPECT_TRUE(keys->verifySignature(JwtAlgorithm::HS256, input, hmac));
  EXPECT_FALSE(keys->verifySignature(JwtAlgorithm::HS256, input, rsaSignature));
  EXPECT_FALSE(keys->verifySignature(JwtAlgorithm::ES256, input, rsaSignature));
  EXPECT_FALSE(keys->verifySignature(JwtAlgorithm::RS256, input, ecSignature));
  EXPECT_FALSE(keys->verifySignature(JwtAlgorithm::RS256, input, hmac));
  // The public key's PEM text is not an HMAC secret.
  EXPECT_FALSE(keys->verifySignature(JwtAlgorithm::HS256, input, test::hmacSha256(rsaPem, input)));
}

// Key files in a fresh directory under the test temp dir.
class JwtKeysFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "wsr-jwt-keys-XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    for (const std::string& path : written_)
      unlink(path.c_str());
    rmdir(dir_.c_str());
  }
  std::string write(const std::string& name, const std::string& text) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
    written_.push_back(path);
    return path;
  }

  std::string dir_;
  std::vector<std::string> written_;
};

TEST_F(JwtKeysFileTest, LoadsTheGivenFiles) {
  JwtKeyPaths paths;
  paths.hs256SecretsFile = write("hs", std::string(kSecret) + "\n");
  paths.es256PublicKeysFile = write("es.pem", publicKeyPem(testKeys().ec.get()));
  std::string error;
  const auto keys = JwtKeySet::load(paths, error);
  ASSERT_NE(keys, nullptr) << error;
  EXPECT_EQ(keys->keyCount(JwtAlgorithm::HS256), 1u);
  EXPECT_EQ(keys->keyCount(JwtAlgorithm::RS256), 0u);
  EXPECT_EQ(keys->keyCount(JwtAlgorithm::ES256), 1u);
}

TEST_F(JwtKeysFileTest, ErrorsNameThePath) {
  JwtKeyPaths paths;
  paths.rs256PublicKeysFile = dir_ + "/missing.pem";
  std::string error;
  EXPECT_EQ(JwtKeySet::load(paths, error), nullptr);
  EXPECT_NE(error.find(paths.rs256PublicKeysFile), std::string::npos) << error;

  paths.rs256PublicKeysFile = write("ec-as-rsa.pem", publicKeyPem(testKeys().ec.get()));
  EXPECT_EQ(JwtKeySet::load(paths, error), nullptr);
  EXPECT_NE(error.find(paths.rs256PublicKeysFile), std::string::npos) << error;
}

}  // namespace
}  // namespace wsr::auth
