#pragma once
// A fixed set of threads running posted tasks in order of arrival. The admin
// server runs its handlers on two: one for publishing and the other routes,
// one of its own for the probes, so a kubelet probe never queues behind
// publish requests however many there are.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace wsr::admin {

class WorkerPool {
 public:
  explicit WorkerPool(size_t threads);
  ~WorkerPool();  // stop()
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Any thread. Tasks posted after stop() are dropped.
  void post(std::function<void()> task);
  // Runs the tasks already posted, then joins the threads. Idempotent.
  void stop();

 private:
  void run();

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> tasks_;  // guarded by mutex_
  bool stopping_ = false;                    // guarded by mutex_
  std::vector<std::thread> threads_;
};

}  // namespace wsr::admin
