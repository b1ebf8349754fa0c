#!/usr/bin/env bash
# test:kernel: the linux backend against a real kernel. Boots the oracle VM (Linux 6.1 with
# /dev/dma_heap/{system,reserved}, under QEMU: ../shared/oracle/run-in-kernel.sh) once and runs
# inside it, as root, against the built tree (run `npm run build` first; `npm run test:kernel`
# does):
#   1. the conformance suite on the real kernel: dmaheap conformance run --backend linux
#      (emulator-only cases skip with their reason; every case that runs must pass)
#   2. the backend's and the client library's unit tests: node --test dist/test/unit/linux-*.test.js
#      (they skip on a machine without heaps and run for real here), one file at a time: they
#      share the kernel's global state (bufinfo totals, CMA use)
#   3. the tools with --backend linux, each of which must exit 0: doctor, heaps, top --once,
#      alloc, and dump while an `alloc --hold` in the background holds a named 1 MiB buffer
#      (so the report has a process and a buffer in it; the holder is stopped with SIGINT)
# Exit status: 0 when every part passed; 1 when one failed; 125 when the VM itself failed; 2 when
# the oracle or qemu is missing. Output arrives after the guest powers off (stdout, then stderr).
# Settings: ORACLE_RUN (the run-in-kernel.sh to use), ORACLE_TIMEOUT (default here 900 s), and
# the other ORACLE_* variables of run-in-kernel.sh.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
oracle=${ORACLE_RUN:-$here/../../shared/oracle/run-in-kernel.sh}
if [ ! -x "$oracle" ] && [ ! -f "$oracle" ]; then
  echo "test-kernel: no oracle at $oracle (the shared/ directory beside the repository)" >&2
  exit 2
fi
if ! command -v qemu-system-x86_64 >/dev/null; then
  echo "test-kernel: qemu-system-x86_64 is not installed (Debian: apt-get install -y qemu-system-x86)" >&2
  exit 2
fi
if [ ! -f "$repo/dist/src/apps/cli/main.js" ] || [ ! -f "$repo/dist/src/backends/linux/index.js" ]; then
  echo "test-kernel: build first (npm run build)" >&2
  exit 2
fi
cd "$repo"
export ORACLE_TIMEOUT=${ORACLE_TIMEOUT:-900}
# one boot for both runs; each part's status is printed, the exit status combines them
inner='
echo "== kernel $(uname -r) $(uname -m), node $(node --version), heaps: $(ls /dev/dma_heap | tr "\n" " ")"
echo "== conformance --backend linux"
node dist/src/apps/cli/main.js conformance run test/conformance/cases --backend linux --quiet
c=$?
echo "== conformance exit status $c"
echo "== unit tests: node --test --test-concurrency=1 dist/test/unit/linux-*.test.js"
node --test --test-concurrency=1 dist/test/unit/linux-*.test.js
u=$?
echo "== unit tests exit status $u"
echo "== doctor --backend linux (must find the heaps usable)"
node dist/src/apps/cli/main.js doctor --backend linux
d=$?
echo "== doctor exit status $d"
echo "== heaps --backend linux"
node dist/src/apps/cli/main.js heaps --backend linux
h=$?
echo "== heaps exit status $h"
echo "== top --once --backend linux (this machine: the suite has exited, nothing should be held)"
node dist/src/apps/cli/main.js top --once --backend linux
t=$?
echo "== top exit status $t"
echo "== alloc --backend linux"
node dist/src/apps/cli/main.js alloc reserved 1M --name vm-check --backend linux
a=$?
echo "== alloc exit status $a"
echo "== dump --backend linux (while alloc --hold keeps a 1 MiB buffer named vm-dump)"
node dist/src/apps/cli/main.js alloc reserved 1M --name vm-dump --hold --backend linux > /tmp/hold.out 2>&1 &
holder=$!
# wait (at most 30 s) until the buffer is in debugfs, then read
for i in $(seq 300); do grep -q vm-dump /sys/kernel/debug/dma_buf/bufinfo 2>/dev/null && break; sleep 0.1; done
node dist/src/apps/cli/main.js dump --backend linux
p=$?
kill -INT $holder
wait $holder
w=$?
echo "== dump exit status $p; the holder exited with $w:"
cat /tmp/hold.out
if [ $c -ne 0 ] || [ $u -ne 0 ] || [ $d -ne 0 ] || [ $h -ne 0 ] || [ $t -ne 0 ] || [ $a -ne 0 ] || [ $p -ne 0 ] || [ $w -ne 0 ]; then exit 1; fi
'
start=$(date +%s)
bash "$oracle" bash -c "$inner"
status=$?
echo "test-kernel: VM run took $(( $(date +%s) - start )) s, exit status $status"
exit $status
