// The status store's in-memory hot tier: a map from id to a status record (or to "known absent"),
// bounded by bytes, evicting with CLOCK (second chance): a hit only sets a reference bit, so
// lookups never reorder anything; the hand clears bits and evicts the first unreferenced, unpinned
// entry.
#ifndef CLAIMGATE_GATE_STORE_HOT_TIER_H_
#define CLAIMGATE_GATE_STORE_HOT_TIER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/container/node_hash_map.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"

namespace claimgate::gate {

struct HotTierStats {
  uint64_t hits = 0;
  uint64_t misses = 0;
  uint64_t inserts = 0;
  uint64_t evictions = 0;
  uint64_t bytes = 0;
  uint64_t entries = 0;
};

// Heap bytes a value holds: Protobuf messages report it; flat records say so themselves.
template <typename T>
uint64_t SpaceUsedOf(const T& value) {
  if constexpr (std::is_base_of_v<google::protobuf::Message, T>) {
    return static_cast<uint64_t>(value.SpaceUsedLong());
  } else {
    return static_cast<uint64_t>(value.SpaceUsed());
  }
}

// `T` is a Protobuf message or a type with SpaceUsed(). Not thread-safe: one owner thread.
template <typename T>
class HotTier {
 public:
  // A lookup result: `found` false on a miss; `value` null when the id is known to be absent.
  struct Lookup {
    bool found = false;
    const T* value = nullptr;
  };

  explicit HotTier(uint64_t capacity_bytes) : capacity_(capacity_bytes) {}
  HotTier(const HotTier&) = delete;
  HotTier& operator=(const HotTier&) = delete;

  // No allocation.
  Lookup Find(absl::string_view id) {
    auto it = map_.find(id);
    if (it == map_.end()) {
      ++stats_.misses;
      return {};
    }
    ++stats_.hits;
    it->second.referenced = true;
    return {true, it->second.get()};
  }

  // Like Find, but not counted in the statistics (a second look at an entry already counted).
  Lookup Peek(absl::string_view id) {
    auto it = map_.find(id);
    if (it == map_.end()) return {};
    it->second.referenced = true;
    return {true, it->second.get()};
  }

  // Whether Put would keep this entry (no entry larger than the whole tier is kept).
  bool WouldKeep(absl::string_view id, const T* value) const {
    return EntryBytes(id, value) <= capacity_;
  }

  // Inserts or replaces; `value` null records a known absence. Evicts until the tier fits its bound
  // (an entry larger than the whole tier is not kept). Returns the stored pointer (null for absent
  // / not kept).
  const T* Put(absl::string_view id, std::unique_ptr<T> value) {
    const uint64_t bytes = EntryBytes(id, value.get());
    auto it = map_.find(id);
    if (it != map_.end()) {
      stats_.bytes -= it->second.bytes;
      it->second.Set(std::move(value));
      it->second.bytes = bytes;
      it->second.referenced = true;
      stats_.bytes += bytes;
      const bool was_pinned = it->second.pinned;
      it->second.pinned = true;  // the entry just written must survive its own eviction round
      EvictToFit();
      it = map_.find(id);
      it->second.pinned = was_pinned;
      return it->second.get();
    }
    if (bytes > capacity_) return nullptr;
    stats_.bytes += bytes;
    ++stats_.inserts;
    EvictToFit();  // before inserting: the new entry is never its own victim
    auto [pos, inserted] = map_.try_emplace(std::string(id));
    Entry& e = pos->second;
    e.Set(std::move(value));
    e.bytes = bytes;
    e.referenced = false;  // a new entry earns its second chance by a hit
    e.ring = free_ring_.empty() ? ring_.size() : free_ring_.back();
    if (free_ring_.empty()) {
      ring_.push_back(&pos->first);
    } else {
      free_ring_.pop_back();
      ring_[e.ring] = &pos->first;
    }
    stats_.entries = map_.size();
    return e.get();
  }

  // Replaces an entry only if present (write-through for updates of records nobody asked for yet).
  void Update(absl::string_view id, std::unique_ptr<T> value) {
    if (map_.contains(id)) Put(id, std::move(value));
  }

  // Finds and pins in one lookup (counted like Find). Pinned entries are never evicted; UnpinAll
  // releases them all.
  Lookup FindAndPin(absl::string_view id) {
    auto it = map_.find(id);
    if (it == map_.end()) {
      ++stats_.misses;
      return {};
    }
    ++stats_.hits;
    PinEntry(it->second);
    return {true, it->second.get()};
  }
  void Pin(absl::string_view id) {
    auto it = map_.find(id);
    if (it != map_.end()) PinEntry(it->second);
  }
  void UnpinAll() {
    for (Entry* e : pinned_)
      e->pinned = false;  // node_hash_map: entries never move; pinned ones stay
    pinned_.clear();
  }

  uint64_t capacity_bytes() const { return capacity_; }
  const HotTierStats& stats() const { return stats_; }

 private:
  // The record lives in the map's node (nodes never move), one pointer fewer to follow than a
  // separate allocation: a lookup's misses are the table's and the record's own.
  struct Entry {
    std::optional<T> value;  // empty: known absent
    const T* get() const { return value.has_value() ? &*value : nullptr; }
    void Set(std::unique_ptr<T> v) {
      if (v == nullptr) {
        value.reset();
      } else {
        value.emplace(std::move(*v));
      }
    }
    uint64_t bytes = 0;
    size_t ring = 0;
    bool referenced = false;
    bool pinned = false;
  };

  static uint64_t EntryBytes(absl::string_view id, const T* value) {
    // Key, node and ring overhead, plus the record's own footprint (which counts the record itself,
    // held inside the node).
    constexpr uint64_t kOverhead =
        sizeof(std::string) + sizeof(Entry) - sizeof(T) + 2 * sizeof(void*) + 16;
    return kOverhead + (id.size() > 15 ? id.size() + 1 : 0) +
           (value == nullptr ? sizeof(T) : SpaceUsedOf(*value));
  }

  // Evicts unpinned entries until the tier fits its bound. Each call visits a slot at most twice
  // per needed eviction round (one pass clears reference bits, the next evicts), so it terminates
  // even when everything is pinned.
  void EvictToFit() {
    size_t visits = 0;
    const size_t limit = 2 * ring_.size() + 1;
    while (stats_.bytes > capacity_ && visits++ <= limit) {
      if (hand_ >= ring_.size()) hand_ = 0;
      const size_t slot = hand_++;
      const std::string* key = ring_[slot];
      if (key == nullptr) continue;
      auto it = map_.find(*key);
      Entry& e = it->second;
      if (e.pinned) continue;
      if (e.referenced) {
        e.referenced = false;
        continue;
      }
      stats_.bytes -= e.bytes;
      ++stats_.evictions;
      ring_[slot] = nullptr;
      free_ring_.push_back(slot);
      map_.erase(it);
    }
    stats_.entries = map_.size();
  }

  void PinEntry(Entry& e) {
    e.referenced = true;
    if (e.pinned) return;
    e.pinned = true;
    pinned_.push_back(&e);
  }

  uint64_t capacity_;
  absl::node_hash_map<std::string, Entry> map_;
  std::vector<const std::string*> ring_;  // CLOCK positions; null = free
  std::vector<size_t> free_ring_;
  std::vector<Entry*> pinned_;
  size_t hand_ = 0;
  HotTierStats stats_;
};

}  // namespace claimgate::gate

#endif  // CLAIMGATE_GATE_STORE_HOT_TIER_H_
