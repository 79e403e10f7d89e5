#include "telemetry/Logger.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <string>

namespace wsr::telemetry {
namespace {

// A pipe the logger writes into; read() returns everything written so far.
class Pipe {
 public:
  Pipe() { EXPECT_EQ(pipe(fds_), 0); }
  ~Pipe() {
    close(fds_[0]);
    close(fds_[1]);
  }
  int writeEnd() const { return fds_[1]; }
  std::string read() {
    close(fds_[1]);
    fds_[1] = -1;
    std::string out;
    char buffer[4096];
    ssize_t n = 0;
    while ((n = ::read(fds_[0], buffer, sizeof buffer)) > 0)
      out.append(buffer, static_cast<size_t>(n));
    return out;
  }

 private:
  int fds_[2] = {-1, -1};
};

TEST(Logger, FormatsOneJsonObjectWithTimeLevelEventAndFields) {
  const std::string line =
      Logger::format(1763803800123, LogLevel::Warn, "connection_refused",
                     {{"reason", "too_many_connections"}, {"client", "10.0.0.7"}, {"limit", 5}});
  EXPECT_EQ(line,
            R"({"time":"2025-11-22T09:30:00.123Z","level":"warn","event":"connection_refused",)"
            R"("reason":"too_many_connections","client":"10.0.0.7","limit":5})");
}

TEST(Logger, EscapesQuotesBackslashesAndControlCharacters) {
  const std::string line =
      Logger::format(0, LogLevel::Info, "e", {{"message", "a \"b\" \\ c\nd\x01"}});
  EXPECT_NE(line.find(R"("message":"a \"b\" \\ c\nd\u0001")"), std::string::npos) << line;
}

// A request target is the client's bytes: what is not UTF-8 must not make
// the line invalid JSON (issue 11, defect 3).
TEST(Logger, ATargetWithBytesAbove0x7fStillGivesAJsonLine) {
  const std::string target = "/ws/\xff\xfe\xc3?\xe2\x82=1&caf\xc3\xa9\x80";
  const std::string line = Logger::format(0, LogLevel::Warn, "connection_refused",
                                          {{"target", target}, {"client", "10.0.0.7"}});
  nlohmann::json parsed;
  ASSERT_NO_THROW(parsed = nlohmann::json::parse(line)) << line;
  const std::string fffd = "\xEF\xBF\xBD";
  EXPECT_EQ(parsed["target"], "/ws/" + fffd + fffd + fffd + "?" + fffd + "=1&caf\xc3\xa9" + fffd);
  EXPECT_EQ(parsed["client"], "10.0.0.7");
}

TEST(Logger, SkipsLinesBelowItsLevel) {
  Pipe pipe;
  Logger logger(LogLevel::Warn, pipe.writeEnd());
  logger.log(LogLevel::Info, "hidden");
  logger.log(LogLevel::Error, "shown", {{"n", 1}});
  const std::string out = pipe.read();
  EXPECT_EQ(out.find("hidden"), std::string::npos);
  EXPECT_NE(out.find(R"("event":"shown","n":1})"), std::string::npos) << out;
  EXPECT_EQ(out.back(), '\n');
}

TEST(Logger, LimitedLinesAreCappedPerSecondAndTheRestCounted) {
  Pipe pipe;
  Logger logger(LogLevel::Info, pipe.writeEnd(), 3);
  for (int i = 0; i < 10; ++i)
    logger.logLimited(LogLevel::Warn, "refused", {{"i", i}});
  const std::string out = pipe.read();
  size_t lines = 0;
  for (char c : out)
    lines += c == '\n' ? 1 : 0;
  // Within one second at most 3 lines get through (two if the second turns
  // over mid-loop, which then lets a fourth through; never all ten).
  EXPECT_LE(lines, 6u);
  EXPECT_GE(lines, 3u);
  EXPECT_EQ(logger.suppressed(), 10 - lines);
}

TEST(Logger, ParsesLevels) {
  LogLevel level = LogLevel::Info;
  EXPECT_TRUE(parseLogLevel("debug", level));
  EXPECT_EQ(level, LogLevel::Debug);
  EXPECT_FALSE(parseLogLevel("verbose", level));
  EXPECT_EQ(level, LogLevel::Debug);
}

}  // namespace
}  // namespace wsr::telemetry
