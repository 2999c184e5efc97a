// coffre::core::Context: cancellation and deadline for a call (Azure::Core::Context's role).
//
// A Context is a cheap handle on shared state: copies observe the same cancellation. A child made
// with WithDeadline is cancelled when its parent is. Every client call takes an optional Context;
// retries, back-off sleeps and long-running-operation polling stop when it is cancelled.
#pragma once

#include <memory>

#include "coffre/core/datetime.h"

namespace coffre::core {

class Context final {
 public:
  Context();

  // A child context that also expires at `deadline`.
  Context WithDeadline(DateTime deadline) const;

  // Cancels this context and every child made from it.
  void Cancel() const;
  // True once cancelled (here or in a parent) or past a deadline.
  bool IsCancelled() const;
  // Throws OperationCancelledException if IsCancelled().
  void ThrowIfCancelled() const;
  // The earliest deadline along the chain (DateTime::max() when none).
  DateTime GetDeadline() const;

 private:
  struct State;
  explicit Context(std::shared_ptr<State> state);
  std::shared_ptr<State> state_;
};

}  // namespace coffre::core
