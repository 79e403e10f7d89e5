#include "hub/WorkerInbox.h"

#include <algorithm>
#include <utility>

namespace wsr::hub {

WorkerInbox::WorkerInbox(size_t maxMessages, uint64_t maxDelayNs,
                         std::function<bool(std::string_view)> conflates)
    : maxMessages_(maxMessages), maxDelayNs_(maxDelayNs), conflates_(std::move(conflates)) {}

bool WorkerInbox::push(std::shared_ptr<const PublishedMessage> message) {
  std::lock_guard lock(mutex_);
  auto [it, created] = channels_.try_emplace(message->channel);
  ChannelSlots& channel = it->second;
  if (created) {
    channel.name = &it->first;
    channel.conflates = conflates_ && conflates_(message->channel);
  }
  if (live_ >= maxMessages_) {
    Slot* victim = victimFor(channel, *message);
    // A restarted numbering (broker.type redis) carries the notice of the
    // restart: it is never shed, the inbox goes one over instead.
    if (victim != nullptr && !victim->message->restart) {
      shed(*victim->message, *victim->channel);
      victim->message.reset();
      victim->channel = nullptr;
    }
  }
  if (live_ == 0) oldestNs_.store(message->acceptedNs, std::memory_order_relaxed);
  const uint64_t position = head_ + slots_.size();
  if (channel.conflates && !message->key.empty()) channel.byKey[message->key] = position;
  slots_.push_back({std::move(message), &channel});
  channel.positions.push_back(position);
  ++channel.live;
  ++live_;
  depth_.store(live_, std::memory_order_relaxed);
  if (slots_.size() > 2 * maxMessages_) compact();
  const bool wake = !scheduled_;
  scheduled_ = true;
  return wake;
}

WorkerInbox::Slot* WorkerInbox::victimFor(ChannelSlots& channel, const PublishedMessage& arriving) {
  if (channel.conflates && !arriving.key.empty()) {
    auto same = channel.byKey.find(arriving.key);
    if (same != channel.byKey.end() && isLive(same->second)) {
      Slot& slot = at(same->second);
      channel.byKey.erase(same);
      if (slot.message->key == arriving.key) return &slot;
    }
  }
  ChannelSlots* from = &channel;
  if (channel.live == 0) {
    // The oldest of any channel: the first slot not shed.
    while (!slots_.empty() && slots_.front().message == nullptr) {
      slots_.pop_front();
      ++head_;
    }
    if (slots_.empty()) return nullptr;
    from = slots_.front().channel;
  }
  while (!from->positions.empty() && !isLive(from->positions.front()))
    from->positions.pop_front();
  if (from->positions.empty()) return nullptr;
  const uint64_t oldest = from->positions.front();
  from->positions.pop_front();
  return &at(oldest);
}

void WorkerInbox::shed(const PublishedMessage& message, ChannelSlots& channel) {
  --channel.live;
  --live_;
  ++channel.shedCount;
  channel.shedUpTo = std::max(channel.shedUpTo, message.seq);
  if (!channel.listed) {
    channel.listed = true;
    shedChannels_.push_back(&channel);
  }
  shedTotal_.fetch_add(1, std::memory_order_relaxed);
}

bool WorkerInbox::take(size_t most, uint64_t nowNs,
                       std::vector<std::shared_ptr<const PublishedMessage>>& taken,
                       std::vector<Shed>& shedOut) {
  std::lock_guard lock(mutex_);
  size_t count = 0;
  while (!slots_.empty() && count < most) {
    Slot slot = std::move(slots_.front());
    slots_.pop_front();
    const uint64_t position = head_++;
    if (slot.message == nullptr) continue;
    ChannelSlots& channel = *slot.channel;
    popFront(channel, position);
    const PublishedMessage& message = *slot.message;
    if (channel.conflates && !message.key.empty()) {
      auto same = channel.byKey.find(message.key);
      if (same != channel.byKey.end() && same->second == position) channel.byKey.erase(same);
    }
    const bool aged =
        maxDelayNs_ != 0 && !message.restart && nowNs > message.acceptedNs + maxDelayNs_;
    if (aged) {
      shed(message, channel);
    } else {
      --channel.live;
      --live_;
      taken.push_back(std::move(slot.message));
      ++count;
    }
    if (channel.live == 0) channel.byKey.clear();  // only stale slots left
  }
  std::vector<ChannelSlots*> stillListed;
  for (ChannelSlots* channel : shedChannels_) {
    const bool trailing = channel->live == 0;
    shedOut.push_back({*channel->name, channel->shedCount, channel->shedUpTo, trailing});
    channel->shedCount = 0;
    if (trailing) {
      channel->listed = false;
      channel->shedUpTo = 0;
      channel->byKey.clear();
    } else {
      // Its hole shows among its later publications; the highest seq shed
      // stays reported until then, so the worker can name the reason.
      stillListed.push_back(channel);
    }
  }
  shedChannels_.swap(stillListed);
  if (live_ == 0) {
    head_ += slots_.size();  // only tombstones are left
    slots_.clear();
    oldestNs_.store(0, std::memory_order_relaxed);
  } else {
    // The next one to go (a shed one at the front stands for its
    // successors: they are younger, so the age is an upper bound).
    for (const Slot& slot : slots_) {
      if (slot.message == nullptr) continue;
      oldestNs_.store(slot.message->acceptedNs, std::memory_order_relaxed);
      break;
    }
  }
  if (channels_.size() > sweepAbove_) sweepIdleChannels();
  depth_.store(live_, std::memory_order_relaxed);
  scheduled_ = live_ > 0;
  return scheduled_;
}

// The channel's slots leave in order: the taken one is its first live one.
void WorkerInbox::popFront(ChannelSlots& channel, uint64_t position) {
  while (!channel.positions.empty() && channel.positions.front() <= position)
    channel.positions.pop_front();
}

// A channel's entry outlives its last waiting publication: the next one
// finds it without allocating (most passes take everything, so erasing it
// at once would cost a node and a deque per publication). The idle ones go
// when they outnumber twice those left, amortized O(1).
void WorkerInbox::sweepIdleChannels() {
  for (auto it = channels_.begin(); it != channels_.end();) {
    if (it->second.live == 0 && !it->second.listed) {
      it = channels_.erase(it);
    } else {
      ++it;
    }
  }
  sweepAbove_ = std::max(kIdleChannelsKept, 2 * channels_.size());
}

// Tombstones outnumber the cap: the live slots move together and every
// channel's positions are renumbered. O(cap), after at least cap sheds.
void WorkerInbox::compact() {
  std::deque<Slot> kept;
  for (auto& [name, channel] : channels_) {
    channel.positions.clear();
    channel.byKey.clear();
  }
  head_ = 0;
  for (Slot& slot : slots_) {
    if (slot.message == nullptr) continue;
    const uint64_t position = kept.size();
    ChannelSlots& channel = *slot.channel;
    channel.positions.push_back(position);
    if (channel.conflates && !slot.message->key.empty()) {
      channel.byKey[slot.message->key] = position;
    }
    kept.push_back(std::move(slot));
  }
  slots_.swap(kept);
}

}  // namespace wsr::hub
