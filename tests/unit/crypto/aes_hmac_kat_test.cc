// Known-answer tests for the symmetric operations of key_operations.h: AES key wrap (RFC 3394,
// RFC 5649), AES-GCM (McGrew & Viega, "The Galois/Counter Mode of Operation", test cases),
// AES-CBC (NIST SP 800-38A, F.2) and HMAC-SHA-2 (RFC 4231).
#include <gtest/gtest.h>

#include <string>

#include "crypto/key_operations.h"

namespace coffre::crypto {
namespace {

constexpr const char* kNeutralDecryptError = "The ciphertext could not be decrypted.";

Bytes Hex(std::string_view hex) {
  Bytes out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<uint8_t>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

Bytes ToBytes(const SecureBytes& s) { return Bytes(s.begin(), s.end()); }

void ExpectBadParameter(const Status& status, const std::string& message) {
  EXPECT_EQ(status.kind(), ErrorKind::kBadRequest) << status.ToString();
  EXPECT_EQ(status.code(), "BadParameter");
  EXPECT_EQ(status.message(), message);
}

// ---- AES Key Wrap, RFC 3394 §4.1-4.6

struct KwVector {
  const char* name;
  const char* kek;
  const char* key_data;
  const char* wrapped;
};

constexpr const char* kKek128 = "000102030405060708090A0B0C0D0E0F";
constexpr const char* kKek192 = "000102030405060708090A0B0C0D0E0F1011121314151617";
constexpr const char* kKek256 = "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F";
constexpr const char* kData128 = "00112233445566778899AABBCCDDEEFF";
constexpr const char* kData192 = "00112233445566778899AABBCCDDEEFF0001020304050607";
constexpr const char* kData256 = "00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F";

constexpr KwVector kRfc3394[] = {
    {"4.1", kKek128, kData128, "1FA68B0A8112B447AEF34BD8FB5A7B829D3E862371D2CFE5"},
    {"4.2", kKek192, kData128, "96778B25AE6CA435F92B5B97C050AED2468AB8A17AD84E5D"},
    {"4.3", kKek256, kData128, "64E8C3F9CE0F5BA263E9777905818A2A93C8191E7D6E8AE7"},
    {"4.4", kKek192, kData192, "031D33264E15D33268F24EC260743EDCE1C6C7DDEE725A936BA814915C6762D2"},
    {"4.5", kKek256, kData192, "A8F9BC1612C68B3FF6E6F4FBE30E71E4769C8B80A32CB8958CD5D17D6B254DA1"},
    {"4.6", kKek256, kData256,
     "28C9F404C4B810F4CBCCB35CFB87F8263F5786E2D80ED326CBC7F0E71A99F43BFB988B9B7A02DD21"},
};

TEST(AesKwKatTest, Rfc3394Vectors) {
  for (const KwVector& v : kRfc3394) {
    SCOPED_TRACE(v.name);
    const Bytes kek = Hex(v.kek), data = Hex(v.key_data), wrapped = Hex(v.wrapped);
    auto w = AesKeyWrap(kek, data);
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    EXPECT_EQ(*w, wrapped);
    auto u = AesKeyUnwrap(kek, wrapped);
    ASSERT_TRUE(u.ok()) << u.status().ToString();
    EXPECT_EQ(ToBytes(*u), data);
  }
}

TEST(AesKwKatTest, TamperedOrWrongKekFailsNeutrally) {
  const Bytes kek = Hex(kKek256), wrapped = Hex(kRfc3394[5].wrapped);
  for (size_t i = 0; i < wrapped.size(); i += 7) {
    Bytes tampered = wrapped;
    tampered[i] ^= 0x01;
    ExpectBadParameter(AesKeyUnwrap(kek, tampered).status(), kNeutralDecryptError);
  }
  Bytes other_kek = kek;
  other_kek[0] ^= 0x80;
  ExpectBadParameter(AesKeyUnwrap(other_kek, wrapped).status(), kNeutralDecryptError);
  // A KWP blob is not a KW blob (different integrity value).
  auto kwp = AesKeyWrapWithPadding(kek, Hex(kData256));
  ASSERT_TRUE(kwp.ok());
  ExpectBadParameter(AesKeyUnwrap(kek, *kwp).status(), kNeutralDecryptError);
}

TEST(AesKwKatTest, SizeValidation) {
  const Bytes kek = Hex(kKek128);
  const std::string wrap_message =
      "The key to wrap with AES key wrap must be a multiple of 8 bytes and at least 16 bytes.";
  ExpectBadParameter(AesKeyWrap(kek, Bytes(8)).status(), wrap_message);
  ExpectBadParameter(AesKeyWrap(kek, Bytes(20)).status(), wrap_message);
  ExpectBadParameter(AesKeyWrap(kek, {}).status(), wrap_message);
  const std::string unwrap_message =
      "The wrapped key for AES key wrap must be a multiple of 8 bytes and at least 24 bytes.";
  ExpectBadParameter(AesKeyUnwrap(kek, Bytes(16)).status(), unwrap_message);
  ExpectBadParameter(AesKeyUnwrap(kek, Bytes(25)).status(), unwrap_message);
  ExpectBadParameter(AesKeyWrap(Bytes(20), Bytes(16)).status(),
                     "The AES key must be 16, 24 or 32 bytes.");
  ExpectBadParameter(AesKeyUnwrap(Bytes(0), Bytes(24)).status(),
                     "The AES key must be 16, 24 or 32 bytes.");
}

// ---- AES Key Wrap with Padding, RFC 5649 §6

TEST(AesKwpKatTest, Rfc5649Vectors) {
  const Bytes kek = Hex("5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8");
  const struct {
    const char* key_data;
    const char* wrapped;
  } vectors[] = {
      {"c37b7e6492584340bed12207808941155068f738",
       "138bdeaa9b8fa7fc61f97742e72248ee5ae6ae5360d1ae6a5f54f373fa543b6a"},
      {"466f7250617369", "afbeb0f07dfbf5419200f2ccb50bb24f"},
  };
  for (const auto& v : vectors) {
    SCOPED_TRACE(v.key_data);
    const Bytes data = Hex(v.key_data), wrapped = Hex(v.wrapped);
    auto w = AesKeyWrapWithPadding(kek, data);
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    EXPECT_EQ(*w, wrapped);
    auto u = AesKeyUnwrapWithPadding(kek, wrapped);
    ASSERT_TRUE(u.ok()) << u.status().ToString();
    EXPECT_EQ(ToBytes(*u), data);
    for (size_t i = 0; i < wrapped.size(); ++i) {
      Bytes tampered = wrapped;
      tampered[i] ^= 0x10;
      ExpectBadParameter(AesKeyUnwrapWithPadding(kek, tampered).status(), kNeutralDecryptError);
    }
  }
}

TEST(AesKwpKatTest, RoundTripLengthsAndValidation) {
  const Bytes kek = Hex(kKek256);
  for (size_t size : {1, 7, 8, 9, 16, 31, 32, 33, 64}) {
    Bytes data(size, static_cast<uint8_t>(size));
    auto w = AesKeyWrapWithPadding(kek, data);
    ASSERT_TRUE(w.ok());
    EXPECT_EQ(w->size(), (size + 7) / 8 * 8 + 8);
    auto u = AesKeyUnwrapWithPadding(kek, *w);
    ASSERT_TRUE(u.ok());
    EXPECT_EQ(ToBytes(*u), data);
  }
  ExpectBadParameter(AesKeyWrapWithPadding(kek, {}).status(),
                     "The key to wrap with AES key wrap with padding must not be empty.");
  const std::string unwrap_message =
      "The wrapped key for AES key wrap with padding must be a multiple of 8 bytes and at "
      "least 16 bytes.";
  ExpectBadParameter(AesKeyUnwrapWithPadding(kek, Bytes(8)).status(), unwrap_message);
  ExpectBadParameter(AesKeyUnwrapWithPadding(kek, Bytes(20)).status(), unwrap_message);
  // An RFC 3394 blob is not an RFC 5649 blob.
  ExpectBadParameter(AesKeyUnwrapWithPadding(Hex(kKek128), Hex(kRfc3394[0].wrapped)).status(),
                     kNeutralDecryptError);
}

// ---- AES-GCM (McGrew & Viega test cases 1-4 for AES-128, 13-16 for AES-256)

struct GcmVector {
  const char* name;
  const char* key;
  const char* iv;
  const char* plaintext;
  const char* aad;
  const char* ciphertext;
  const char* tag;
};

constexpr const char* kGcmP64 =
    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6"
    "b525b16aedf5aa0de657ba637b391aafd255";
constexpr const char* kGcmP60 =
    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6"
    "b525b16aedf5aa0de657ba637b39";
constexpr const char* kGcmAad = "feedfacedeadbeeffeedfacedeadbeefabaddad2";

constexpr GcmVector kGcmVectors[] = {
    {"1", "00000000000000000000000000000000", "000000000000000000000000", "", "", "",
     "58e2fccefa7e3061367f1d57a4e7455a"},
    {"2", "00000000000000000000000000000000", "000000000000000000000000",
     "00000000000000000000000000000000", "", "0388dace60b6a392f328c2b971b2fe78",
     "ab6e47d42cec13bdf53a67b21257bddf"},
    {"3", "feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888", kGcmP64, "",
     "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac"
     "84aa051ba30b396a0aac973d58e091473f5985",
     "4d5c2af327cd64a62cf35abd2ba6fab4"},
    {"4", "feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888", kGcmP60, kGcmAad,
     "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac"
     "84aa051ba30b396a0aac973d58e091",
     "5bc94fbc3221a5db94fae95ae7121a47"},
    {"14", "0000000000000000000000000000000000000000000000000000000000000000",
     "000000000000000000000000", "00000000000000000000000000000000", "",
     "cea7403d4d606b6e074ec5d3baf39d18", "d0d1c8a799996bf0265b98b5d48ab919"},
    {"15", "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
     "cafebabefacedbaddecaf888", kGcmP64, "",
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056"
     "828838c5f61e6393ba7a0abcc9f662898015ad",
     "b094dac5d93471bdec1a502270e3cc6c"},
    {"16", "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
     "cafebabefacedbaddecaf888", kGcmP60, kGcmAad,
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056"
     "828838c5f61e6393ba7a0abcc9f662",
     "76fc6ece0f4e1768cddf8853bb2d551b"},
};

TEST(AesGcmKatTest, SpecVectors) {
  for (const GcmVector& v : kGcmVectors) {
    SCOPED_TRACE(std::string("test case ") + v.name);
    const Bytes key = Hex(v.key), iv = Hex(v.iv), plaintext = Hex(v.plaintext), aad = Hex(v.aad),
                ciphertext = Hex(v.ciphertext), tag = Hex(v.tag);
    auto sealed = AesGcmEncrypt(key, iv, plaintext, aad);
    ASSERT_TRUE(sealed.ok()) << sealed.status().ToString();
    EXPECT_EQ(sealed->ciphertext, ciphertext);
    EXPECT_EQ(sealed->tag, tag);
    auto opened = AesGcmDecrypt(key, iv, ciphertext, aad, tag);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    EXPECT_EQ(ToBytes(*opened), plaintext);
  }
}

TEST(AesGcmKatTest, TamperingFailsNeutrally) {
  for (const GcmVector& v : {kGcmVectors[3], kGcmVectors[6]}) {
    SCOPED_TRACE(std::string("test case ") + v.name);
    const Bytes key = Hex(v.key), iv = Hex(v.iv), aad = Hex(v.aad), ciphertext = Hex(v.ciphertext),
                tag = Hex(v.tag);
    for (size_t i = 0; i < tag.size(); i += 5) {
      Bytes bad = tag;
      bad[i] ^= 0x01;
      ExpectBadParameter(AesGcmDecrypt(key, iv, ciphertext, aad, bad).status(),
                         kNeutralDecryptError);
    }
    for (size_t i = 0; i < ciphertext.size(); i += 13) {
      Bytes bad = ciphertext;
      bad[i] ^= 0x01;
      ExpectBadParameter(AesGcmDecrypt(key, iv, bad, aad, tag).status(), kNeutralDecryptError);
    }
    Bytes bad_aad = aad;
    bad_aad.back() ^= 0x01;
    ExpectBadParameter(AesGcmDecrypt(key, iv, ciphertext, bad_aad, tag).status(),
                       kNeutralDecryptError);
    ExpectBadParameter(AesGcmDecrypt(key, iv, ciphertext, {}, tag).status(), kNeutralDecryptError);
    Bytes bad_iv = iv;
    bad_iv[0] ^= 0x01;
    ExpectBadParameter(AesGcmDecrypt(key, bad_iv, ciphertext, aad, tag).status(),
                       kNeutralDecryptError);
    Bytes bad_key = key;
    bad_key[0] ^= 0x01;
    ExpectBadParameter(AesGcmDecrypt(bad_key, iv, ciphertext, aad, tag).status(),
                       kNeutralDecryptError);
    Bytes truncated(ciphertext.begin(), ciphertext.end() - 1);
    ExpectBadParameter(AesGcmDecrypt(key, iv, truncated, aad, tag).status(), kNeutralDecryptError);
  }
}

TEST(AesGcmKatTest, SizeValidation) {
  const Bytes key(32), iv(12), tag(16);
  ExpectBadParameter(AesGcmEncrypt(key, Bytes(16), Bytes{1}, {}).status(),
                     "The IV for AES-GCM must be 12 bytes.");
  ExpectBadParameter(AesGcmDecrypt(key, Bytes(8), Bytes{1}, {}, tag).status(),
                     "The IV for AES-GCM must be 12 bytes.");
  ExpectBadParameter(AesGcmDecrypt(key, iv, Bytes{1}, {}, Bytes(12)).status(),
                     "The authentication tag for AES-GCM must be 16 bytes.");
  ExpectBadParameter(AesGcmEncrypt(Bytes(33), iv, Bytes{1}, {}).status(),
                     "The AES key must be 16, 24 or 32 bytes.");
  ExpectBadParameter(AesGcmDecrypt(Bytes(15), iv, Bytes{1}, {}, tag).status(),
                     "The AES key must be 16, 24 or 32 bytes.");
  // AES-192 works too (no KAT above; round trip).
  auto sealed = AesGcmEncrypt(Bytes(24, 3), iv, Bytes{1, 2, 3}, Bytes{4});
  ASSERT_TRUE(sealed.ok());
  auto opened = AesGcmDecrypt(Bytes(24, 3), iv, sealed->ciphertext, Bytes{4}, sealed->tag);
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(ToBytes(*opened), (Bytes{1, 2, 3}));
}

// ---- AES-CBC, NIST SP 800-38A F.2.1-F.2.6

constexpr const char* kCbcIv = "000102030405060708090a0b0c0d0e0f";
constexpr const char* kCbcPlaintext =
    "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e5130c81c46a35ce411e5fbc1191a0a"
    "52eff69f2445df4f9b17ad2b417be66c3710";

struct CbcVector {
  const char* name;
  const char* key;
  const char* ciphertext;
};

constexpr CbcVector kCbcVectors[] = {
    {"CBC-AES128", "2b7e151628aed2a6abf7158809cf4f3c",
     "7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b273bed6b8e3c1743b7116e69e22"
     "2295163ff1caa1681fac09120eca307586e1a7"},
    {"CBC-AES192", "8e73b0f7da0e6452c810f32b809079e562f8ead2522c6b7b",
     "4f021db243bc633d7178183a9fa071e8b4d9ada9ad7dedf4e5e738763f69145a571b242012fb7ae07fa9baac3d"
     "f102e008b0e27988598881d920a9e64f5615cd"},
    {"CBC-AES256", "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4",
     "f58c4c04d6e5f1ba779eabfb5f7bfbd69cfc4e967edb808d679f777bc6702c7d39f23369a9d9bacfa530e26304"
     "231461b2eb05e2c39be9fcda6c19078c6a9d1b"},
};

TEST(AesCbcKatTest, Sp80038aVectorsWithoutPadding) {
  const Bytes iv = Hex(kCbcIv), plaintext = Hex(kCbcPlaintext);
  for (const CbcVector& v : kCbcVectors) {
    SCOPED_TRACE(v.name);
    const Bytes key = Hex(v.key), ciphertext = Hex(v.ciphertext);
    auto encrypted = AesCbcEncrypt(key, iv, plaintext, false);
    ASSERT_TRUE(encrypted.ok()) << encrypted.status().ToString();
    EXPECT_EQ(*encrypted, ciphertext);
    auto decrypted = AesCbcDecrypt(key, iv, ciphertext, false);
    ASSERT_TRUE(decrypted.ok()) << decrypted.status().ToString();
    EXPECT_EQ(ToBytes(*decrypted), plaintext);
  }
}

TEST(AesCbcKatTest, Pkcs7PaddingRoundTrip) {
  const Bytes key = Hex(kCbcVectors[0].key), iv = Hex(kCbcIv), full = Hex(kCbcPlaintext);
  const Bytes unpadded_ciphertext = Hex(kCbcVectors[0].ciphertext);
  for (size_t size : {0, 1, 15, 16, 17, 31, 32, 48, 64}) {
    SCOPED_TRACE(size);
    Bytes plaintext(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(size));
    auto encrypted = AesCbcEncrypt(key, iv, plaintext, true);
    ASSERT_TRUE(encrypted.ok());
    // Always at least one byte of padding: an exact block gets a whole block of 0x10.
    EXPECT_EQ(encrypted->size(), (size / 16 + 1) * 16);
    // CBC: the blocks before the padding are those of the unpadded encryption (SP 800-38A).
    const size_t whole = size / 16 * 16;
    const auto prefix = static_cast<std::ptrdiff_t>(whole);
    EXPECT_EQ(Bytes(encrypted->begin(), encrypted->begin() + prefix),
              Bytes(unpadded_ciphertext.begin(), unpadded_ciphertext.begin() + prefix));
    auto decrypted = AesCbcDecrypt(key, iv, *encrypted, true);
    ASSERT_TRUE(decrypted.ok());
    EXPECT_EQ(ToBytes(*decrypted), plaintext);
    // Without padding removal the padding bytes are visible.
    auto raw = AesCbcDecrypt(key, iv, *encrypted, false);
    ASSERT_TRUE(raw.ok());
    const uint8_t pad = static_cast<uint8_t>(16 - size % 16);
    for (size_t i = size; i < raw->size(); ++i) EXPECT_EQ((*raw)[i], pad);
  }
}

TEST(AesCbcKatTest, BadPaddingFailsNeutrally) {
  const Bytes key = Hex(kCbcVectors[0].key), iv = Hex(kCbcIv);
  // The SP 800-38A plaintext ends in 0x10 but not in sixteen of them: invalid PKCS#7.
  ExpectBadParameter(AesCbcDecrypt(key, iv, Hex(kCbcVectors[0].ciphertext), true).status(),
                     kNeutralDecryptError);
  // Last byte 0x00 and last byte 0x11 are never valid padding.
  for (uint8_t last : {uint8_t{0x00}, uint8_t{0x11}, uint8_t{0xff}}) {
    Bytes block(16, 0x01);
    block.back() = last;
    auto encrypted = AesCbcEncrypt(key, iv, block, false);
    ASSERT_TRUE(encrypted.ok());
    ExpectBadParameter(AesCbcDecrypt(key, iv, *encrypted, true).status(), kNeutralDecryptError);
  }
  // Last byte 0x03 but the byte two before it is not 0x03: inconsistent padding.
  Bytes block(16, 0x07);
  block[13] = 0x01;
  block[14] = 0x03;
  block[15] = 0x03;
  auto encrypted = AesCbcEncrypt(key, iv, block, false);
  ASSERT_TRUE(encrypted.ok());
  ExpectBadParameter(AesCbcDecrypt(key, iv, *encrypted, true).status(), kNeutralDecryptError);
}

TEST(AesCbcKatTest, SizeValidation) {
  const Bytes key(16), iv(16);
  ExpectBadParameter(AesCbcEncrypt(key, iv, Bytes(17), false).status(),
                     "The value for AES-CBC without padding must be a multiple of 16 bytes.");
  ExpectBadParameter(AesCbcDecrypt(key, iv, Bytes(17), false).status(),
                     "The ciphertext for AES-CBC must be a multiple of 16 bytes.");
  ExpectBadParameter(AesCbcDecrypt(key, iv, Bytes(17), true).status(),
                     "The ciphertext for AES-CBC with padding must be a non-empty multiple of 16 "
                     "bytes.");
  ExpectBadParameter(AesCbcDecrypt(key, iv, {}, true).status(),
                     "The ciphertext for AES-CBC with padding must be a non-empty multiple of 16 "
                     "bytes.");
  ExpectBadParameter(AesCbcEncrypt(key, Bytes(12), Bytes(16), false).status(),
                     "The IV for AES-CBC must be 16 bytes.");
  ExpectBadParameter(AesCbcDecrypt(Bytes(31), iv, Bytes(16), false).status(),
                     "The AES key must be 16, 24 or 32 bytes.");
}

// ---- HMAC, RFC 4231 test cases 1-4, 6, 7 (case 5 is a truncated output)

TEST(HmacKatTest, Rfc4231Vectors) {
  const struct {
    const char* name;
    Bytes key;
    Bytes data;
    const char* sha256;
    const char* sha384;
    const char* sha512;
  } cases[] = {
      {"1", Bytes(20, 0x0b), Bytes{'H', 'i', ' ', 'T', 'h', 'e', 'r', 'e'},
       "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
       "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59cfaea9ea9076ede7f4af152e8b2"
       "fa9cb6",
       "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274eae"
       "a3f4e4be9d914eeb61f1702e696c203a126854"},
      {"2", Bytes{'J', 'e', 'f', 'e'},
       Bytes(AsBytes("what do ya want for nothing?").begin(),
             AsBytes("what do ya want for nothing?").end()),
       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
       "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfa"
       "b21649",
       "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8"
       "f0e6fdcaeab1a34d4a6b4b636e070a38bce737"},
      {"3", Bytes(20, 0xaa), Bytes(50, 0xdd),
       "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
       "88062608d3e6ad8a0aa2ace014c8a86f0aa635d947ac9febe83ef4e55966144b2a5ab39dc13814b94e3ab6e101"
       "a34f27",
       "fa73b0089d56a284efb0f0756c890be9b1b5dbdd8ee81a3655f83e33b2279d39bf3e848279a722c806b485a47e"
       "67c807b946a337bee8942674278859e13292fb"},
      {"4", Hex("0102030405060708090a0b0c0d0e0f10111213141516171819"), Bytes(50, 0xcd),
       "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
       "3e8a69b7783c25851933ab6290af6ca77a9981480850009cc5577c6e1f573b4e6801dd23c4a7d679ccf8a386c6"
       "74cffb",
       "b0ba465637458c6990e5a8c5f61d4af7e576d97ff94b872de76f8050361ee3dba91ca5c11aa25eb4d679275cc5"
       "788063a5f19741120c4f2de2adebeb10a298dd"},
      {"6", Bytes(131, 0xaa),
       Bytes(AsBytes("Test Using Larger Than Block-Size Key - Hash Key First").begin(),
             AsBytes("Test Using Larger Than Block-Size Key - Hash Key First").end()),
       "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
       "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c60c2ef6ab4030fe8296248df163"
       "f44952",
       "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f3526b56d037e05f2598bd0fd2215d"
       "6a1e5295e64f73f63f0aec8b915a985d786598"},
      {"7", Bytes(131, 0xaa),
       Bytes(AsBytes("This is a test using a larger than block-size key and a larger than "
                     "block-size data. The key needs to be hashed before being used by the HMAC "
                     "algorithm.")
                 .begin(),
             AsBytes("This is a test using a larger than block-size key and a larger than "
                     "block-size data. The key needs to be hashed before being used by the HMAC "
                     "algorithm.")
                 .end()),
       "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
       "6617178e941f020d351e2f254e8fd32c602420feb0b8fb9adccebb82461e99c5a678cc31e799176d3860e6110c"
       "46523e",
       "e37b6a775dc87dbaa4dfa9f96e5e3ffddebd71f8867289865df5a32d20cdc944b6022cac3c4982b10d5eeb55c3"
       "e4de15134676fb6de0446065c97440fa8c6a58"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string("test case ") + c.name);
    auto sha256 = Hmac(HashAlgorithm::kSha256, c.key, c.data);
    auto sha384 = Hmac(HashAlgorithm::kSha384, c.key, c.data);
    auto sha512 = Hmac(HashAlgorithm::kSha512, c.key, c.data);
    ASSERT_TRUE(sha256.ok() && sha384.ok() && sha512.ok());
    EXPECT_EQ(*sha256, Hex(c.sha256));
    EXPECT_EQ(*sha384, Hex(c.sha384));
    EXPECT_EQ(*sha512, Hex(c.sha512));
  }
}

TEST(HmacKatTest, EmptyDataAndEmptyKey) {
  auto mac = Hmac(HashAlgorithm::kSha256, Bytes{1}, {});
  ASSERT_TRUE(mac.ok());
  EXPECT_EQ(mac->size(), 32u);
  ExpectBadParameter(Hmac(HashAlgorithm::kSha256, {}, Bytes{1}).status(),
                     "The HMAC key must not be empty.");
}

}  // namespace
}  // namespace coffre::crypto
