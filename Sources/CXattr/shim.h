#ifndef CXATTR_SHIM_H
#define CXATTR_SHIM_H
// Glibc's Swift module does not export <sys/xattr.h>: the layer applier sets xattrs
// (lsetxattr), the disk stage's tree walk reads them (llistxattr, lgetxattr).
#include <sys/types.h>
#include <sys/xattr.h>
#endif
