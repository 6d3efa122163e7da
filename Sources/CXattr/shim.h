<<<<<<< HEAD
// Extended-attribute calls of glibc (sys/xattr.h), which the Glibc module does not export.
// Only Sources/ImageStore/Disk/TreeWalker.swift imports this module.
#include <sys/types.h>
#include <sys/xattr.h>
=======
#ifndef CXATTR_SHIM_H
#define CXATTR_SHIM_H
// Glibc's Swift module does not export <sys/xattr.h>; the layer applier needs lsetxattr.
#include <sys/xattr.h>
#endif
>>>>>>> layers
