// The fashion shop as CSV text: items.csv and interactions.csv rows, formatted the same on every rank.
//
// Ids are strings ("i000123", "u000045": zero-padded to six digits, longer when needed) so that nobody
// mistakes them for numbers. Fields that hold a comma, a double quote or a line break are quoted, with
// inner quotes doubled (RFC 4180). Prices have exactly two decimals.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "operators/datagen/fashion_shop.hpp"

namespace tailflow::ops::datagen {

// `image` is the item's row in images.idx, which holds the catalogue's photos in item order.
inline constexpr std::string_view kItemsCsvHeader = "item_id,title,description,brand,category,price,image\n";
inline constexpr std::string_view kInteractionsCsvHeader = "user_id,item_id,event,value,timestamp\n";

std::string item_key(std::uint64_t id);
std::string user_key(std::uint64_t id);

void append_csv_field(std::string& out, std::string_view field);

// One line per item, in the order given.
std::string format_item_rows(std::span<const ShopItem> items, const std::vector<Brand>& brands);
// One line per event, user after user, each user's events in time order.
std::string format_interaction_rows(std::span<const ShopUser> users);

}  // namespace tailflow::ops::datagen
