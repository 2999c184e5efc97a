// Splitting a request target into decoded path segments and query fields, and decoding HTML
// form bodies. Hand-written (rather than a general URL parser) because Key Vault routing needs
// exact control: empty segments are kept ("/keys/k//encrypt"), parameter names are decoded
// (JS sends "api%2Dversion"), and every input is bounded.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/identity_endpoints.h"
#include "common/percent_encoding.h"

namespace coffre::http {

struct RequestTarget {
  std::vector<std::string> segments;  // "/keys/k1/" -> {"keys", "k1", ""}; "/" -> {}
  auth::FieldMap query;               // first occurrence of each decoded name wins
};

// nullopt for a target that is not origin-form ("/..."), has a bad %-escape, or decodes to a
// NUL byte.
std::optional<RequestTarget> ParseRequestTarget(std::string_view target);

// application/x-www-form-urlencoded ('+' is a space). nullopt on a bad %-escape.
std::optional<auth::FieldMap> ParseFormBody(std::string_view body);

}  // namespace coffre::http
