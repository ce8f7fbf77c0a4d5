#include "operators/datagen/shop_csv.hpp"

#include <fmt/format.h>

#include <iterator>

namespace tailflow::ops::datagen {

std::string item_key(std::uint64_t id) {
  return fmt::format("i{:06}", id);
}
std::string user_key(std::uint64_t id) {
  return fmt::format("u{:06}", id);
}

void append_csv_field(std::string& out, std::string_view field) {
  if (field.find_first_of(",\"\r\n") == std::string_view::npos) {
    out += field;
    return;
  }
  out += '"';
  for (char c : field) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

std::string format_item_rows(std::span<const ShopItem> items, const std::vector<Brand>& brands) {
  std::string out;
  out.reserve(items.size() * 160);
  for (const ShopItem& item : items) {
    out += item_key(item.id);
    out += ',';
    append_csv_field(out, item.title);
    out += ',';
    append_csv_field(out, item.description);
    out += ',';
    append_csv_field(out, brands[item.brand].name);
    out += ',';
    append_csv_field(out, item.category);
    fmt::format_to(std::back_inserter(out), ",{:.2f},{}\n", item.price, item.id);
  }
  return out;
}

// The hot loop of the generator's output (millions of rows): keys are formatted once per user and item
// number by fmt::format_int, with no format-string parsing per row.
std::string format_interaction_rows(std::span<const ShopUser> users) {
  static_assert(kEventValues[0] < 10 && kEventValues[1] < 10 && kEventValues[2] < 10, "one-digit values");
  std::size_t events = 0;
  for (const ShopUser& user : users) events += user.events.size();
  std::string out;
  out.reserve(events * 36);
  for (const ShopUser& user : users) {
    const std::string user_prefix = user_key(user.id) + ",";
    for (const ShopEvent& event : user.events) {
      auto type = static_cast<std::size_t>(event.type);
      out += user_prefix;
      out += 'i';
      fmt::format_int item(event.item);
      if (item.size() < 6) out.append(6 - item.size(), '0');
      out.append(item.data(), item.size());
      out += ',';
      out += kEventNames[type];
      out += ',';
      out += static_cast<char>('0' + kEventValues[type]);
      out += ',';
      fmt::format_int time(event.time);
      out.append(time.data(), time.size());
      out += '\n';
    }
  }
  return out;
}

}  // namespace tailflow::ops::datagen
