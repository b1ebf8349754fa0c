# The command run-arm64.sh runs in the arm64 referee for test/oracle/issue-11/arm64/*.out
# (busybox sh; scripts/test-kernel-arm64.sh runs it again live). One section per fact.
echo "## release"; uname -r
echo "## /dev/dma_heap"; ls -1 /dev/dma_heap
echo "## /sys/kernel/mm/cma"; ls -1 /sys/kernel/mm/cma 2>&1
echo "## /sys/kernel/debug/cma"
for d in /sys/kernel/debug/cma/*; do [ -d "$d" ] && echo "${d##*/} base_pfn=$(cat "$d/base_pfn") count=$(cat "$d/count")"; done
echo "## /proc/meminfo"; grep -E '^CmaTotal:' /proc/meminfo
echo "## dmesg"; dmesg | sed 's/^\[[^]]*\] //' | grep -v -e '^Kernel command line:' -e '^Unknown kernel command line' -e '^    oracle_cmd64='
