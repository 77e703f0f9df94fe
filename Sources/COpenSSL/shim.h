#ifndef KERF_COPENSSL_SHIM_H
#define KERF_COPENSSL_SHIM_H
#include <openssl/evp.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/hmac.h>
#include <openssl/crypto.h>

/* CRYPTO_memcmp is fine to import, but OPENSSL_cleanse through a wrapper keeps callers from
   touching the macro-heavy headers. */
static inline void kerf_openssl_cleanse(void *pointer, size_t length) { OPENSSL_cleanse(pointer, length); }
#endif
