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
static int walks_emulated(const char *p) {
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

/*
 * Names under /dev, /sys and /proc that programs open all the time and that the emulated machine
 * has nothing at (the bridge, src/backends/run/bridge.ts EMULATED_TREES, EMULATED_FILES and
 * PID_ENTRIES, gives each to the host): a shell's redirection to /dev/null, a library's
 * /dev/urandom, shm_open's /dev/shm, libselinux's /proc/filesystems, glibc's
 * /sys/devices/system/cpu/online and /proc/sys/vm/overcommit_memory. Exact names, and trees
 * (the name itself or anything below it). src/backends/run/bridge.ts HOST_NAMES and HOST_TREES
 * are this list; a test checks that the bridge gives each of them to the host.
 */
static const char *const dh_host_names[] = {
  "/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty",
  "/proc/filesystems", "/proc/stat", "/proc/cpuinfo", "/proc/mounts", "/proc/loadavg", "/proc/uptime", "/proc/version",
  "/proc/self/status", "/proc/self/stat", "/proc/self/exe", "/proc/self/mountinfo", "/proc/self/cgroup",
  "/proc/sys/vm/overcommit_memory", "/proc/sys/kernel/ngroups_max",
  "/sys/devices/system/cpu/online", "/sys/devices/system/cpu/possible", "/sys/devices/system/cpu/present",
};
static const char *const dh_host_trees[] = {"/dev/shm", "/dev/pts", "/sys/kernel/mm/transparent_hugepage", "/sys/fs/selinux"};

/* Are the components of `p` those of `e` (all of them, or with `tree` at least those first)? */
static int same_components(const char *p, const char *e, int tree) {
  for (;;) {
    while (*p == '/') p++;
    while (*e == '/') e++;
    if (*e == '\0') return tree || *p == '\0';
    if (*p == '\0') return 0;
    const char *c = p, *d = e;
    while (*p != '\0' && *p != '/') p++;
    while (*e != '\0' && *e != '/') e++;
    if (p - c != e - d || memcmp(c, d, (size_t)(p - c)) != 0) return 0;
  }
}

/* Is this absolute name one of those? Only a name with no "." or ".." component (repeated slashes are one) can be. */
static int dh_host_listed(const char *p) {
  for (const char *c = p; *c != '\0';) {
    while (*c == '/') c++;
    const char *s = c;
    while (*c != '\0' && *c != '/') c++;
    if ((c - s == 1 && s[0] == '.') || (c - s == 2 && s[0] == '.' && s[1] == '.')) return 0;
  }
  for (size_t i = 0; i < sizeof dh_host_names / sizeof dh_host_names[0]; i++)
    if (same_components(p, dh_host_names[i], 0)) return 1;
  for (size_t i = 0; i < sizeof dh_host_trees / sizeof dh_host_trees[0]; i++)
    if (same_components(p, dh_host_trees[i], 1)) return 1;
  return 0;
}

/* May the emulated machine answer this absolute name? (no: the host answers it) */
static int dh_walks_emulated(const char *p) {
  return walks_emulated(p) && !dh_host_listed(p);
}

#endif
