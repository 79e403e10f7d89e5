#include "auth/Authenticator.h"

#include <optional>

namespace wsr::auth {
namespace {

constexpr std::string_view kFailureNames[kAuthFailureCount] = {
    "missing",         "not_ready", "unknown_token", "malformed",    "algorithm_not_allowed",
    "bad_signature",   "expired",   "not_yet_valid", "wrong_issuer", "wrong_audience",
    "invalid_subject", "too_long",
};

AuthFailure fromJwtError(JwtError error) {
  return static_cast<AuthFailure>(static_cast<size_t>(AuthFailure::Malformed) +
                                  static_cast<size_t>(error));
}

}  // namespace

std::string_view authFailureName(AuthFailure failure) {
  return kFailureNames[static_cast<size_t>(failure)];
}

Authenticator::Authenticator(AuthSettings settings)
    : settings_(std::move(settings)), verifier_(settings_.jwt) {
  if (settings_.mode == AuthMode::Token) {
    files_.push_back(std::make_unique<SecretFile>(
        settings_.tokenFile, [this](const std::string& content, std::string& error) {
          auto tokens = TokenSet::parse(content, "the token file", error);
          if (!tokens) return false;
          tokens_.store(std::move(tokens));
          return true;
        }));
  } else if (settings_.mode == AuthMode::Jwt) {
    const std::string* paths[3] = {&settings_.jwtKeys.hs256SecretsFile,
                                   &settings_.jwtKeys.rs256PublicKeysFile,
                                   &settings_.jwtKeys.es256PublicKeysFile};
    for (size_t i = 0; i < 3; ++i) {
      if (paths[i]->empty()) continue;
      files_.push_back(std::make_unique<SecretFile>(
          *paths[i], [this, i](const std::string& content, std::string& error) {
            std::string previous = std::move(jwtKeyTexts_[i]);
            jwtKeyTexts_[i] = content;
            if (installJwtKeys(error)) return true;
            jwtKeyTexts_[i] = std::move(previous);  // the old keys stay in force
            return false;
          }));
    }
  }
}

// Builds the key set from every file loaded so far; until all have loaded
// there is no key set (and no authentication).
bool Authenticator::installJwtKeys(std::string& error) {
  const JwtKeyPaths& paths = settings_.jwtKeys;
  JwtKeyTexts texts;
  const std::string* names[3] = {&paths.hs256SecretsFile, &paths.rs256PublicKeysFile,
                                 &paths.es256PublicKeysFile};
  std::optional<JwtKeyText>* slots[3] = {&texts.hs256Secrets, &texts.rs256PublicKeys,
                                         &texts.es256PublicKeys};
  for (size_t i = 0; i < 3; ++i) {
    if (names[i]->empty()) continue;
    if (jwtKeyTexts_[i].empty()) return true;  // another file still to come
    *slots[i] = JwtKeyText{jwtKeyTexts_[i], *names[i]};
  }
  auto keys = JwtKeySet::build(texts, error);
  if (!keys) return false;
  jwtKeys_.store(std::move(keys));
  return true;
}

bool Authenticator::load(std::string& error) {
  bool ok = true;
  for (auto& file : files_) {
    std::string fileError;
    if (!file->load(fileError)) {
      if (ok) error = fileError;
      ok = false;
    }
  }
  return ok;
}

bool Authenticator::ready() const {
  switch (settings_.mode) {
    case AuthMode::None:
      return true;
    case AuthMode::Token:
      return tokens_.load() != nullptr;
    case AuthMode::Jwt:
      return jwtKeys_.load() != nullptr;
  }
  return false;
}

std::vector<SecretFile*> Authenticator::secretFiles() {
  std::vector<SecretFile*> out;
  for (auto& file : files_)
    out.push_back(file.get());
  return out;
}

AuthOutcome Authenticator::fail(AuthFailure failure, std::string message) const {
  failures_[static_cast<size_t>(failure)].fetch_add(1, std::memory_order_relaxed);
  AuthOutcome outcome;
  outcome.failure = failure;
  outcome.message = std::move(message);
  return outcome;
}

AuthOutcome Authenticator::authenticate(std::string_view token, int64_t nowSeconds) const {
  AuthOutcome outcome;
  switch (settings_.mode) {
    case AuthMode::None:
      outcome.ok = true;
      return outcome;
    case AuthMode::Token: {
      const auto tokens = tokens_.load();
      if (!tokens) return fail(AuthFailure::NotReady, "the token file has not loaded yet");
      if (token.empty()) return fail(AuthFailure::Missing, "a token is required");
      if (!tokens->contains(token))
        return fail(AuthFailure::UnknownToken, "the token is not valid");
      outcome.ok = true;
      return outcome;
    }
    case AuthMode::Jwt: {
      const auto keys = jwtKeys_.load();
      if (!keys) return fail(AuthFailure::NotReady, "the JWT keys have not loaded yet");
      if (token.empty()) return fail(AuthFailure::Missing, "a token is required");
      JwtResult result = verifier_.verify(token, nowSeconds, *keys);
      if (!result.ok()) return fail(fromJwtError(result.error), std::move(result.message));
      outcome.ok = true;
      outcome.identity = std::make_shared<const Identity>(std::move(*result.identity));
      return outcome;
    }
  }
  return fail(AuthFailure::NotReady, "unknown auth mode");
}

}  // namespace wsr::auth
