// AdminFront on its own, with a trivial handler: the connection cap.

#include "admin/AdminFront.h"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "RawHttp.h"

namespace wsr::admin {
namespace {

using std::chrono::milliseconds;
using test::connectTo;
using test::readAnswers;
using test::readToEnd;
using test::sendAll;

constexpr std::string_view kRequest = "GET /x HTTP/1.1\r\n\r\n";

class AdminFrontTest : public ::testing::Test {
 protected:
  void start(size_t maxConnections, AdminFront::HeadPredicate runsInline = nullptr) {
    AdminFront::Options options;
    options.host = "127.0.0.1";
    options.threads = 2;
    options.probeThreads = 1;
    options.maxConnections = maxConnections;
    AdminFront::Routes routes;
    routes.handler = [this](const AdminConnection::Request& request, httplib::Response& res) {
      {
        std::lock_guard lock(threadsMutex_);
        threads_[request.http.path] = std::this_thread::get_id();
      }
      res.status = 200;
      res.set_content(request.http.path, "text/plain");
    };
    routes.runsInline = std::move(runsInline);
    routes.inlineHandler = routes.handler;
    routes.isProbe = [](const httplib::Request&) { return false; };
    routes.wantsBody = [](const httplib::Request&, std::string&) { return true; };
    front_ = std::make_unique<AdminFront>(options, std::move(routes));
    std::string error;
    ASSERT_TRUE(front_->start(error)) << error;
  }
  // A connection that has been served once and is idle now: accepted, in order.
  net::Fd servedConnection() {
    net::Fd fd = connectTo(front_->port(), milliseconds(3000));
    EXPECT_TRUE(sendAll(fd.get(), kRequest));
    EXPECT_EQ(readAnswers(fd.get(), 1).size(), 1u);
    return fd;
  }

  std::thread::id threadOf(const std::string& path) {
    std::lock_guard lock(threadsMutex_);
    return threads_[path];
  }

  std::mutex threadsMutex_;
  std::map<std::string, std::thread::id> threads_;  // the thread that answered each path
  std::unique_ptr<AdminFront> front_;
};

bool startsWithInline(const httplib::Request& head) {
  return head.path.starts_with("/inline");
}

TEST_F(AdminFrontTest, AtTheCapANewConnectionClosesTheOldestWaitingOne) {
  start(3);
  std::vector<net::Fd> idle;
  for (int i = 0; i < 3; ++i)
    idle.push_back(servedConnection());

  // A fourth (a kubelet probe, say) gets in and is answered...
  net::Fd fourth = servedConnection();
  // ...and the oldest idle one made room for it.
  bool closed = false;
  EXPECT_EQ(readToEnd(idle[0].get(), closed), "");
  EXPECT_TRUE(closed);
  ASSERT_TRUE(sendAll(idle[1].get(), kRequest));
  const std::vector<std::string> answers = readAnswers(idle[1].get(), 1);
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_TRUE(answers[0].ends_with("\r\n\r\n/x")) << answers[0];
}

TEST_F(AdminFrontTest, PipelinedRequestsAreAnsweredInOrderInlineOrNot) {
  start(16, startsWithInline);
  net::Fd fd = connectTo(front_->port(), milliseconds(3000));
  const std::vector<std::string> paths = {"/inline1", "/inline2", "/pool1",  "/inline3",
                                          "/pool2",   "/inline4", "/inline5"};
  std::string burst;
  for (const std::string& path : paths)
    burst += "GET " + path + " HTTP/1.1\r\n\r\n";
  ASSERT_TRUE(sendAll(fd.get(), burst));
  const std::vector<std::string> answers = readAnswers(fd.get(), paths.size());
  ASSERT_EQ(answers.size(), paths.size());
  for (size_t i = 0; i < paths.size(); ++i)
    EXPECT_TRUE(answers[i].ends_with("\r\n\r\n" + paths[i])) << i << ": " << answers[i];
  // The inline ones on one thread (the loop's), the others elsewhere.
  EXPECT_EQ(threadOf("/inline1"), threadOf("/inline5"));
  EXPECT_NE(threadOf("/inline1"), threadOf("/pool1"));
  EXPECT_NE(threadOf("/inline1"), std::this_thread::get_id());
}

TEST_F(AdminFrontTest, AClientThatDoesNotReadItsAnswersHoldsOnlyItself) {
  start(16, startsWithInline);
  // Pipelines far more than the socket buffers hold, without reading: the
  // server stops reading it once its answers do not go out.
  net::Fd greedy = connectTo(front_->port(), milliseconds(3000));
  const std::string request = "GET /inline-x HTTP/1.1\r\n\r\n";
  constexpr size_t kRequests = 200000;
  std::string burst;
  for (size_t i = 0; i < kRequests; ++i)
    burst += request;
  std::thread sender([&] { sendAll(greedy.get(), burst); });
  // Meanwhile others are served.
  for (int i = 0; i < 3; ++i) {
    net::Fd other = connectTo(front_->port(), milliseconds(3000));
    ASSERT_TRUE(sendAll(other.get(), "GET /inline-other HTTP/1.1\r\n\r\n"));
    ASSERT_EQ(readAnswers(other.get(), 1).size(), 1u);
  }
  // And the greedy one gets every answer, in order, once it reads.
  const std::vector<std::string> answers = readAnswers(greedy.get(), kRequests);
  sender.join();
  ASSERT_EQ(answers.size(), kRequests);
  EXPECT_TRUE(answers.back().ends_with("/inline-x"));
}

}  // namespace
}  // namespace wsr::admin
