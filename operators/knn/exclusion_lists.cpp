#include "operators/knn/exclusion_lists.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <string>

#include "engine/comm/collectives.hpp"
#include "operators/knn/row_ownership.hpp"

namespace tailflow::ops::knn {
namespace {

struct Seen {
  std::uint64_t user;
  ItemIndex item;
  friend bool operator<(const Seen& a, const Seen& b) {
    return a.user != b.user ? a.user < b.user : a.item < b.item;
  }
  friend bool operator==(const Seen&, const Seen&) = default;
};

}  // namespace

ExclusionLists seen_items(Context& ctx, std::span<const Interaction> interactions, std::uint64_t users_first,
                          std::uint64_t users_count, std::span<const std::uint64_t> query_users) {
  std::string problem;
  for (std::uint64_t user : query_users)
    if (user < users_first || user >= users_first + users_count) {
      problem = fmt::format("seen_items: user {} is not in this rank's slice [{}, {})", user, users_first,
                            users_first + users_count);
      break;
    }
  ctx.check_collectively(problem);

  comm::Communicator& comm = ctx.comm();
  RowOwnership owners(comm, users_first, users_count);
  std::vector<std::vector<Seen>> outgoing(comm.size());
  for (const Interaction& interaction : interactions) {
    int rank = owners.locate(interaction.user).first;
    if (rank >= 0) outgoing[rank].push_back({interaction.user, interaction.item});
  }
  std::vector<Seen> send;
  std::vector<std::size_t> send_counts(comm.size());
  for (int rank = 0; rank < comm.size(); ++rank) {
    // Duplicates (repeated views of one item) need not travel.
    std::sort(outgoing[rank].begin(), outgoing[rank].end());
    outgoing[rank].erase(std::unique(outgoing[rank].begin(), outgoing[rank].end()), outgoing[rank].end());
    send_counts[rank] = outgoing[rank].size();
    send.insert(send.end(), outgoing[rank].begin(), outgoing[rank].end());
  }
  auto seen = comm::alltoallv(comm, std::span<const Seen>(send), std::span<const std::size_t>(send_counts));
  std::sort(seen.begin(), seen.end());
  seen.erase(std::unique(seen.begin(), seen.end()), seen.end());

  ExclusionLists lists;
  for (std::uint64_t user : query_users) {
    auto begin = std::lower_bound(seen.begin(), seen.end(), Seen{user, 0});
    for (auto it = begin; it != seen.end() && it->user == user; ++it) lists.entries.push_back(it->item);
    lists.close_list();
  }
  return lists;
}

}  // namespace tailflow::ops::knn
