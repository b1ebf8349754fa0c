/*
 * The one rule the preload shim (native/preload/dmaheap-preload.c) and the notification helper
 * (native/notify/dmaheap-notify.c) share for which names the emulated machine may answer. Both
 * build.sh and a build by hand find it at ../common/ from the source.
 */
#ifndef DMAHEAP_NAMES_H
#define DMAHEAP_NAMES_H

#include <stddef.h>
#include <string.h>

/*
 * Does this absolute path pass through /dev, /sys or /proc, read component by component with
 * "." and ".." applied lexically (what the bridge's normalizePath and its walk do)? Those are the
 * trees the emulated machine answers names in (a superset of the bridge's list: SLOW is always
 * correct), and a name that climbs back out of one (/dev/dma_heap/../../usr) is the bridge's to
 * answer too.
 */
static inline int emulated_top(const char *c, size_t n) {
  return (n == 3 && (memcmp(c, "dev", 3) == 0 || memcmp(c, "sys", 3) == 0)) || (n == 4 && memcmp(c, "proc", 4) == 0);
}
static int dh_walks_emulated(const char *p) {
  /* how many components deep the walk is (the names themselves matter only at the top) */
  size_t depth = 0;
  while (*p != '\0') {
    while (*p == '/') p++;
    if (*p == '\0') break;
    const char *c = p;
    while (*p != '\0' && *p != '/') p++;
    size_t n = (size_t)(p - c);
    if (n == 1 && c[0] == '.') continue;
    if (n == 2 && c[0] == '.' && c[1] == '.') {
      if (depth > 0) depth--;
      continue;
    }
    if (depth == 0 && emulated_top(c, n)) return 1;
    depth++;
  }
  return 0;
}

#endif
