// liblz4 (Debian liblz4-dev): block compression for the erofs writer's pclusters.
// Only the real headers; nothing needs wrapping.
#include <lz4.h>
#include <lz4hc.h>
