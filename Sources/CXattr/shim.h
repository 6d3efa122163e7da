#ifndef CXATTR_SHIM_H
#define CXATTR_SHIM_H
// Glibc's Swift module does not export <sys/xattr.h>; the layer applier needs lsetxattr.
#include <sys/xattr.h>
#endif
