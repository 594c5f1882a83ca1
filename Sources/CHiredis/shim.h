#ifndef PRERENDER_CHIREDIS_SHIM_H
#define PRERENDER_CHIREDIS_SHIM_H

// hiredis 0.14 (Debian 12). Only the binary-safe argv API is used from Swift;
// the variadic redisCommand cannot be called from Swift at all.
#include <hiredis/hiredis.h>

// Why: redisContext.errstr is a char[128], which Swift imports as a 128-tuple.
static inline const char *prerender_redis_errstr(const redisContext *c) {
    return c->errstr;
}

// Why: the error code lives in a struct field next to errstr; read both the same way.
static inline int prerender_redis_err(const redisContext *c) {
    return c->err;
}

#endif
