#include "engine/io/id_dictionary.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <functional>
#include <numeric>

#include "engine/comm/collectives.hpp"
#include "engine/error.hpp"

namespace tailflow::io {

bool parse_canonical_integer(std::string_view text, std::int64_t& value) {
  if (text.empty() || text.size() > 20) return false;
  const bool negative = text[0] == '-';
  std::string_view digits = negative ? text.substr(1) : text;
  // One spelling per value: no leading zero (except "0" itself) and no "-0".
  if (digits.empty() || (digits[0] == '0' && (digits.size() > 1 || negative))) return false;
  const char* last = text.data() + text.size();
  auto [end, error] = std::from_chars(text.data(), last, value);
  return error == std::errc{} && end == last;
}

// ---------------------------------------------------------------------------------------------------------
// LocalIdTable

LocalIdTable::LocalIdTable() : starts_{0}, slots_(1024) {}

namespace {
// The bytes of a key of at most 8 bytes as one integer (zero-padded; lengths are compared separately).
std::uint64_t inline_bytes(std::string_view key) {
  std::uint64_t bytes = 0;
  std::memcpy(&bytes, key.data(), std::min<std::size_t>(key.size(), sizeof(bytes)));
  return bytes;
}
}  // namespace

std::uint32_t LocalIdTable::add(std::string_view key) {
  auto local = static_cast<std::uint32_t>(size());
  arena_.append(key);
  starts_.push_back(arena_.size());
  return local;
}

std::uint32_t LocalIdTable::intern(std::string_view key) {
  // Canonical decimal: digits only, no leading zero (so each value has one spelling), at most 7 digits.
  if (!key.empty() && key.size() <= 7 && (key[0] != '0' || key.size() == 1)) {
    std::uint32_t value = 0;
    bool digits = true;
    for (char c : key) {
      digits &= c >= '0' && c <= '9';
      value = value * 10 + static_cast<std::uint32_t>(c - '0');
    }
    if (digits && value <= kMaxDirectValue) {
      if (value >= by_value_.size())
        by_value_.resize(std::min<std::size_t>(kMaxDirectValue + 1,
                                               std::max<std::size_t>(value + 1, by_value_.size() * 2)),
                         kNoIndex);
      std::uint32_t& slot = by_value_[value];
      if (slot == kNoIndex) slot = add(key);
      return slot;
    }
  }
  return intern_hashed(key);
}

std::uint32_t LocalIdTable::intern_hashed(std::string_view key) {
  const std::uint64_t hash = std::hash<std::string_view>{}(key);
  const std::uint64_t short_key = key.size() <= sizeof(std::uint64_t) ? inline_bytes(key) : 0;
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t at = hash & mask;; at = (at + 1) & mask) {
    Slot& slot = slots_[at];
    if (slot.local == kNoIndex) {
      slot = {hash, short_key, add(key), static_cast<std::uint32_t>(key.size())};
      std::uint32_t local = slot.local;
      if (++hashed_ * 2 > slots_.size()) grow();
      return local;
    }
    if (slot.hash != hash || slot.length != key.size()) continue;
    if (key.size() <= sizeof(std::uint64_t) ? slot.inline_key == short_key : this->key(slot.local) == key)
      return slot.local;
  }
}

void LocalIdTable::grow() {
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(old.size() * 2, Slot{});
  const std::size_t mask = slots_.size() - 1;
  for (const Slot& slot : old) {
    if (slot.local == kNoIndex) continue;
    std::size_t at = slot.hash & mask;
    while (slots_[at].local != kNoIndex) at = (at + 1) & mask;
    slots_[at] = slot;
  }
}

std::vector<std::string_view> LocalIdTable::keys() const {
  std::vector<std::string_view> result(size());
  for (std::uint32_t i = 0; i < result.size(); ++i) result[i] = key(i);
  return result;
}

// ---------------------------------------------------------------------------------------------------------
// Helpers: the global order of ids, and moving strings between ranks

namespace {

// An id under the global order: by integer value (then bytes, so "07" and "7" stay apart) when the
// dictionary is numeric, by bytes otherwise.
struct IdKey {
  std::int64_t number = 0;
  std::string_view text;
};

struct IdOrder {
  bool numeric;
  bool operator()(const IdKey& a, const IdKey& b) const {
    if (numeric && a.number != b.number) return a.number < b.number;
    return a.text < b.text;
  }
};

bool parse_integer(std::string_view text, std::int64_t& value) {
  const char* last = text.data() + text.size();
  auto [end, error] = std::from_chars(text.data(), last, value);
  return !text.empty() && error == std::errc{} && end == last;
}

// Strings as ([u32 length][bytes])* for byte-level collectives.
std::vector<char> pack(std::span<const std::string_view> strings) {
  std::size_t total = 0;
  for (auto text : strings) total += sizeof(std::uint32_t) + text.size();
  std::vector<char> bytes(total);
  char* at = bytes.data();
  for (auto text : strings) {
    auto length = static_cast<std::uint32_t>(text.size());
    std::memcpy(at, &length, sizeof(length));
    at += sizeof(length);
    std::memcpy(at, text.data(), text.size());
    at += text.size();
  }
  return bytes;
}

// Views into `bytes`, which must outlive them.
std::vector<std::string_view> unpack(const std::vector<char>& bytes) {
  std::vector<std::string_view> strings;
  std::size_t at = 0;
  while (at + sizeof(std::uint32_t) <= bytes.size()) {
    std::uint32_t length;
    std::memcpy(&length, bytes.data() + at, sizeof(length));
    at += sizeof(length);
    strings.emplace_back(bytes.data() + at, length);
    at += length;
  }
  return strings;
}

// Strings grouped by destination (counts[r] consecutive strings go to rank r), exchanged in one alltoallv
// of bytes. They arrive grouped by source rank, in the order they were sent.
struct StringExchange {
  std::vector<char> bytes;  // owns what `received` views
  std::vector<std::string_view> received;
  std::vector<std::size_t> received_counts;  // strings from each rank
};

StringExchange exchange_strings(comm::Communicator& comm, std::span<const std::string_view> strings,
                                std::span<const std::size_t> counts) {
  std::vector<std::size_t> send_bytes(counts.size(), 0);
  std::size_t next = 0;
  for (std::size_t r = 0; r < counts.size(); ++r)
    for (std::size_t i = 0; i < counts[r]; ++i)
      send_bytes[r] += sizeof(std::uint32_t) + strings[next++].size();
  auto packed = pack(strings);
  StringExchange exchange;
  exchange.bytes =
      comm::alltoallv(comm, std::span<const char>(packed), std::span<const std::size_t>(send_bytes));
  exchange.received = unpack(exchange.bytes);
  // How many strings came from each rank: one small alltoallv of counts.
  std::vector<std::uint64_t> mine(counts.begin(), counts.end());
  std::vector<std::size_t> one_each(counts.size(), 1);
  auto from =
      comm::alltoallv(comm, std::span<const std::uint64_t>(mine), std::span<const std::size_t>(one_each));
  exchange.received_counts.assign(from.begin(), from.end());
  return exchange;
}

// Positions 0..n-1 ordered by destination rank, input order kept within a rank (a counting sort).
std::vector<std::size_t> group_by_destination(const std::vector<int>& destination, int ranks,
                                              std::vector<std::size_t>& counts) {
  counts.assign(static_cast<std::size_t>(ranks), 0);
  for (int d : destination) ++counts[static_cast<std::size_t>(d)];
  std::vector<std::size_t> next(counts.size(), 0);
  std::exclusive_scan(counts.begin(), counts.end(), next.begin(), std::size_t{0});
  std::vector<std::size_t> order(destination.size());
  for (std::size_t i = 0; i < destination.size(); ++i)
    order[next[static_cast<std::size_t>(destination[i])]++] = i;
  return order;
}

// Answers travel back along the routes the questions came by: `answers` holds one per received question,
// grouped by source rank; the result holds one per question sent, in the order they were sent.
template <class T>
std::vector<T> send_back(comm::Communicator& comm, const std::vector<T>& answers,
                         const std::vector<std::size_t>& received_counts) {
  return comm::alltoallv(comm, std::span<const T>(answers), std::span<const std::size_t>(received_counts));
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------
// IdDictionary

int IdDictionary::owner_of(std::int64_t number, std::string_view text) const {
  IdOrder less{numeric_};
  IdKey key{number, text};
  // lower_bound over the splitters: keys equal to splitter r belong to rank r.
  std::size_t low = 0;
  std::size_t high = splitters_.size();
  while (low < high) {
    std::size_t mid = (low + high) / 2;
    IdKey splitter{numeric_ ? splitter_numbers_[mid] : 0, splitters_[mid]};
    if (less(splitter, key))
      low = mid + 1;
    else
      high = mid;
  }
  return static_cast<int>(low);
}

void IdDictionary::number_owned_ids(comm::Communicator& comm) {
  auto owned_counts = comm::allgather_value(comm, static_cast<std::uint64_t>(owned_starts_.size() - 1));
  index_starts_.assign(owned_counts.size() + 1, 0);
  std::inclusive_scan(owned_counts.begin(), owned_counts.end(), index_starts_.begin() + 1);
  size_ = index_starts_.back();
  if (size_ >= kNoIndex)
    throw CollectiveError(fmt::format("too many distinct ids ({}): at most {} are supported", size_,
                                      std::uint64_t{kNoIndex} - 1));
  owned_begin_ = static_cast<DenseIndex>(index_starts_[static_cast<std::size_t>(comm.rank())]);
}

DenseIndex IdDictionary::find_owned(std::int64_t number, std::string_view text) const {
  IdOrder less{numeric_};
  IdKey key{number, text};
  std::size_t count = owned_starts_.size() - 1;
  std::size_t low = 0;
  std::size_t high = count;
  auto owned_key = [&](std::size_t i) {
    return IdKey{
        numeric_ ? owned_numbers_[i] : 0,
        std::string_view(owned_arena_).substr(owned_starts_[i], owned_starts_[i + 1] - owned_starts_[i])};
  };
  while (low < high) {
    std::size_t mid = (low + high) / 2;
    if (less(owned_key(mid), key))
      low = mid + 1;
    else
      high = mid;
  }
  if (low < count && !less(key, owned_key(low))) return owned_begin_ + static_cast<DenseIndex>(low);
  return kNoIndex;
}

std::string_view IdDictionary::owned_string(DenseIndex index) const {
  std::size_t i = index - owned_begin_;
  return std::string_view(owned_arena_).substr(owned_starts_[i], owned_starts_[i + 1] - owned_starts_[i]);
}

IdDictionary IdDictionary::build(Context& ctx, std::span<const std::string_view> ids,
                                 std::vector<DenseIndex>* indices) {
  comm::Communicator& comm = ctx.comm();
  const int ranks = comm.size();
  IdDictionary dictionary;

  // 1. Local distinct ids; the dictionary is numeric only if every id on every rank is an integer.
  LocalIdTable table;
  std::vector<std::uint32_t> local_of(ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) local_of[i] = table.intern(ids[i]);
  std::vector<IdKey> keys(table.size());
  // {every id is an integer, every id is spelt canonically}, then the minimum over ranks.
  std::int32_t integers[2] = {1, 1};
  for (std::uint32_t i = 0; i < keys.size(); ++i) {
    keys[i].text = table.key(i);
    if (integers[1] && parse_canonical_integer(keys[i].text, keys[i].number)) continue;
    integers[1] = 0;
    if (integers[0] && !parse_integer(keys[i].text, keys[i].number)) integers[0] = 0;
  }
  comm::allreduce(comm, std::span<std::int32_t>(integers), comm::ReduceOp::kMin);
  dictionary.numeric_ = integers[0] == 1;
  IdOrder less{dictionary.numeric_};
  std::vector<std::uint32_t> sorted(keys.size());
  std::iota(sorted.begin(), sorted.end(), 0u);
  std::sort(sorted.begin(), sorted.end(),
            [&](std::uint32_t a, std::uint32_t b) { return less(keys[a], keys[b]); });

  // Canonical integers everywhere: the same order and indices as strings give, moved as integers.
  if (integers[1] == 1) {
    std::vector<std::int64_t> numbers(sorted.size());
    for (std::size_t s = 0; s < sorted.size(); ++s) numbers[s] = keys[sorted[s]].number;
    std::vector<DenseIndex> by_sorted_position;
    dictionary = build_integers(ctx, numbers, indices ? &by_sorted_position : nullptr);
    if (indices) {
      std::vector<DenseIndex> by_local(keys.size());
      for (std::size_t s = 0; s < sorted.size(); ++s) by_local[sorted[s]] = by_sorted_position[s];
      indices->resize(ids.size());
      for (std::size_t i = 0; i < ids.size(); ++i) (*indices)[i] = by_local[local_of[i]];
    }
    return dictionary;
  }

  // 2. Splitters from a regular sample of every rank's sorted ids, so owners get similar shares.
  if (ranks > 1) {
    const std::size_t per_rank = std::min<std::size_t>(sorted.size(), 16 * static_cast<std::size_t>(ranks));
    std::vector<std::string_view> sample;
    for (std::size_t s = 0; s < per_rank; ++s)
      sample.push_back(keys[sorted[(2 * s + 1) * sorted.size() / (2 * per_rank)]].text);
    auto packed = pack(sample);
    auto all_packed = comm::allgatherv(comm, std::span<const char>(packed));
    auto all_sample = unpack(all_packed);
    std::vector<IdKey> sample_keys(all_sample.size());
    for (std::size_t i = 0; i < all_sample.size(); ++i) {
      sample_keys[i].text = all_sample[i];
      if (dictionary.numeric_) parse_integer(all_sample[i], sample_keys[i].number);
    }
    std::sort(sample_keys.begin(), sample_keys.end(), less);
    if (!sample_keys.empty()) {
      for (int r = 1; r < ranks; ++r) {
        const IdKey& splitter = sample_keys[static_cast<std::size_t>(r) * sample_keys.size() / ranks];
        dictionary.splitters_.emplace_back(splitter.text);
        dictionary.splitter_numbers_.push_back(splitter.number);
      }
    }
  }

  // 3. Each id to its owner. Sorted ids have non-decreasing owners, so they are already grouped.
  std::vector<std::string_view> outgoing(sorted.size());
  std::vector<std::size_t> send_counts(static_cast<std::size_t>(ranks), 0);
  for (std::size_t s = 0; s < sorted.size(); ++s) {
    const IdKey& key = keys[sorted[s]];
    outgoing[s] = key.text;
    ++send_counts[static_cast<std::size_t>(dictionary.owner_of(key.number, key.text))];
  }
  StringExchange exchange = exchange_strings(comm, outgoing, send_counts);

  // 4. Owners sort and de-duplicate their share; a prefix sum over owners numbers them.
  std::vector<IdKey> owned(exchange.received.size());
  for (std::size_t i = 0; i < owned.size(); ++i) {
    owned[i].text = exchange.received[i];
    if (dictionary.numeric_) parse_integer(owned[i].text, owned[i].number);
  }
  std::sort(owned.begin(), owned.end(), less);
  owned.erase(std::unique(owned.begin(), owned.end(),
                          [&](const IdKey& a, const IdKey& b) { return !less(a, b) && !less(b, a); }),
              owned.end());
  for (const IdKey& key : owned) {
    dictionary.owned_arena_.append(key.text);
    dictionary.owned_starts_.push_back(dictionary.owned_arena_.size());
    if (dictionary.numeric_) dictionary.owned_numbers_.push_back(key.number);
  }
  dictionary.number_owned_ids(comm);

  // 5. Indices back to the ranks that asked, in the order they asked.
  if (indices) {
    std::vector<DenseIndex> answers(exchange.received.size());
    for (std::size_t i = 0; i < answers.size(); ++i) {
      std::int64_t number = 0;
      if (dictionary.numeric_) parse_integer(exchange.received[i], number);
      answers[i] = dictionary.find_owned(number, exchange.received[i]);
    }
    auto by_sorted_position = send_back(comm, answers, exchange.received_counts);
    std::vector<DenseIndex> by_local(keys.size());
    for (std::size_t s = 0; s < sorted.size(); ++s) by_local[sorted[s]] = by_sorted_position[s];
    indices->resize(ids.size());
    for (std::size_t i = 0; i < ids.size(); ++i) (*indices)[i] = by_local[local_of[i]];
  }
  return dictionary;
}

IdDictionary IdDictionary::build_integers(Context& ctx, std::span<const std::int64_t> sorted_ids,
                                          std::vector<DenseIndex>* indices) {
  comm::Communicator& comm = ctx.comm();
  const int ranks = comm.size();
  std::string failure;
  if (std::adjacent_find(sorted_ids.begin(), sorted_ids.end(), std::greater_equal<>()) != sorted_ids.end())
    failure = "IdDictionary::build_integers: the ids must be sorted and distinct on each rank";
  ctx.check_collectively(failure);
  IdDictionary dictionary;
  dictionary.numeric_ = true;

  // 1. Splitters from a regular sample of every rank's sorted ids, so owners get similar shares.
  if (ranks > 1) {
    const std::size_t per_rank =
        std::min<std::size_t>(sorted_ids.size(), 16 * static_cast<std::size_t>(ranks));
    std::vector<std::int64_t> sample(per_rank);
    for (std::size_t s = 0; s < per_rank; ++s)
      sample[s] = sorted_ids[(2 * s + 1) * sorted_ids.size() / (2 * per_rank)];
    auto all_sample = comm::allgatherv(comm, std::span<const std::int64_t>(sample));
    std::sort(all_sample.begin(), all_sample.end());
    if (!all_sample.empty()) {
      for (int r = 1; r < ranks; ++r) {
        std::int64_t splitter = all_sample[static_cast<std::size_t>(r) * all_sample.size() / ranks];
        dictionary.splitter_numbers_.push_back(splitter);
        dictionary.splitters_.push_back(std::to_string(splitter));
      }
    }
  }

  // 2. Each id to its owner (keys equal to splitter r belong to rank r). Sorted ids have non-decreasing
  // owners, so they are already grouped.
  std::vector<std::size_t> send_counts(static_cast<std::size_t>(ranks), 0);
  std::size_t owner = 0;
  for (std::int64_t id : sorted_ids) {
    while (owner < dictionary.splitter_numbers_.size() && dictionary.splitter_numbers_[owner] < id) ++owner;
    ++send_counts[owner];
  }
  std::vector<std::size_t> received_counts;
  auto received =
      comm::alltoallv(comm, sorted_ids, std::span<const std::size_t>(send_counts), &received_counts);

  // 3. Owners merge the sorted runs from each rank and drop duplicates; a prefix sum over owners numbers
  // them.
  std::vector<std::int64_t>& owned = dictionary.owned_numbers_;
  owned = received;
  std::size_t merged_end = 0;
  for (std::size_t count : received_counts) {
    std::inplace_merge(owned.begin(), owned.begin() + static_cast<std::ptrdiff_t>(merged_end),
                       owned.begin() + static_cast<std::ptrdiff_t>(merged_end + count));
    merged_end += count;
  }
  owned.erase(std::unique(owned.begin(), owned.end()), owned.end());
  char digits[24];
  for (std::int64_t id : owned) {
    auto end = std::to_chars(digits, digits + sizeof(digits), id).ptr;
    dictionary.owned_arena_.append(digits, end);
    dictionary.owned_starts_.push_back(dictionary.owned_arena_.size());
  }
  dictionary.number_owned_ids(comm);

  // 4. Indices back to the ranks that asked, in the order they asked. Each rank's run is sorted, so one
  // forward walk over the owned ids finds them all.
  if (indices) {
    std::vector<DenseIndex> answers(received.size());
    std::size_t at = 0;
    for (std::size_t count : received_counts) {
      std::size_t position = 0;
      for (std::size_t i = 0; i < count; ++i, ++at) {
        while (owned[position] < received[at]) ++position;
        answers[at] = dictionary.owned_begin_ + static_cast<DenseIndex>(position);
      }
    }
    *indices = send_back(comm, answers, received_counts);
  }
  return dictionary;
}

std::vector<DenseIndex> IdDictionary::lookup(Context& ctx, std::span<const std::string_view> ids) const {
  comm::Communicator& comm = ctx.comm();
  std::vector<DenseIndex> result(ids.size(), kNoIndex);
  // Ids that cannot be in the dictionary (non-integers in a numeric one) are answered here.
  std::vector<std::size_t> asked;
  std::vector<int> destination;
  std::vector<std::int64_t> numbers(ids.size(), 0);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (numeric_ && !parse_integer(ids[i], numbers[i])) continue;
    asked.push_back(i);
    destination.push_back(owner_of(numbers[i], ids[i]));
  }
  std::vector<std::size_t> send_counts;
  auto order = group_by_destination(destination, comm.size(), send_counts);
  std::vector<std::string_view> outgoing(order.size());
  for (std::size_t s = 0; s < order.size(); ++s) outgoing[s] = ids[asked[order[s]]];
  StringExchange exchange = exchange_strings(comm, outgoing, send_counts);

  std::vector<DenseIndex> answers(exchange.received.size());
  for (std::size_t i = 0; i < answers.size(); ++i) {
    std::int64_t number = 0;
    if (numeric_) parse_integer(exchange.received[i], number);
    answers[i] = find_owned(number, exchange.received[i]);
  }
  auto replies = send_back(comm, answers, exchange.received_counts);
  for (std::size_t s = 0; s < order.size(); ++s) result[asked[order[s]]] = replies[s];
  return result;
}

std::vector<std::string> IdDictionary::strings_of(Context& ctx, std::span<const DenseIndex> indices) const {
  comm::Communicator& comm = ctx.comm();
  std::vector<int> destination(indices.size());
  for (std::size_t i = 0; i < indices.size(); ++i) {
    if (indices[i] >= size_)
      throw Error(
          fmt::format("id index {} is out of range (the dictionary holds {} ids)", indices[i], size_));
    auto owner = std::upper_bound(index_starts_.begin(), index_starts_.end(), std::uint64_t{indices[i]});
    destination[i] = static_cast<int>(owner - index_starts_.begin()) - 1;
  }
  std::vector<std::size_t> send_counts;
  auto order = group_by_destination(destination, comm.size(), send_counts);
  std::vector<DenseIndex> questions(order.size());
  for (std::size_t s = 0; s < order.size(); ++s) questions[s] = indices[order[s]];
  std::vector<std::size_t> received_counts;
  auto received = comm::alltoallv(comm, std::span<const DenseIndex>(questions),
                                  std::span<const std::size_t>(send_counts), &received_counts);

  std::vector<std::string_view> answers(received.size());
  for (std::size_t i = 0; i < received.size(); ++i) answers[i] = owned_string(received[i]);
  StringExchange replies = exchange_strings(comm, answers, received_counts);
  std::vector<std::string> result(indices.size());
  for (std::size_t s = 0; s < order.size(); ++s) result[order[s]] = std::string(replies.received[s]);
  return result;
}

std::vector<std::string> IdDictionary::all_strings(Context& ctx) const {
  std::vector<std::string_view> mine;
  for (DenseIndex i = owned_begin(); i < owned_end(); ++i) mine.push_back(owned_string(i));
  auto packed = pack(mine);
  auto all_packed = comm::allgatherv(ctx.comm(), std::span<const char>(packed));
  auto all = unpack(all_packed);
  return std::vector<std::string>(all.begin(), all.end());
}

}  // namespace tailflow::io
