#!/usr/bin/env bash
# test:kernel: the linux backend against every x86-64 referee, and the emulated kernel against
# the same referees. For each kernel K of TEST_KERNELS (default: 6.1 6.12 7.3), it boots the
# oracle VM (ORACLE_KERNEL=K ../shared/oracle/run-in-kernel.sh: Linux K with
# /dev/dma_heap/{system,reserved,...}, under QEMU) once and runs inside it, as root, against the
# built tree (run `npm run build` first; `npm run test:kernel` does):
#   1. the conformance suite on the real kernel: dmaheap conformance run --backend linux --json
#      (emulator-only cases skip with their reason; every case that runs must pass: 0 failures)
#   and, on the first kernel of the list only (6.1; the unit tests and tools do not depend on
#   the version):
#   2. the backend's and the client library's unit tests: node --test dist/test/unit/linux-*.test.js
#      (they skip on a machine without heaps and run for real here), one file at a time: they
#      share the kernel's global state (bufinfo totals, CMA use)
#   3. the tools with --backend linux, each of which must exit 0: doctor, heaps, top --once,
#      alloc, and dump while an `alloc --hold` in the background holds a named 1 MiB buffer
#      (so the report has a process and a buffer in it; the holder is stopped with SIGINT)
# Then, on this machine:
#   4. the same suite on the emulated kernel with the matching profile (--profile K, the
#      oracle's machine: x86-64, 2 GiB, cma=64M), which must agree with step 1 case by case:
#      the same PASS/FAIL/SKIP for every case instance (file, case, heap), except cases for one
#      backend only ("backend": "emulated" or "linux"), which are counted and left out
#      (dist/scripts/conformance-compare.js prints each disagreement).
# The arm64 referee (the heaps, CMA areas and boot log of virt.dtb and virt-cma.dtb against the
# emulator booted from the same DTBs) is scripts/test-kernel-arm64.sh: see "arm64" below.
# Exit status: 0 when every part passed on every kernel; 1 when one failed; 125 when a VM itself
# failed; 2 when the oracle or qemu is missing. A kernel whose images are missing is reported
# and fails the run (TEST_KERNELS chooses the kernels). Each VM's output arrives after the guest
# powers off (stdout, then stderr). Settings: TEST_KERNELS, ORACLE_RUN (the run-in-kernel.sh to
# use), ORACLE_TIMEOUT (default here 300 s per VM), and the other ORACLE_* variables of
# run-in-kernel.sh.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
oracle=${ORACLE_RUN:-$here/../../shared/oracle/run-in-kernel.sh}
oracle_dir=$(cd "$(dirname "$oracle")" 2>/dev/null && pwd)
if [ ! -x "$oracle" ] && [ ! -f "$oracle" ]; then
  echo "test-kernel: no oracle at $oracle (the shared/ directory beside the repository)" >&2
  exit 2
fi
if ! command -v qemu-system-x86_64 >/dev/null; then
  echo "test-kernel: qemu-system-x86_64 is not installed (Debian: apt-get install -y qemu-system-x86)" >&2
  exit 2
fi
if [ ! -f "$repo/dist/src/apps/cli/main.js" ] || [ ! -f "$repo/dist/src/backends/linux/index.js" ] || [ ! -f "$repo/dist/scripts/conformance-compare.js" ]; then
  echo "test-kernel: build first (npm run build)" >&2
  exit 2
fi
cd "$repo"
export ORACLE_TIMEOUT=${ORACLE_TIMEOUT:-300}
kernels=${TEST_KERNELS:-6.1 6.12 7.3}
work=$(mktemp -d /tmp/test-kernel.XXXXXX)
trap 'rm -rf "$work"' EXIT

# the suite on the real kernel, its JSON report between markers on stdout
suite='
echo "== kernel $(uname -r) $(uname -m), node $(node --version), heaps: $(ls /dev/dma_heap | tr "\n" " ")"
echo "== conformance --backend linux"
node dist/src/apps/cli/main.js conformance run test/conformance/cases --backend linux --json > /tmp/conformance.json
c=$?
echo "== conformance exit status $c"
echo "==JSON-BEGIN"; cat /tmp/conformance.json; echo; echo "==JSON-END"
'
# the unit tests and the tools (the first kernel only)
tools='
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
if [ $u -ne 0 ] || [ $d -ne 0 ] || [ $h -ne 0 ] || [ $t -ne 0 ] || [ $a -ne 0 ] || [ $p -ne 0 ] || [ $w -ne 0 ]; then exit 1; fi
'
overall=0
summary=()
first=1
for k in $kernels; do
  images="$oracle_dir/images-$k"
  [ "$k" = 6.1 ] && [ ! -d "$images" ] && images="$oracle_dir/images"
  if [ ! -f "$images/bzImage" ]; then
    echo "test-kernel: no referee images for Linux $k ($images/bzImage); set TEST_KERNELS to the kernels there are" >&2
    summary+=("$k: no images")
    overall=1
    continue
  fi
  inner="$suite"
  if [ $first -eq 1 ]; then inner="$suite
$tools"; fi
  inner="$inner
[ \$c -eq 0 ] || exit 1"
  echo
  echo "==== Linux $k: the referee VM"
  start=$(date +%s)
  ORACLE_KERNEL=$k bash "$oracle" bash -c "$inner" > "$work/vm-$k.out" 2> "$work/vm-$k.err"
  status=$?
  # everything but the JSON report, which goes to a file of its own
  awk '/^==JSON-BEGIN$/ { j = 1; next } /^==JSON-END$/ { j = 0; next } !j' "$work/vm-$k.out"
  awk '/^==JSON-END$/ { j = 0 } j { print } /^==JSON-BEGIN$/ { j = 1 }' "$work/vm-$k.out" > "$work/linux-$k.json"
  cat "$work/vm-$k.err" >&2
  echo "test-kernel: Linux $k: VM run took $(( $(date +%s) - start )) s, exit status $status"
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    for (const c of r.results) if (c.status === "fail" || c.status === "error" || c.status === "xpass") console.log(`${c.status.toUpperCase()}  ${c.file}: case ${c.caseIndex} "${c.name}": ${JSON.stringify(c.failure ?? c.reason ?? "")}`);
    for (const e of r.errors) console.log(`ERROR ${e}`);
    console.log(`Linux ${process.argv[2]} (--backend linux): ${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped`);' "$work/linux-$k.json" "$k" 2>/dev/null || echo "test-kernel: Linux $k: no conformance report from the VM"
  if [ $status -ne 0 ]; then
    summary+=("$k: VM exit status $status")
    if [ $status -eq 125 ] || [ $overall -eq 0 ]; then overall=$status; fi
  fi
  echo "==== Linux $k: the emulated kernel, profile $k, against the referee's report"
  node dist/src/apps/cli/main.js conformance run test/conformance/cases --profile "$k" --json > "$work/emulated-$k.json"
  e=$?
  node dist/scripts/conformance-compare.js "$work/linux-$k.json" "$work/emulated-$k.json" --label "$k"
  cmp=$?
  if [ $e -ne 0 ]; then
    echo "test-kernel: the emulated suite on profile $k exited with $e"
    node dist/src/apps/cli/main.js conformance run test/conformance/cases --profile "$k" --quiet | grep -v '^PASS\|^SKIP'
  fi
  if [ $e -ne 0 ] || [ $cmp -ne 0 ]; then
    summary+=("$k: emulated suite exit $e, comparison exit $cmp")
    [ $overall -eq 0 ] && overall=1
  else
    summary+=("$k: the referee and the emulated profile agree")
  fi
  first=0
done

# arm64: the arm64 referee against the emulator (scripts/test-kernel-arm64.sh, separate because it
# needs qemu-system-aarch64 and its own images). When that script is there, it is run here:
# TEST_KERNEL_ARM64=0 leaves it out.
if [ -f "$here/test-kernel-arm64.sh" ] && [ "${TEST_KERNEL_ARM64:-1}" != 0 ]; then
  echo
  echo "==== arm64: scripts/test-kernel-arm64.sh"
  bash "$here/test-kernel-arm64.sh"
  a=$?
  case $a in
    0) summary+=("arm64: agrees") ;;
    2) summary+=("arm64: skipped (exit 2: its referee or qemu is missing)") ;;
    *) summary+=("arm64: exit status $a"); [ $overall -eq 0 ] && overall=1 ;;
  esac
fi

echo
echo "== test-kernel summary"
for s in "${summary[@]}"; do echo "  $s"; done
echo "test-kernel: exit status $overall"
exit $overall
