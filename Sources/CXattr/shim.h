// Extended-attribute calls of glibc (sys/xattr.h), which the Glibc module does not export.
// Only Sources/ImageStore/Disk/TreeWalker.swift imports this module.
#include <sys/types.h>
#include <sys/xattr.h>
