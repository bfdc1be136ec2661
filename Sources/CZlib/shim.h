#ifndef SOCKSTAT_CZLIB_SHIM_H
#define SOCKSTAT_CZLIB_SHIM_H

#include <zlib.h>

// deflateInit2 and inflateInit2 are macros (they pass the version and the
// stream size), which Swift cannot import; these wrappers can be. (deflate is
// only the tests' yardstick for our own encoder.)
static inline int czlib_deflateInit2(z_streamp strm, int level, int method,
                                     int windowBits, int memLevel, int strategy) {
    return deflateInit2(strm, level, method, windowBits, memLevel, strategy);
}

static inline int czlib_inflateInit2(z_streamp strm, int windowBits) {
    return inflateInit2(strm, windowBits);
}

#endif
