// coffre::core::PagedResponse<T>: one page of a list, able to fetch the next one.
//
//   for (auto page = client.GetPropertiesOfKeys(); page.HasPage(); page.MoveToNextPage()) {
//     for (const auto& key : page.Items) { ... }
//   }
#pragma once

#include <memory>
#include <string>

#include "coffre/core/context.h"
#include "coffre/core/http.h"
#include "coffre/core/nullable.h"

namespace coffre::core {

// T derives from PagedResponse<T> and has a private OnNextPage(const Context&) that replaces
// the page in place (friend PagedResponse<T>).
template <class T>
class PagedResponse {
 public:
  virtual ~PagedResponse() = default;

  // The token (URL) this page was fetched with; empty for the first page.
  std::string CurrentPageToken;
  // The service's nextLink; unset on the last page.
  Nullable<std::string> NextPageToken;
  std::unique_ptr<http::RawResponse> RawResponse;

  bool HasPage() const noexcept { return has_page_; }

  void MoveToNextPage(const Context& context = Context()) {
    if (!NextPageToken.HasValue() || NextPageToken.Value().empty()) {
      has_page_ = false;
      return;
    }
    static_cast<T*>(this)->OnNextPage(context);
  }

 protected:
  PagedResponse() = default;
  PagedResponse(PagedResponse&&) noexcept = default;
  PagedResponse& operator=(PagedResponse&&) noexcept = default;

 private:
  bool has_page_ = true;
};

}  // namespace coffre::core
