#ifndef PRERENDER_CZLIB_SHIM_H
#define PRERENDER_CZLIB_SHIM_H

// zlib: RQ stores job data and failure texts zlib-compressed (RFC 1950) once its own tools touch them.
#include <zlib.h>

// Why: deflateInit2 is a macro (it passes the library version and struct size), which Swift cannot call.
// windowBits 15 + 16 asks for a gzip wrapper; zlib then writes a fixed header (mtime 0), so the
// same bytes in always give the same file out.
static inline int prerender_deflate_init_gzip(z_streamp stream, int level) {
    return deflateInit2(stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
}

#endif
