#ifndef PRERENDER_CSNDFILE_SHIM_H
#define PRERENDER_CSNDFILE_SHIM_H

#include <sndfile.h>

#endif
