#!/usr/bin/env bash
# test:kernel: the linux backend against every x86-64 referee, and the emulated kernel against
# the same referees. For each kernel K of TEST_KERNELS (default: 6.1 6.12 7.3 5.10), it boots the
# oracle VM (ORACLE_KERNEL=K ../shared/oracle/run-in-kernel.sh: Linux K with
# /dev/dma_heap/{system,reserved,...}, under QEMU) once and runs inside it, as root, against the
# built tree (run `npm run build` first; `npm run test:kernel` does):
#   1. the conformance suite on the real kernel: dmaheap conformance run --backend linux --json
#      (emulator-only cases skip with their reason; every case that runs must pass: 0 failures)
#   and, on the first kernel of the list only (6.1 by default; the tools do not depend on the
#   version), the tools of step 3, and on 6.1 and 5.10 only:
#   2. the backend's and the client library's unit tests: node --test dist/test/unit/linux-*.test.js
#      (written against the 6.1 referee, and the 5.10 one's fdinfo, exporter names and tmpfs ioctls:
#      test/unit/linux-version.ts)
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
# And the peer tests (issue 12: same binary, same answers), when ../shared/peer-tests is there
# (PEER_TESTS sets another directory; the guest sees the host's files at the same paths):
#   5. first thing in the VM, on the fresh kernel, the static binaries bin/probe (the oracle's
#      probe; first, because its debugfs bufinfo line shows inode numbers, which depend on what
#      ran since boot) and bin/kselftest-dmabuf-heap (the kernel's own selftest) run on the real
#      kernel, with fds 0-2 only; their stdout (base64, between ==PEER-BEGIN/==PEER-END markers)
#      and exit status come back to the host;
#   6. on this machine the same binaries run under `dmaheap run --profile K` (fds above 2 closed
#      first: the probe counts its fds), and dist/scripts/peer-compare.js compares: the TAP
#      identical, the probe identical with its `~` fields masked, except the cases the real run
#      skipped itself (on 5.10, whose dma-buf inode numbers depend on the boot, those numbers
#      compare by rank: --boot-ino); the exit statuses equal. Each differing line is printed and fails the run.
#      When the referee's output differs from the recording in ../shared (kselftest-dmabuf-heap.K.tap,
#      ../shared/oracle/probe-K.out), a NOTE says so; that does not fail the run.
# The arm64 referee (the heaps, CMA areas and boot log of virt.dtb and virt-cma.dtb against the
# emulator booted from the same DTBs) is scripts/test-kernel-arm64.sh: see "arm64" below.
# Exit status: 0 when every part passed on every kernel; 1 when one failed; 125 when a VM itself
# failed; 2 when the oracle or qemu is missing. A kernel whose images are missing is reported
# and fails the run (TEST_KERNELS chooses the kernels). Each VM's output arrives after the guest
# powers off (stdout, then stderr). Settings: TEST_KERNELS, ORACLE_RUN (the run-in-kernel.sh to
# use), ORACLE_TIMEOUT (default here 300 s per VM), PEER_TESTS (default ../shared/peer-tests;
# missing: the peer tests are left out, and the summary says so), and the other ORACLE_*
# variables of run-in-kernel.sh.
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
if [ ! -f "$repo/dist/src/apps/cli/main.js" ] || [ ! -f "$repo/dist/src/backends/linux/index.js" ] || [ ! -f "$repo/dist/scripts/conformance-compare.js" ] || [ ! -f "$repo/dist/scripts/peer-compare.js" ]; then
  echo "test-kernel: build first (npm run build)" >&2
  exit 2
fi
cd "$repo"
export ORACLE_TIMEOUT=${ORACLE_TIMEOUT:-300}
kernels=${TEST_KERNELS:-6.1 6.12 7.3 5.10}
work=$(mktemp -d /tmp/test-kernel.XXXXXX)
trap 'rm -rf "$work"' EXIT

# the peer tests: static binaries no one here wrote (../shared/peer-tests/bin), with the mode
# dist/scripts/peer-compare.js compares their output in and the real kernel's recorded output
peer_names="probe kselftest-dmabuf-heap"
peer_mode() { case $1 in kselftest-dmabuf-heap) echo tap ;; *) echo probe ;; esac; }
peer_recorded() { case $1 in kselftest-dmabuf-heap) echo "$peer_dir/kselftest-dmabuf-heap.$2.tap" ;; *) echo "$peer_dir/../oracle/probe-$2.out" ;; esac; }
peer_dir=${PEER_TESTS:-$repo/../shared/peer-tests}
peer_missing=
for b in $peer_names; do [ -f "$peer_dir/bin/$b" ] || peer_missing="no $peer_dir/bin/$b"; done
if [ -z "$peer_missing" ]; then peer_dir=$(cd "$peer_dir" && pwd); fi
# runs a command with fds 0-2 only (the probe's last line counts its open fds; the referee starts
# it with 0-2, and an fd this script inherited would otherwise reach it through dmaheap run)
run_clean() (
  fds=$(ls "/proc/$BASHPID/fd")
  for fd in $fds; do
    case $fd in 0 | 1 | 2) ;; *) eval "exec $fd>&-" 2>/dev/null ;; esac
  done
  exec "$@"
)
# in the VM, first thing (a fresh kernel): each binary with fds 0-2, its stdout in base64 between
# markers (byte for byte, whatever it prints), its exit status on the BEGIN line; its stderr passes
peer='
for b in '"$peer_names"'; do
  if [ ! -x "$peer_dir/bin/$b" ]; then echo "== peer test $b: $peer_dir/bin/$b is not visible in the guest"; continue; fi
  echo "== peer test $b on the real kernel"
  "$peer_dir/bin/$b" < /dev/null > "/tmp/peer-$b.out"
  s=$?
  echo "== peer test $b exit status $s"
  echo "==PEER-BEGIN $b $s"; base64 -w0 "/tmp/peer-$b.out"; echo; echo "==PEER-END $b"
done
'
peer="peer_dir=$(printf %q "$peer_dir")
$peer"

# the suite on the real kernel, its JSON report between markers on stdout
suite='
echo "== kernel $(uname -r) $(uname -m), node $(node --version), heaps: $(ls /dev/dma_heap | tr "\n" " ")"
echo "== conformance --backend linux"
node dist/src/apps/cli/main.js conformance run test/conformance/cases --backend linux --json > /tmp/conformance.json
c=$?
echo "== conformance exit status $c"
echo "==JSON-BEGIN"; cat /tmp/conformance.json; echo; echo "==JSON-END"
'
# the unit tests (written for the 6.1 referee, with 5.10's differences: they run on those two) and
# the tools (the first kernel only)
units='
echo "== unit tests: node --test --test-concurrency=1 dist/test/unit/linux-*.test.js"
node --test --test-concurrency=1 dist/test/unit/linux-*.test.js
u=$?
echo "== unit tests exit status $u"
'
tools='
u=${u:-0}
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
  if [ -z "$peer_missing" ]; then inner="$peer
$suite"; fi
  if [ "$k" = 6.1 ] || [ "$k" = 5.10 ]; then inner="$inner
$units"; fi
  if [ $first -eq 1 ]; then inner="$inner
$tools"; fi
  inner="$inner
[ \$c -eq 0 ] && [ \${u:-0} -eq 0 ] || exit 1"
  echo
  echo "==== Linux $k: the referee VM"
  start=$(date +%s)
  ORACLE_KERNEL=$k bash "$oracle" bash -c "$inner" > "$work/vm-$k.out" 2> "$work/vm-$k.err"
  status=$?
  # everything but the JSON report and the peer tests' outputs, which go to files of their own
  awk '/^==(JSON|PEER)-BEGIN/ { j = 1; next } /^==(JSON|PEER)-END/ { j = 0; next } !j' "$work/vm-$k.out"
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
  if [ -n "$peer_missing" ]; then
    summary+=("$k: peer tests left out ($peer_missing; PEER_TESTS sets the directory)")
  else
    echo "==== Linux $k: the peer tests under dmaheap run --profile $k, against the referee's output"
    peer_bad=0
    # a kernel that numbers dma-buf inodes with get_next_ino() (5.10): the probe's unmasked inode
    # numbers depend on the boot and compare by rank (peer-compare --boot-ino)
    boot_ino=
    node -e 'import(process.argv[1]).then((m) => process.exit(m.PROFILES[process.argv[2]]?.dmabufOwnIno === false ? 0 : 1))' "$repo/dist/src/kernel/profile.js" "$k" && boot_ino=--boot-ino
    peer_said=
    for b in $peer_names; do
      mode=$(peer_mode "$b")
      real="$work/real-$k-$b.out"
      emu="$work/emulated-$k-$b.out"
      rs=$(awk -v b="$b" '$1 == "==PEER-BEGIN" && $2 == b { print $3 }' "$work/vm-$k.out")
      if [ -z "$rs" ]; then
        echo "test-kernel: Linux $k: no output of $b from the referee (see the VM's output above)"
        peer_bad=1
        peer_said="$peer_said $b: no referee output;"
        continue
      fi
      awk -v b="$b" '$1 == "==PEER-END" && $2 == b { j = 0 } j { print } $1 == "==PEER-BEGIN" && $2 == b { j = 1 }' "$work/vm-$k.out" | base64 -d > "$real"
      run_clean node dist/src/apps/cli/main.js run --profile "$k" -- "$peer_dir/bin/$b" < /dev/null > "$emu" 2> "$work/emulated-$k-$b.err"
      es=$?
      if [ -s "$work/emulated-$k-$b.err" ]; then
        echo "$b under dmaheap run wrote on stderr:"
        cat "$work/emulated-$k-$b.err"
      fi
      node dist/scripts/peer-compare.js "$mode" "$real" "$emu" $boot_ino --label "$k $b"
      pc=$?
      if [ "$rs" != "$es" ]; then
        echo "DIFFER $k $b: exit status: real $rs, emulated $es"
        pc=1
      fi
      if [ $pc -ne 0 ]; then
        peer_bad=1
        peer_said="$peer_said $b differs;"
      else
        peer_said="$peer_said $b agrees;"
      fi
      # the referee against the recording in ../shared: information, not a verdict
      rec=$(peer_recorded "$b" "$k")
      if [ -f "$rec" ] && ! node dist/scripts/peer-compare.js "$mode" "$rec" "$real" $boot_ino --label "$k $b, the recording against the referee" > "$work/recorded-$k-$b.txt"; then
        echo "NOTE $k $b: the referee's output differs from the recording $rec:"
        cat "$work/recorded-$k-$b.txt"
      fi
    done
    summary+=("$k: peer tests:${peer_said%;}")
    [ $peer_bad -ne 0 ] && [ $overall -eq 0 ] && overall=1
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
