#!/usr/bin/env bash
# bench:kernel: the Linux-backend benchmarks (bench/linux/run.ts, docs/benchmarks.md "Linux
# backend (oracle VM)"). Run `npm run build` first (`npm run bench:kernel` does).
#   1. compiles the C baseline on the host: gcc -static -O2 bench/linux-c/dmaheap-bench.c into
#      dist/bench-linux-c/dmaheap-bench (the guest sees the host's files)
#   2. measures the backend's start-up on the HOST (fresh node processes), as JSON in a temp file
#   3. boots the oracle VM (../shared/oracle/run-in-kernel.sh, Linux 6.1 with /dev/dma_heap) once
#      and runs node --expose-gc dist/bench/linux/run.js inside it, which runs the C program and
#      the TypeScript side interleaved and prints the report (with the host start-up result)
# Arguments go to run.js (--quick, --json, --rounds N, --only a,b, --heap NAME), except
#   --icount   run the guest with QEMU's -icount shift=0,sleep=off (single-threaded TCG): guest
#              time is the number of instructions executed (1 ns each), so the results no longer
#              depend on what else the host runs (other guests, builds); see docs/benchmarks.md.
#              Done with a qemu-system-x86_64 wrapper put first in PATH for the oracle's script.
# Output arrives after the guest powers off. Exit status: run.js's (0 whatever the results; 1 if a
# benchmark crashed), 125 when the VM failed, 2 when gcc, the oracle or qemu is missing.
# Settings: ORACLE_RUN, ORACLE_TIMEOUT (default here 1500 s) and the other ORACLE_* variables.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
oracle=${ORACLE_RUN:-$here/../../shared/oracle/run-in-kernel.sh}
if [ ! -f "$oracle" ]; then
  echo "bench-kernel: no oracle at $oracle (the shared/ directory beside the repository)" >&2
  exit 2
fi
if ! command -v qemu-system-x86_64 >/dev/null; then
  echo "bench-kernel: qemu-system-x86_64 is not installed (Debian: apt-get install -y qemu-system-x86)" >&2
  exit 2
fi
if ! command -v gcc >/dev/null; then
  echo "bench-kernel: gcc is not installed (needed for the C baseline, with static glibc: libc6-dev)" >&2
  exit 2
fi
icount=0
pass=()
for a in "$@"; do
  if [ "$a" = --icount ]; then icount=1; else pass+=("$a"); fi
done
set -- ${pass[@]+"${pass[@]}"}
if [ ! -f "$repo/dist/bench/linux/run.js" ]; then
  echo "bench-kernel: build first (npm run build)" >&2
  exit 2
fi
cd "$repo"
mkdir -p dist/bench-linux-c
cbin=dist/bench-linux-c/dmaheap-bench
gcc -static -O2 -Wall -o "$cbin" bench/linux-c/dmaheap-bench.c || { echo "bench-kernel: gcc failed" >&2; exit 2; }
host_json=$(mktemp /tmp/dmaheap-bench-startup.XXXXXX.json)
shim=""
trap 'rm -f "$host_json"; [ -n "$shim" ] && rm -rf "$shim"' EXIT
echo "bench-kernel: start-up on the host" >&2
node dist/bench/linux/run.js --startup-only --json "$@" > "$host_json" || echo "bench-kernel: host start-up run failed" >&2
export ORACLE_TIMEOUT=${ORACLE_TIMEOUT:-1500}
args=""
for a in "$@"; do args="$args $(printf '%q' "$a")"; done
if [ $icount = 1 ]; then
  real=$(command -v qemu-system-x86_64)
  shim=$(mktemp -d /tmp/dmaheap-bench-qemu.XXXXXX)
  # the oracle asks for multi-threaded TCG, which -icount does not support
  {
    echo '#!/usr/bin/env bash'
    echo 'args=()'
    echo 'for a in "$@"; do'
    echo '  if [ "$a" = tcg,thread=multi ]; then args+=(tcg,thread=single); else args+=("$a"); fi'
    echo 'done'
    echo "exec $(printf '%q' "$real") \"\${args[@]}\" -icount shift=0,sleep=off"
  } > "$shim/qemu-system-x86_64"
  chmod +x "$shim/qemu-system-x86_64"
  export PATH="$shim:$PATH"
  args="$args --clock icount"
  echo "bench-kernel: guest time counts instructions (-icount shift=0,sleep=off)" >&2
fi
echo "bench-kernel: booting the oracle VM (output arrives at power-off)" >&2
start=$(date +%s)
bash "$oracle" bash -c "node --expose-gc dist/bench/linux/run.js --c-bin $cbin --host-startup $host_json$args"
status=$?
echo "bench-kernel: VM run took $(( $(date +%s) - start )) s, exit status $status" >&2
exit $status
