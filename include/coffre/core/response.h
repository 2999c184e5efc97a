// coffre::Response<T>: a result value and the raw HTTP response it came from.
#pragma once

#include <memory>
#include <utility>

#include "coffre/core/http.h"

namespace coffre {

template <class T>
class Response final {
 public:
  Response(T value, std::unique_ptr<core::http::RawResponse> raw_response)
      : Value(std::move(value)), RawResponse(std::move(raw_response)) {}

  T Value;
  std::unique_ptr<core::http::RawResponse> RawResponse;
};

}  // namespace coffre
