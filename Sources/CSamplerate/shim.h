#ifndef PRERENDER_CSAMPLERATE_SHIM_H
#define PRERENDER_CSAMPLERATE_SHIM_H

// libsamplerate (Secret Rabbit Code): band-limited sample rate conversion.
#include <samplerate.h>

#endif
