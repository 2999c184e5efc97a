// Request-body parsing (http/key_json.h): ParseJsonObject and every body parser on what it
// returns. Nothing crashes; every error renders as valid JSON (messages echo parts of the body);
// a parsed rotation policy renders and parses back to itself.
#include <boost/json.hpp>
#include <cstdint>
#include <string>

#include "fuzz/fuzz_common.h"
#include "http/key_json.h"

namespace {

namespace json = boost::json;
using coffre::Status;

template <typename T>
void CheckError(const coffre::Result<T>& result) {
  if (result.ok()) return;
  const Status& status = result.status();
  std::string body = coffre::http::ErrorJson(status);
  COFFRE_FUZZ_CHECK(coffre::fuzz::IsValidJson(body), body);
}

bool SamePolicy(const coffre::service::RotationPolicy& a,
                const coffre::service::RotationPolicy& b) {
  if (a.actions.size() != b.actions.size() || a.expiry_time != b.expiry_time) return false;
  for (size_t i = 0; i < a.actions.size(); ++i) {
    if (a.actions[i].type != b.actions[i].type || a.actions[i].trigger != b.actions[i].trigger ||
        a.actions[i].duration != b.actions[i].duration) {
      return false;
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) { return 0; }

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body = coffre::AsChars(coffre::ByteSpan(data, size));
  auto object = coffre::http::ParseJsonObject(body);
  CheckError(object);
  if (!object.ok()) return 0;
  const json::object& o = *object;

  auto create = coffre::http::ParseCreateKeyRequest(o);
  CheckError(create);
  auto update = coffre::http::ParseUpdateKeyRequest(o);
  CheckError(update);
  auto import = coffre::http::ParseImportKeyRequest(o);
  CheckError(import);
  auto operation = coffre::http::ParseKeyOperationRequest(o);
  CheckError(operation);
  auto verify = coffre::http::ParseVerifyRequest(o);
  CheckError(verify);
  CheckError(coffre::http::RequiredBase64Url(o, "value"));
  CheckError(coffre::http::RequiredInt(o, "count", 1, 128));

  auto policy = coffre::http::ParseRotationPolicy(o);
  CheckError(policy);
  if (policy.ok()) {
    Status valid = coffre::service::ValidateRotationPolicy(*policy);
    std::string error = coffre::http::ErrorJson(valid);
    COFFRE_FUZZ_CHECK(coffre::fuzz::IsValidJson(error), error);
    // What the server would store and answer reads back the same.
    auto record = coffre::service::ToRecord(*policy);
    auto restored = coffre::service::FromRecord(record);
    COFFRE_FUZZ_CHECK(restored.ok() && SamePolicy(*restored, *policy), "record round trip");
    std::string rendered = json::serialize(
        coffre::http::RotationPolicyJson(*policy, "https://dev.localhost:8443", "k"));
    auto reparsed = coffre::http::ParseJsonObject(rendered);
    COFFRE_FUZZ_CHECK(reparsed.ok(), rendered);
    auto policy_again = coffre::http::ParseRotationPolicy(*reparsed);
    COFFRE_FUZZ_CHECK(policy_again.ok() && SamePolicy(*policy_again, *policy), rendered);
  }
  return 0;
}
