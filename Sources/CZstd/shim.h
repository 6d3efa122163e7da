#ifndef CZSTD_SHIM_H
#define CZSTD_SHIM_H
/* libzstd's streaming decompression (Debian libzstd-dev): ZSTD_decompressStream. */
#include <zstd.h>
#endif
