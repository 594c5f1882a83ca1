#ifndef PRERENDER_CZLIB_SHIM_H
#define PRERENDER_CZLIB_SHIM_H

// zlib: RQ stores job data and failure texts zlib-compressed (RFC 1950) once its own tools touch them.
#include <zlib.h>

#endif
