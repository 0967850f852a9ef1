#ifndef CMRSH_SEAL_H
#define CMRSH_SEAL_H
// The four functions of BoringSSL's AEAD interface that mrsh's frame sealing (Sources/MrshWire/FrameCipher.swift)
// calls, as swift-crypto links them (its CCryptoBoringSSL target prefixes every BoringSSL symbol with
// "CCryptoBoringSSL_"). swift-crypto's Swift API (AES.GCM.seal/open) allocates its output on every call and
// keys a new context each time; these let a connection key one context per direction once and seal each
// frame straight from its payload into the outgoing buffer (and open straight into the payload the consumer
// gets): no copy besides the cipher's own pass, no allocation besides the received payload.
// Only declarations: the definitions come from swift-crypto, which MrshWire depends on. A swift-crypto that
// renamed them would fail the link, never silently.
#include <stddef.h>
#include <stdint.h>

typedef struct evp_aead_st EVP_AEAD;
typedef struct evp_aead_ctx_st EVP_AEAD_CTX;

/// AES-256 in GCM mode with a 96-bit nonce and a 128-bit tag.
const EVP_AEAD *CCryptoBoringSSL_EVP_aead_aes_256_gcm(void);
/// A context keyed with `key` (32 bytes), or NULL on allocation failure.
EVP_AEAD_CTX *CCryptoBoringSSL_EVP_AEAD_CTX_new(const EVP_AEAD *aead, const uint8_t *key, size_t key_len, size_t tag_len);
void CCryptoBoringSSL_EVP_AEAD_CTX_free(EVP_AEAD_CTX *ctx);
/// Encrypts `in` into `out` (which may be `in`), writes the tag to `out_tag`; 1 on success.
int CCryptoBoringSSL_EVP_AEAD_CTX_seal_scatter(
    const EVP_AEAD_CTX *ctx, uint8_t *out, uint8_t *out_tag, size_t *out_tag_len, size_t max_out_tag_len,
    const uint8_t *nonce, size_t nonce_len, const uint8_t *in, size_t in_len, const uint8_t *extra_in,
    size_t extra_in_len, const uint8_t *ad, size_t ad_len);
/// Checks `in_tag` and decrypts `in` into `out` (which may be `in`); 1 when the tag is right, 0 otherwise.
int CCryptoBoringSSL_EVP_AEAD_CTX_open_gather(
    const EVP_AEAD_CTX *ctx, uint8_t *out, const uint8_t *nonce, size_t nonce_len, const uint8_t *in, size_t in_len,
    const uint8_t *in_tag, size_t in_tag_len, const uint8_t *ad, size_t ad_len);

#endif
