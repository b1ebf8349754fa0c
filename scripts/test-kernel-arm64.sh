#!/usr/bin/env bash
# The arm64 referee against the emulator (issue 11): boots Linux 7.3-rc7 under
# qemu-system-aarch64 -machine virt (../shared/oracle/run-arm64.sh) with virt-cma.dtb and virt.dtb,
# each without cma=, with cma=32M and with cma=0, records the heaps, CMA areas (sysfs names, debugfs base_pfn and
# count), CmaTotal and the boot-log lines about reserved memory and CMA (the guest command is
# test/oracle/issue-11/arm64/guest.sh), and compares each run with the emulator booted from the
# same DTB with the referee's .config and QEMU's loader (node dist/scripts/arm64-referee.js).
# Run `npm run build` first. One VM at a time, ~1-3 s each.
# Exit status: 0 when every run agrees; 1 when one differs or a referee run failed; 2 when
# qemu-system-aarch64, the oracle or its images are missing, or the tree is not built.
# Settings: ORACLE_ARM64_RUN (the run-arm64.sh to use), ORACLE_TIMEOUT (default 300 s),
# ARM64_RECORD_DIR (keep the recordings there; default a temporary directory, removed at exit;
# `ARM64_RECORD_DIR=test/oracle/issue-11/arm64` re-records the committed ones).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
oracle=${ORACLE_ARM64_RUN:-$repo/../shared/oracle/run-arm64.sh}
images=$(dirname "$oracle")/images-arm64-7.3
if [ ! -f "$oracle" ]; then
  echo "test-kernel-arm64: no arm64 oracle at $oracle (the shared/ directory beside the repository)" >&2
  exit 2
fi
for f in Image.gz initramfs.cpio.gz virt.dtb virt-cma.dtb kernel.config; do
  if [ ! -f "$images/$f" ]; then
    echo "test-kernel-arm64: $images/$f is missing (build the images with $(dirname "$oracle")/build-arm64.sh, ORACLE_INSTALL=1)" >&2
    exit 2
  fi
done
if ! command -v qemu-system-aarch64 >/dev/null; then
  echo "test-kernel-arm64: qemu-system-aarch64 is not installed (Debian: apt-get install -y qemu-system-arm)" >&2
  exit 2
fi
if [ ! -f "$repo/dist/scripts/arm64-referee.js" ]; then
  echo "test-kernel-arm64: build first (npm run build)" >&2
  exit 2
fi
export ORACLE_TIMEOUT=${ORACLE_TIMEOUT:-300}
if [ -n "${ARM64_RECORD_DIR:-}" ]; then
  out=$ARM64_RECORD_DIR
  mkdir -p "$out" || exit 2
else
  out=$(mktemp -d /tmp/test-kernel-arm64.XXXXXX)
  trap 'rm -rf "$out"' EXIT
fi
guest=$(cat "$repo/test/oracle/issue-11/arm64/guest.sh") || exit 2
status=0
# the cases of scripts/arm64-referee.ts ARM64_CASES: name, DTB, extra command line
while read -r name dtb append; do
  start=$(date +%s)
  ORACLE_DTB=$images/$dtb ORACLE_APPEND=$append bash "$oracle" "$guest" > "$out/$name.out.tmp"
  rc=$?
  if [ $rc -ne 0 ]; then
    echo "test-kernel-arm64: the referee run $dtb ${append:-} failed (exit $rc):" >&2
    tail -20 "$out/$name.out.tmp" >&2
    status=1
    continue
  fi
  mv "$out/$name.out.tmp" "$out/$name.out"
  echo "test-kernel-arm64: recorded $dtb ${append:-(no cma=)} in $(( $(date +%s) - start )) s"
done <<'CASES'
virt-cma virt-cma.dtb
virt-cma.cma32M virt-cma.dtb cma=32M
virt virt.dtb
virt.cma32M virt.dtb cma=32M
virt-cma.cma0 virt-cma.dtb cma=0
virt.cma0 virt.dtb cma=0
CASES
[ $status -eq 0 ] || exit 1
node "$repo/dist/scripts/arm64-referee.js" compare "$out" --images "$images"
