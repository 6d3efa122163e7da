#ifndef CISAL_SHIM_H
#define CISAL_SHIM_H
/* isa-l's streaming inflate (Debian libisal-dev): isal_inflate on a struct inflate_state. */
#include <isa-l/igzip_lib.h>
#endif
