#pragma once
// Who may connect (auth.mode): nobody is asked (none), a token listed in a
// file (token), or a signed JWT (jwt). The secret files are SecretFiles: the
// app registers them with a SecretWatcher, and a rotation swaps the token set
// or key set atomically while connections stay up. A broken rotation keeps
// the old secrets (SecretFile counts and reports it).
//
// A mode that needs a secret never runs open: until its files have loaded,
// ready() is false and every authenticate() answers not_ready.

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "auth/Identity.h"
#include "auth/JwtKeys.h"
#include "auth/JwtVerifier.h"
#include "auth/SecretFile.h"
#include "auth/TokenSet.h"

namespace wsr::auth {

enum class AuthMode { None, Token, Jwt };

struct AuthSettings {
  AuthMode mode = AuthMode::None;
  std::string tokenFile;  // mode Token
  JwtOptions jwt;         // mode Jwt
  JwtKeyPaths jwtKeys;    // mode Jwt: the files of the allowed algorithms
};

// Why a credential was refused; the names are metric labels.
enum class AuthFailure : uint8_t {
  Missing,       // no credential at all
  NotReady,      // the secrets have not loaded yet
  UnknownToken,  // mode token: not listed
  Malformed,     // then the JWT reasons, in JwtError's order
  AlgorithmNotAllowed,
  BadSignature,
  Expired,
  NotYetValid,
  WrongIssuer,
  WrongAudience,
  InvalidSubject,
  TooLong,
};
inline constexpr size_t kAuthFailureCount = 12;
std::string_view authFailureName(AuthFailure failure);

struct AuthOutcome {
  bool ok = false;
  // Mode jwt: who the token speaks for. Null in modes none and token.
  std::shared_ptr<const Identity> identity;
  AuthFailure failure = AuthFailure::Missing;
  std::string message;  // for the 401 body and the log; never the token
};

class Authenticator {
 public:
  explicit Authenticator(AuthSettings settings);
  Authenticator(const Authenticator&) = delete;
  Authenticator& operator=(const Authenticator&) = delete;

  AuthMode mode() const { return settings_.mode; }
  bool required() const { return settings_.mode != AuthMode::None; }
  const AuthSettings& settings() const { return settings_; }

  // Reads the secret files once. False, with `error` naming the file, when
  // one is missing, empty or invalid; with waitForSecrets the caller may go
  // on unready and let the watcher load it when it appears.
  bool load(std::string& error);
  bool ready() const;

  // The files to watch for rotation (none in mode none).
  std::vector<SecretFile*> secretFiles();

  // Any thread. `token` is the credential found, empty when none was sent.
  AuthOutcome authenticate(std::string_view token, int64_t nowSeconds) const;

  // Refusals so far, by reason (for stats and metrics).
  uint64_t failures(AuthFailure failure) const {
    return failures_[static_cast<size_t>(failure)].load(std::memory_order_relaxed);
  }

 private:
  bool installJwtKeys(std::string& error);
  AuthOutcome fail(AuthFailure failure, std::string message) const;

  AuthSettings settings_;
  JwtVerifier verifier_;
  std::atomic<std::shared_ptr<const TokenSet>> tokens_;
  std::atomic<std::shared_ptr<const JwtKeySet>> jwtKeys_;
  // The latest content of each JWT key file: a key set is built from all
  // three, so a change to one rebuilds it with the others as they were.
  std::array<std::string, 3> jwtKeyTexts_;
  std::vector<std::unique_ptr<SecretFile>> files_;
  mutable std::array<std::atomic<uint64_t>, kAuthFailureCount> failures_{};
};

}  // namespace wsr::auth
