#include "common/offset_clock.h"

namespace coffre {

int64_t OffsetClock::NowSeconds() const {
  return inner().NowSeconds() + offset_.load(std::memory_order_relaxed);
}

}  // namespace coffre
