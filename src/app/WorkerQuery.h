#pragma once
// Asks every worker a question on its own thread and collects the typed
// answers, giving up on a worker that does not answer in time (a stalled
// loop must not hang the admin API too). The question is copied into each
// worker's task, so a worker that answers after the caller gave up still
// reads only what it owns: capture arguments by value.

#include <chrono>
#include <future>
#include <memory>
#include <type_traits>
#include <vector>

#include "ws/Server.h"

namespace wsr::app {

template <typename Fn>
auto askWorkers(ws::Server& server, std::chrono::milliseconds timeout, Fn fn)
    -> std::vector<std::invoke_result_t<Fn&, ws::Worker&>> {
  using Answer = std::invoke_result_t<Fn&, ws::Worker&>;
  std::vector<std::future<Answer>> pending;
  for (size_t i = 0; i < server.workerCount(); ++i) {
    auto promise = std::make_shared<std::promise<Answer>>();
    pending.push_back(promise->get_future());
    ws::Worker& worker = server.worker(i);
    worker.loop().post([promise, fn, &worker]() mutable { promise->set_value(fn(worker)); });
  }
  // One deadline for all: a stalled worker costs the caller `timeout`, not
  // `timeout` per worker.
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::vector<Answer> answers;
  for (auto& answer : pending) {
    if (answer.wait_until(deadline) == std::future_status::ready) answers.push_back(answer.get());
  }
  return answers;
}

}  // namespace wsr::app
