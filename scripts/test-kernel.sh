#!/usr/bin/env bash
# test:kernel: the linux backend against a real kernel. Boots the oracle VM (Linux 6.1 with
# /dev/dma_heap/{system,reserved}, under QEMU: ../shared/oracle/run-in-kernel.sh) once and runs
# inside it, as root, against the built tree (run `npm run build` first; `npm run test:kernel`
# does):
#   1. the conformance suite on the real kernel: dmaheap conformance run --backend linux
#      (emulator-only cases skip with their reason; every case that runs must pass)
#   3. dmaheap doctor, top --once and alloc with --backend linux (each must exit 0)
#   2. the backend's and the client library's unit tests: node --test dist/test/unit/linux-*.test.js
#      (they skip on a machine without heaps and run for real here), one file at a time: they
#      share the kernel's global state (bufinfo totals, CMA use)
# Exit status: 0 when both passed; 1 when either failed; 125 when the VM itself failed; 2 when
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
echo "== top --once --backend linux (this machine: the suite has exited, nothing should be held)"
node dist/src/apps/cli/main.js top --once --backend linux
t=$?
echo "== top exit status $t"
echo "== alloc --backend linux"
node dist/src/apps/cli/main.js alloc reserved 1M --name vm-check --backend linux
a=$?
echo "== alloc exit status $a"
if [ $c -ne 0 ] || [ $u -ne 0 ] || [ $d -ne 0 ] || [ $t -ne 0 ] || [ $a -ne 0 ]; then exit 1; fi
'
start=$(date +%s)
bash "$oracle" bash -c "$inner"
status=$?
echo "test-kernel: VM run took $(( $(date +%s) - start )) s, exit status $status"
exit $status
