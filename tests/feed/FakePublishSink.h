#pragma once
// A PublishSink for the feed's tests: records every publication, answers
// hasSubscribers from a configurable set, can refuse publications, and lets a
// test wait (bounded) for a condition on what was recorded.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "hub/PublishSink.h"

namespace wsr::feed::feedtest {

class FakePublishSink final : public hub::PublishSink {
 public:
  struct Record {
    hub::Publication publication;
    uint64_t seq = 0;
    std::chrono::steady_clock::time_point at;
  };

  hub::PublishResult publish(hub::Publication&& publication) override {
    std::lock_guard lock(mutex_);
    if (refuse_) {
      ++refused_;
      changed_.notify_all();
      return {hub::PublishError::Unavailable, "broker down (test)", 0};
    }
    // The sink, not the publisher, numbers each channel's publications.
    const uint64_t seq = ++seqs_[publication.channel];
    records_.push_back({std::move(publication), seq, std::chrono::steady_clock::now()});
    changed_.notify_all();
    return {hub::PublishError::None, "", seq};
  }

  bool hasSubscribers(std::string_view channel) const override {
    std::lock_guard lock(mutex_);
    asked_.insert(std::string(channel));
    ++asks_;
    changed_.notify_all();
    return all_ || subscribed_.count(std::string(channel)) != 0;
  }

  void subscribeAll(bool all) {
    std::lock_guard lock(mutex_);
    all_ = all;
  }
  void subscribe(std::string channel) {
    std::lock_guard lock(mutex_);
    subscribed_.insert(std::move(channel));
  }
  void refuse(bool refuse) {
    std::lock_guard lock(mutex_);
    refuse_ = refuse;
  }

  std::vector<Record> records() const {
    std::lock_guard lock(mutex_);
    return records_;
  }
  std::set<std::string> asked() const {
    std::lock_guard lock(mutex_);
    return asked_;
  }
  uint64_t asks() const {
    std::lock_guard lock(mutex_);
    return asks_;
  }
  uint64_t refused() const {
    std::lock_guard lock(mutex_);
    return refused_;
  }
  size_t count(std::string_view type) const {
    std::lock_guard lock(mutex_);
    return countLocked(type);
  }

  // Waits until `done(records)` holds, at most `timeout`; returns whether it did.
  bool waitFor(const std::function<bool(const std::vector<Record>&)>& done,
               std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return done(records_); });
  }
  bool waitForCount(std::string_view type, size_t n,
                    std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return countLocked(type) >= n; });
  }
  // For a feed that publishes nothing: waits until it asked `n` times.
  bool waitForAsks(uint64_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return asks_ >= n; });
  }
  // For refusals, which record nothing: waits until `n` were refused.
  bool waitForRefused(uint64_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return refused_ >= n; });
  }

 private:
  size_t countLocked(std::string_view type) const {
    size_t n = 0;
    for (const Record& r : records_)
      n += r.publication.type == type;
    return n;
  }

  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::vector<Record> records_;
  std::map<std::string, uint64_t> seqs_;
  std::set<std::string> subscribed_;
  mutable std::set<std::string> asked_;
  mutable uint64_t asks_ = 0;
  bool all_ = false;
  bool refuse_ = false;
  uint64_t refused_ = 0;
};

}  // namespace wsr::feed::feedtest
