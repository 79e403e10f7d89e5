#include "auth/Authenticator.h"

#include <gtest/gtest.h>

#include <fstream>

#include "JwtTestUtil.h"
#include "SecretDirFixture.h"
#include "auth/JwtError.h"

namespace wsr::auth {
namespace {

using test::SecretDir;

constexpr int64_t kNow = 1763800000;

std::string claims(int64_t exp, std::string_view sub = "42") {
  return "{\"sub\":\"" + std::string(sub) + "\",\"exp\":" + std::to_string(exp) + "}";
}

TEST(Authenticator, ModeNoneAsksNothing) {
  Authenticator auth(AuthSettings{});
  std::string error;
  EXPECT_TRUE(auth.load(error));
  EXPECT_TRUE(auth.ready());
  EXPECT_FALSE(auth.required());
  EXPECT_TRUE(auth.authenticate("", kNow).ok);
  EXPECT_TRUE(auth.secretFiles().empty());
}

TEST(Authenticator, TokenModeIsNotReadyWithoutItsFileAndNamesIt) {
  SecretDir secret;
  AuthSettings settings;
  settings.mode = AuthMode::Token;
  settings.tokenFile = secret.path("tokens");
  Authenticator auth(settings);
  std::string error;
  EXPECT_FALSE(auth.load(error));
  EXPECT_NE(error.find(secret.path("tokens")), std::string::npos) << error;
  EXPECT_FALSE(auth.ready());
  const AuthOutcome outcome = auth.authenticate("anything", kNow);
  EXPECT_FALSE(outcome.ok);
  EXPECT_EQ(outcome.failure, AuthFailure::NotReady);
}

TEST(Authenticator, TokenModeChecksTheListAndCountsFailuresByReason) {
  SecretDir secret;
  secret.rotate({{"tokens", "client-token-1\n"}});
  AuthSettings settings;
  settings.mode = AuthMode::Token;
  settings.tokenFile = secret.path("tokens");
  Authenticator auth(settings);
  std::string error;
  ASSERT_TRUE(auth.load(error)) << error;
  ASSERT_EQ(auth.secretFiles().size(), 1u);
  const AuthOutcome good = auth.authenticate("client-token-1", kNow);
  EXPECT_TRUE(good.ok);
  EXPECT_EQ(good.identity, nullptr);
  EXPECT_EQ(auth.authenticate("", kNow).failure, AuthFailure::Missing);
  EXPECT_EQ(auth.authenticate("client-token-2", kNow).failure, AuthFailure::UnknownToken);
  EXPECT_EQ(auth.failures(AuthFailure::Missing), 1u);
  EXPECT_EQ(auth.failures(AuthFailure::UnknownToken), 1u);
  // A rotation through the SecretFile swaps the list.
  secret.rotate({{"tokens", "client-token-2\n"}});
  ASSERT_EQ(auth.secretFiles()[0]->check(error), SecretFile::Change::Reloaded) << error;
  EXPECT_TRUE(auth.authenticate("client-token-2", kNow).ok);
  EXPECT_FALSE(auth.authenticate("client-token-1", kNow).ok);
}

TEST(Authenticator, JwtModeGivesTheIdentityAndTheReasonOfEachRefusal) {
  SecretDir secret;
  const auto& keys = test::testKeys();
  secret.rotate({{"hs256", std::string(test::kSecret) + "\n"},
                 {"es256.pem", test::publicKeyPem(keys.ec.get())}});
  AuthSettings settings;
  settings.mode = AuthMode::Jwt;
  settings.jwt.algorithms = JwtAlgorithmSet{JwtAlgorithm::HS256, JwtAlgorithm::ES256};
  settings.jwt.leewaySeconds = 0;
  settings.jwtKeys.hs256SecretsFile = secret.path("hs256");
  settings.jwtKeys.es256PublicKeysFile = secret.path("es256.pem");
  Authenticator auth(settings);
  std::string error;
  ASSERT_TRUE(auth.load(error)) << error;
  EXPECT_TRUE(auth.ready());

  const AuthOutcome hs =
      auth.authenticate(test::hs256Token(test::kSecret, claims(kNow + 60)), kNow);
  ASSERT_TRUE(hs.ok) << hs.message;
  ASSERT_NE(hs.identity, nullptr);
  EXPECT_EQ(hs.identity->subject, "42");
  EXPECT_EQ(hs.identity->expiresAt, kNow + 60);
  EXPECT_TRUE(auth.authenticate(test::es256Token(keys.ec.get(), claims(kNow + 60)), kNow).ok);

  EXPECT_EQ(auth.authenticate(test::hs256Token(test::kSecret, claims(kNow - 1)), kNow).failure,
            AuthFailure::Expired);
  EXPECT_EQ(
      auth.authenticate(test::hs256Token(test::kOtherSecret, claims(kNow + 60)), kNow).failure,
      AuthFailure::BadSignature);
  EXPECT_EQ(auth.authenticate("garbage", kNow).failure, AuthFailure::Malformed);
  // The failure names line up with JwtError's.
  EXPECT_EQ(authFailureName(AuthFailure::Expired), jwtErrorName(JwtError::Expired));
  EXPECT_EQ(authFailureName(AuthFailure::TooLong), jwtErrorName(JwtError::TooLong));
  EXPECT_EQ(authFailureName(AuthFailure::Malformed), jwtErrorName(JwtError::Malformed));
}

TEST(Authenticator, ABrokenKeyRotationKeepsTheKeysInForce) {
  SecretDir secret;
  secret.rotate({{"hs256", std::string(test::kSecret) + "\n"}});
  AuthSettings settings;
  settings.mode = AuthMode::Jwt;
  settings.jwt.algorithms = JwtAlgorithmSet{JwtAlgorithm::HS256};
  settings.jwtKeys.hs256SecretsFile = secret.path("hs256");
  Authenticator auth(settings);
  std::string error;
  ASSERT_TRUE(auth.load(error)) << error;
  secret.rotate({{"hs256", "too-short\n"}});
  EXPECT_EQ(auth.secretFiles()[0]->check(error), SecretFile::Change::Failed);
  EXPECT_NE(error.find(secret.path("hs256")), std::string::npos) << error;
  EXPECT_EQ(error.find("too-short"), std::string::npos) << "the secret leaked: " << error;
  EXPECT_TRUE(auth.authenticate(test::hs256Token(test::kSecret, claims(kNow + 60)), kNow).ok);
}

}  // namespace
}  // namespace wsr::auth
