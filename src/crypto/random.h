// Randomness from OpenSSL's CSPRNG.
#pragma once

#include <string>

#include "common/bytes.h"

namespace coffre::crypto {

// Fills a buffer from RAND_bytes; aborts the process if the CSPRNG fails (never continue
// with weak randomness).
void FillRandom(uint8_t* out, size_t size);
Bytes RandomBytes(size_t size);
SecureBytes RandomSecureBytes(size_t size);
// 2*bytes lowercase hex characters (key version ids use 16 bytes: 32 hex chars).
std::string RandomHex(size_t bytes);
// A random (version 4) UUID in lowercase 8-4-4-4-12 form.
std::string RandomUuid();

}  // namespace coffre::crypto
