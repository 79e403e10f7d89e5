// The admin views' question to every worker: typed answers, one deadline,
// and a worker that answers after the caller gave up reads only its own
// copy of the question.

#include "app/WorkerQuery.h"

#include <gtest/gtest.h>

#include <future>
#include <string>

namespace wsr::app {
namespace {

class NullHandler final : public ws::WebSocketHandler {
 public:
  void onMessage(ws::WebSocket&, std::string_view, bool) override {}
};

class WorkerQueryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ws::ServerOptions options;
    options.host = "127.0.0.1";
    options.port = 0;
    options.workers = 2;
    server_ = std::make_unique<ws::Server>(
        options, [](ws::Server&, ws::Worker&) { return std::make_unique<NullHandler>(); });
    std::string error;
    ASSERT_TRUE(server_->listen(error)) << error;
    server_->start();
  }
  void TearDown() override { server_->stop(); }

  std::unique_ptr<ws::Server> server_;
};

TEST_F(WorkerQueryTest, AnswersAreTypedOnePerWorker) {
  const std::vector<size_t> answers =
      askWorkers(*server_, std::chrono::seconds(5),
                 [](ws::Worker& worker) { return size_t{worker.index()} + 10; });
  EXPECT_EQ(answers, (std::vector<size_t>{10, 11}));
}

TEST_F(WorkerQueryTest, AStalledWorkerIsLeftOutAndLaterReadsOnlyItsOwnCopy) {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<void> stalled;
  server_->worker(1).loop().post([released, &stalled] {
    stalled.set_value();
    released.wait();
  });
  stalled.get_future().wait();

  std::promise<std::string> lateRead;
  {
    // Longer than any small-string buffer: it lives on the heap and is
    // freed when this scope ends, before worker 1 reads its question.
    const std::string user(64, 'u');
    const std::vector<size_t> answers =
        askWorkers(*server_, std::chrono::milliseconds(100), [user, &lateRead](ws::Worker& worker) {
          if (worker.index() == 1) lateRead.set_value(user);
          return user.size();
        });
    EXPECT_EQ(answers, (std::vector<size_t>{64}));  // worker 0 only
  }
  release.set_value();
  std::future<std::string> read = lateRead.get_future();
  ASSERT_EQ(read.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_EQ(read.get(), std::string(64, 'u'));
}

}  // namespace
}  // namespace wsr::app
