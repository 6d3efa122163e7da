#ifndef CFALLOC_SHIM_H
#define CFALLOC_SHIM_H
// Glibc's Swift module does not export fallocate (it needs _GNU_SOURCE): the ext4 writer
// punches the blocks of released file contents out of its sparse output file, the cpio writer
// out of its spool.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <linux/falloc.h>

static inline int cfalloc_punch_hole(int fd, off_t offset, off_t length) {
    return fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, length);
}

// sync_file_range needs _GNU_SOURCE too: start writeback of the whole file's dirty pages
// without waiting, so the fsync that ends a blob or a disk waits for the last part only.
static inline int cfalloc_start_writeback(int fd) {
    return sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
}
#endif
