#include "auth/SecretFile.h"

#include <gtest/gtest.h>
#include <utime.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <thread>

#include "SecretDirFixture.h"
#include "auth/SecretWatcher.h"
#include "auth/TokenSet.h"

namespace wsr::auth {
namespace {

using test::SecretDir;

// A token set kept by a SecretFile, as the Authenticator keeps it.
struct WatchedTokens {
  explicit WatchedTokens(const std::string& path)
      : file(path, [this](const std::string& content, std::string& error) {
          auto parsed = TokenSet::parse(content, "the token file", error);
          if (!parsed) return false;
          tokens.store(std::move(parsed));
          return true;
        }) {}
  bool accepts(std::string_view token) const {
    auto set = tokens.load();
    return set && set->contains(token);
  }
  std::atomic<std::shared_ptr<const TokenSet>> tokens;
  SecretFile file;
};

// Polls until `predicate` holds, for at most 5 s.
template <typename Predicate>
bool eventually(Predicate predicate) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < deadline) {
    if (predicate()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return predicate();
}

TEST(TokenSet, OneTokenPerLineCommentsAndBlanksSkipped) {
  std::string error;
  auto set =
      TokenSet::parse("# rotation 2026-11\n  old-token \n\nnew-token\r\nnew-token\n", "f", error);
  ASSERT_TRUE(set) << error;
  EXPECT_EQ(set->size(), 2u);
  EXPECT_TRUE(set->contains("old-token"));
  EXPECT_TRUE(set->contains("new-token"));
  EXPECT_FALSE(set->contains("# rotation 2026-11"));
  EXPECT_FALSE(set->contains("new-toke"));
  EXPECT_FALSE(set->contains(""));
  EXPECT_FALSE(TokenSet::parse("\n # only a comment\n", "tokens.txt", error));
  EXPECT_NE(error.find("tokens.txt"), std::string::npos) << error;
}

TEST(SecretFile, LoadsAndNamesTheFileWhenItCannot) {
  SecretDir secret;
  WatchedTokens missing(secret.path("tokens"));
  std::string error;
  EXPECT_FALSE(missing.file.load(error));
  EXPECT_NE(error.find(secret.path("tokens")), std::string::npos) << error;
  EXPECT_FALSE(missing.file.loaded());
  EXPECT_EQ(missing.file.failures(), 1u);

  secret.rotate({{"tokens", ""}});
  WatchedTokens empty(secret.path("tokens"));
  EXPECT_FALSE(empty.file.load(error));
  EXPECT_NE(error.find("empty"), std::string::npos) << error;

  secret.rotate({{"tokens", "t1\n"}});
  WatchedTokens good(secret.path("tokens"));
  ASSERT_TRUE(good.file.load(error)) << error;
  EXPECT_TRUE(good.accepts("t1"));
}

TEST(SecretFile, CheckSeesASymlinkSwapAndNotATouch) {
  SecretDir secret;
  secret.rotate({{"tokens", "t1\n"}});
  WatchedTokens watched(secret.path("tokens"));
  std::string error;
  ASSERT_TRUE(watched.file.load(error)) << error;
  EXPECT_EQ(watched.file.check(error), SecretFile::Change::None);

  secret.rotate({{"tokens", "t1\nt2\n"}});
  EXPECT_EQ(watched.file.check(error), SecretFile::Change::Reloaded);
  EXPECT_TRUE(watched.accepts("t1"));
  EXPECT_TRUE(watched.accepts("t2"));
  EXPECT_EQ(watched.file.reloads(), 1u);

  // Same bytes, new inode and time: nothing to reload.
  secret.rotate({{"tokens", "t1\nt2\n"}});
  EXPECT_EQ(watched.file.check(error), SecretFile::Change::None);
  EXPECT_EQ(watched.file.reloads(), 1u);
}

TEST(SecretFile, ABrokenRotationKeepsTheOldTokens) {
  SecretDir secret;
  secret.rotate({{"tokens", "t1\n"}});
  WatchedTokens watched(secret.path("tokens"));
  std::string error;
  ASSERT_TRUE(watched.file.load(error)) << error;
  secret.rotate({{"tokens", "   \n# nothing\n"}});
  EXPECT_EQ(watched.file.check(error), SecretFile::Change::Failed);
  EXPECT_NE(error.find(secret.path("tokens")), std::string::npos) << error;
  EXPECT_TRUE(watched.accepts("t1"));
  secret.rotate({{"other", "x"}});  // the key is gone from the Secret
  EXPECT_EQ(watched.file.check(error), SecretFile::Change::Failed);
  EXPECT_TRUE(watched.accepts("t1"));
  EXPECT_EQ(watched.file.failures(), 2u);
  EXPECT_EQ(watched.file.lastError(), error);
  // Fixed: picked up again.
  secret.rotate({{"tokens", "t3\n"}});
  EXPECT_EQ(watched.file.check(error), SecretFile::Change::Reloaded);
  EXPECT_FALSE(watched.accepts("t1"));
  EXPECT_TRUE(watched.accepts("t3"));
}

TEST(SecretFile, AnInPlaceRewriteIsCaught) {
  SecretDir secret;
  const std::string path = secret.dir() + "/plain";
  std::ofstream(path) << "t1\n";
  WatchedTokens watched(path);
  std::string error;
  ASSERT_TRUE(watched.file.load(error)) << error;
  std::ofstream(path, std::ios::trunc) << "t2-longer\n";
  EXPECT_EQ(watched.file.check(error), SecretFile::Change::Reloaded);
  EXPECT_TRUE(watched.accepts("t2-longer"));
}

TEST(SecretWatcher, PicksUpAKubernetesRotationWhileRunning) {
  SecretDir secret;
  secret.rotate({{"tokens", "old\n"}});
  WatchedTokens watched(secret.path("tokens"));
  std::string error;
  ASSERT_TRUE(watched.file.load(error)) << error;
  std::atomic<int> reports{0};
  std::atomic<int> failures{0};
  // A long safety-net interval: only inotify can be what notices.
  SecretWatcher watcher(std::chrono::hours(1), [&](const SecretFile&, bool ok, std::string_view) {
    ++reports;
    if (!ok) ++failures;
  });
  watcher.watch(watched.file);
  watcher.start();

  secret.rotate({{"tokens", "old\nnew\n"}});
  ASSERT_TRUE(eventually([&] { return watched.accepts("new"); }));
  EXPECT_TRUE(watched.accepts("old"));
  secret.rotate({{"tokens", "new\n"}});
  ASSERT_TRUE(eventually([&] { return !watched.accepts("old"); }));
  secret.rotate({{"tokens", ""}});
  ASSERT_TRUE(eventually([&] { return failures.load() == 1; }));
  EXPECT_TRUE(watched.accepts("new"));
  EXPECT_EQ(watched.file.reloads(), 2u);
}

TEST(SecretWatcher, LoadsAFileThatAppearsLater) {
  SecretDir secret;
  WatchedTokens watched(secret.path("tokens"));
  std::string error;
  ASSERT_FALSE(watched.file.load(error));
  SecretWatcher watcher(std::chrono::hours(1));
  watcher.watch(watched.file);
  watcher.start();
  secret.rotate({{"tokens", "late\n"}});
  ASSERT_TRUE(eventually([&] { return watched.file.loaded(); }));
  EXPECT_TRUE(watched.accepts("late"));
}

TEST(SecretWatcher, ThePeriodicCheckCatchesWhatInotifyCannotSee) {
  SecretDir secret;
  const std::string sub = secret.dir() + "/mounted";
  std::filesystem::create_directory(sub);
  std::ofstream(sub + "/tokens") << "t1\n";
  WatchedTokens watched(sub + "/tokens");
  std::string error;
  ASSERT_TRUE(watched.file.load(error)) << error;
  SecretWatcher watcher(std::chrono::milliseconds(50));
  watcher.watch(watched.file);
  watcher.start();
  // The watched directory itself is replaced: its inotify watch dies with it.
  std::filesystem::rename(sub, secret.dir() + "/old");
  std::filesystem::create_directory(sub);
  std::ofstream(sub + "/tokens") << "t2\n";
  ASSERT_TRUE(eventually([&] { return watched.accepts("t2"); }));
}

TEST(SecretWatcher, StopsPromptly) {
  SecretDir secret;
  secret.rotate({{"tokens", "t\n"}});
  WatchedTokens watched(secret.path("tokens"));
  std::string error;
  ASSERT_TRUE(watched.file.load(error));
  const auto start = std::chrono::steady_clock::now();
  {
    SecretWatcher watcher(std::chrono::hours(1));
    watcher.watch(watched.file);
    watcher.start();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
}

}  // namespace
}  // namespace wsr::auth
