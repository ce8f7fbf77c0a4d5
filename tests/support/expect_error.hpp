// Asserting on the message of a user-facing error.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <initializer_list>
#include <string>

#include "engine/error.hpp"

namespace tailflow::testing {

// Expects `call` to throw a tailflow::Error whose message contains every one of `parts`.
template <class Call>
void expect_error(Call call, std::initializer_list<std::string> parts) {
  try {
    call();
    ADD_FAILURE() << "no error was thrown";
  } catch (const Error& error) {
    std::string message = error.what();
    for (const auto& part : parts) EXPECT_NE(message.find(part), std::string::npos) << message;
  }
}

// The message of the CollectiveError `action` throws (the error every rank reports), or "" if it throws none.
inline std::string collective_error(const std::function<void()>& action) {
  try {
    action();
  } catch (const CollectiveError& e) {
    return e.what();
  }
  return "";
}

}  // namespace tailflow::testing
