#include "hub/WorkerSet.h"

#include <gtest/gtest.h>

#include <vector>

namespace wsr::hub {
namespace {

std::vector<size_t> members(const WorkerSet& set) {
  std::vector<size_t> out;
  set.forEach([&](size_t worker) { out.push_back(worker); });
  return out;
}

TEST(WorkerSet, HoldsAnyWorkerTheConfigAllows) {
  WorkerSet set;
  EXPECT_TRUE(set.empty());
  for (size_t worker : {0u, 63u, 64u, 65u, 127u, 128u, 1023u})
    set.insert(worker);
  EXPECT_EQ(members(set), (std::vector<size_t>{0, 63, 64, 65, 127, 128, 1023}));
  EXPECT_EQ(set.size(), 7u);
  EXPECT_TRUE(set.contains(64));
  EXPECT_FALSE(set.contains(66));
  EXPECT_FALSE(set.contains(5000));  // beyond its words: not a member, no access
}

TEST(WorkerSet, EraseRemovesOnlyThatWorker) {
  WorkerSet set;
  set.insert(1);
  set.insert(64);
  set.erase(64);
  set.erase(900);  // never inserted
  EXPECT_EQ(members(set), (std::vector<size_t>{1}));
  set.erase(1);
  EXPECT_TRUE(set.empty());
}

}  // namespace
}  // namespace wsr::hub
