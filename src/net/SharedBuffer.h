#pragma once
// An immutable, reference-counted byte buffer. A frame is built once into one
// of these and then queued on any number of connections, on any worker: each
// queue holds a reference, never a copy. Only the reference count is shared
// state, so the count is atomic; the bytes are written once, before sharing.
//
// Fan-out to many connections takes one reference per frame per pass, not
// one per connection: see BufferRun.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string_view>

namespace wsr::net {

class SharedBuffer {
 public:
  SharedBuffer() = default;

  // An uninitialised buffer of `size` bytes: fill it through mutableData()
  // before handing copies of the handle to anyone.
  static SharedBuffer allocate(size_t size) {
    void* raw = std::malloc(sizeof(Block) + size);
    if (raw == nullptr) throw std::bad_alloc();
    Block* block = new (raw) Block{};
    block->size = size;
    return SharedBuffer(block);
  }

  static SharedBuffer copyOf(std::string_view bytes) {
    SharedBuffer buffer = allocate(bytes.size());
    if (!bytes.empty()) std::memcpy(buffer.mutableData(), bytes.data(), bytes.size());
    return buffer;
  }

  SharedBuffer(const SharedBuffer& other) noexcept : block_(other.block_) {
    if (block_ != nullptr) block_->acquire();
  }
  SharedBuffer(SharedBuffer&& other) noexcept : block_(other.block_) { other.block_ = nullptr; }
  SharedBuffer& operator=(SharedBuffer other) noexcept {
    std::swap(block_, other.block_);
    return *this;
  }
  ~SharedBuffer() { release(); }

  char* mutableData() { return block_->bytes(); }
  const char* data() const { return block_ != nullptr ? block_->bytes() : nullptr; }
  size_t size() const { return block_ != nullptr ? block_->size : 0; }
  bool empty() const { return size() == 0; }
  explicit operator bool() const { return block_ != nullptr; }
  std::string_view view() const { return {data(), size()}; }
  // Before sharing, like the bytes: written once, then only read.
  void setStampNs(uint64_t stampNs) { block_->stampNs = stampNs; }
  uint64_t stampNs() const { return block_ != nullptr ? block_->stampNs : 0; }
  uint32_t useCount() const {
    return block_ != nullptr ? block_->refs.load(std::memory_order_relaxed) : 0;
  }

 private:
  struct Block {
    std::atomic<uint32_t> refs{1};
    size_t size = 0;
    uint64_t stampNs = 0;
    char* bytes() { return reinterpret_cast<char*>(this + 1); }
    void acquire() { refs.fetch_add(1, std::memory_order_relaxed); }
    // True when that was the last reference.
    bool drop() { return refs.fetch_sub(1, std::memory_order_acq_rel) == 1; }
  };
  explicit SharedBuffer(Block* block) : block_(block) {}
  void release() noexcept {
    if (block_ != nullptr && block_->drop()) {
      block_->~Block();
      std::free(block_);
    }
    block_ = nullptr;
  }

  Block* block_ = nullptr;
};

}  // namespace wsr::net
