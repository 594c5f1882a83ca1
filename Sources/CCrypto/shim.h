#ifndef PRERENDER_CCRYPTO_SHIM_H
#define PRERENDER_CCRYPTO_SHIM_H

// OpenSSL's libcrypto, for SHA-256 only: it uses the CPU's SHA instructions where there are some, and hashing
// every rendered file is on the build's hot path. libcurl (the OpenSSL flavour) already loads it.
#include <openssl/evp.h>

#endif
