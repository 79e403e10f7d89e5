#include "hub/SavedSession.h"

#include <gtest/gtest.h>

namespace wsr::hub {
namespace {

TEST(SavedSessionTest, RoundTripsSubjectsOfAnyBytesAndSeqsOrNone) {
  SavedSession session;
  session.subject = std::string("user 7\nwith\0 bytes", 18);
  session.subscriptions = {{"stock:AAPL", 1050}, {"index", std::nullopt}, {"user:7", 0}};
  const std::string text = encodeSavedSession(session);
  const std::optional<SavedSession> back = decodeSavedSession(text);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, session);
}

TEST(SavedSessionTest, AnEmptySubjectAndNoSubscriptionsRoundTrip) {
  const SavedSession session;
  EXPECT_EQ(encodeSavedSession(session), "0\n");
  EXPECT_EQ(decodeSavedSession("0\n"), session);
}

TEST(SavedSessionTest, TheTextFormIsTheDocumentedOne) {
  SavedSession session;
  session.subject = "u1";
  session.subscriptions = {{"stock:A", 3}, {"index", std::nullopt}};
  EXPECT_EQ(encodeSavedSession(session), "2\nu1stock:A 3\nindex -\n");
}

TEST(SavedSessionTest, RefusesWhatIsNotARecord) {
  for (const char* bad : {"", "\n", "x\n", "5\nab", "2\nu1stock:A", "2\nu1stock:A 3",
                          "2\nu1stock:A x\n", "2\nu1stock:A \n", "2\nu1bad channel! 3\n",
                          "2\nu1stock:A 3 4\n", "99999999999999999999\n"}) {
    EXPECT_FALSE(decodeSavedSession(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace wsr::hub
