// AdminFront on its own, with a trivial handler: the connection cap.

#include "admin/AdminFront.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
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
  void start(size_t maxConnections) {
    AdminFront::Options options;
    options.host = "127.0.0.1";
    options.threads = 2;
    options.probeThreads = 1;
    options.maxConnections = maxConnections;
    AdminFront::Routes routes;
    routes.handler = [](const AdminConnection::Request& request, httplib::Response& res) {
      res.status = 200;
      res.set_content(request.http.path, "text/plain");
    };
    routes.isProbe = [](const httplib::Request&) { return false; };
    routes.wantsBody = [](const httplib::Request&) { return true; };
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

  std::unique_ptr<AdminFront> front_;
};

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

}  // namespace
}  // namespace wsr::admin
