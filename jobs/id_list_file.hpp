// The ids a user asks about (`--users FILE`, `--items FILE`): one external id per line, or a CSV/TSV file
// with a header, whose id column is found by its usual names (user, user_id, userId, ... or item, item_id,
// movieId, ...).
//
// Such lists are short (the users to send a newsletter to), so every rank reads the whole file; each then
// keeps the ids whose rows it holds.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <unordered_set>
#include <vector>

namespace tailflow::jobs {

// The header names that mark an item id or a user id column.
inline const std::vector<std::string> kItemIdColumnNames = {
    "item", "item_id", "itemId", "movieId", "movie_id", "product_id", "productId", "asin", "sku"};
inline const std::vector<std::string> kUserIdColumnNames = {"user", "user_id",     "userId",
                                                            "uid",  "customer_id", "visitor_id"};

// The distinct ids of `path`, in file order. `column_names`: the header names that mark the id column
// (case-insensitive). A one-column file whose first line is one of them treats it as a header. Throws
// InputError for an unreadable file, a header without such a column, or an empty id.
std::vector<std::string> read_id_list(const std::filesystem::path& path,
                                      const std::vector<std::string>& column_names);

// Local indices of the rows whose id is in `wanted`, ascending.
std::vector<std::uint64_t> rows_with_ids(const std::vector<std::string>& row_ids,
                                         const std::unordered_set<std::string>& wanted);

}  // namespace tailflow::jobs
