#!/usr/bin/env bash
# Builds the native parts of `dmaheap run` for x86-64 and arm64:
#   - native/launch/dmaheap-launch.c → native/prebuilt/linux-<arch>/dmaheap-launch (the launcher,
#     static, no libc), recorded under "binaries" in native/prebuilt/MANIFEST.json;
#   - native/preload/dmaheap-preload.c → native/prebuilt/linux-<arch>/dmaheap-preload.so (the fast
#     path's LD_PRELOAD shim, linked against glibc with symbol versions every glibc since 2.17 has),
#     recorded under "preload";
#   - native/notify/dmaheap-notify.c → native/prebuilt/linux-<arch>/dmaheap-notify.so (the
#     supervisor's notification helper, loaded with koffi), recorded under "notify".
#
#   bash native/build.sh [--check] [x64|arm64 ...]      (npm run build:native builds both)
#
# Without --check: builds into a temp dir, copies the binaries into native/prebuilt/linux-<arch>/
# and records them in native/prebuilt/MANIFEST.json (sha256, size, the compiler, its version and
# the exact command line). With --check: builds the same way and compares byte for byte with the
# shipped binaries; exits 1 on a difference, 2 when a compiler is missing. No arch: both.
# Compilers: x86_64-linux-gnu-gcc and aarch64-linux-gnu-gcc (Debian: gcc, gcc-aarch64-linux-gnu);
# CC_X64 / CC_ARM64 override them. The output is byte-reproducible: no build id, no symbols
# beyond the shim's exports, no file names (each source is compiled under its bare name in the
# temp dir).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
prebuilt="$here/prebuilt"
manifest="$prebuilt/MANIFEST.json"

LAUNCH_FLAGS=(-std=c11 -Os -Wall -Wextra -Werror -ffreestanding -fno-builtin -nostdlib -static -fno-pie -no-pie
  -fno-stack-protector -fno-asynchronous-unwind-tables -fno-unwind-tables -fno-ident
  -fno-tree-loop-distribute-patterns -Wl,--build-id=none -Wl,-z,noexecstack -Wl,-z,norelro -s)
PRELOAD_FLAGS=(-std=gnu11 -O2 -Wall -Wextra -Werror -shared -fPIC -fno-ident -Wl,--build-id=none -Wl,-z,noexecstack -s)

check=0
arches=()
for a in "$@"; do
  case "$a" in
    --check) check=1 ;;
    x64|arm64) arches+=("$a") ;;
    *) echo "native/build.sh: unknown argument '$a' (usage: build.sh [--check] [x64|arm64 ...])" >&2; exit 2 ;;
  esac
done
[ ${#arches[@]} -gt 0 ] || arches=(x64 arm64)

cc_for() {
  case "$1" in
    x64) echo "${CC_X64:-x86_64-linux-gnu-gcc}" ;;
    arm64) echo "${CC_ARM64:-aarch64-linux-gnu-gcc}" ;;
  esac
}

tmp=$(mktemp -d /tmp/dmaheap-native.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
status=0

# one <launch|preload> <arch> <cc> <version>
one() {
  local what=$1 arch=$2 cc=$3 version=$4 name srcrel section flags libs
  if [ "$what" = launch ]; then
    name=dmaheap-launch; srcrel=native/launch/dmaheap-launch.c; section=binaries; flags=("${LAUNCH_FLAGS[@]}"); libs=()
  elif [ "$what" = notify ]; then
    name=dmaheap-notify.so; srcrel=native/notify/dmaheap-notify.c; section=notify; flags=("${PRELOAD_FLAGS[@]}"); libs=()
  else
    name=dmaheap-preload.so; srcrel=native/preload/dmaheap-preload.c; section=preload; flags=("${PRELOAD_FLAGS[@]}"); libs=(-ldl)
  fi
  local src="$here/../$srcrel" base
  base=$(basename "$srcrel")
  mkdir -p "$tmp/$arch-$what" "$tmp/common"
  cp "$src" "$tmp/$arch-$what/$base"
  # what the sources include from ../common/ (the shim's and the helper's rule for names)
  cp "$here"/common/*.h "$tmp/common/"
  local cmd="$cc ${flags[*]} -o $name $base${libs[*]:+ ${libs[*]}}"
  (cd "$tmp/$arch-$what" && "$cc" "${flags[@]}" -o "$name" "$base" "${libs[@]}")
  local out="$tmp/$arch-$what/$name"
  local shipped="$prebuilt/linux-$arch/$name"
  local label="linux-$arch"
  [ "$what" = launch ] || label="linux-$arch $name"
  if [ "$check" = 1 ]; then
    local recorded
    recorded=$(node -e '
      const m = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))[process.argv[3]]?.[process.argv[2]];
      if (m) console.log(m.compilerVersion + "\n" + m.command);' "$manifest" "linux-$arch" "$section" 2>/dev/null || true)
    if [ ! -f "$shipped" ]; then
      echo "native/build.sh: $shipped is missing (npm run build:native builds it)" >&2; status=1; return
    fi
    if cmp -s "$out" "$shipped"; then
      echo "$label: identical to the shipped binary ($(wc -c <"$out") bytes, $cc)"
    else
      echo "native/build.sh: $label: the binary built from $srcrel differs from $shipped" >&2
      echo "  built with:    $version" >&2
      echo "  command:       $cmd" >&2
      echo "  manifest says: $(echo "$recorded" | sed -n 1p)" >&2
      echo "                 $(echo "$recorded" | sed -n 2p)" >&2
      echo "  if the source changed, run npm run build:native and commit native/prebuilt" >&2
      status=1
    fi
  else
    mkdir -p "$prebuilt/linux-$arch"
    install -m 755 "$out" "$shipped"
    node -e '
      const fs = require("fs"), crypto = require("crypto");
      const [manifest, section, key, file, src, srcrel, name, compiler, compilerVersion, command] = process.argv.slice(1);
      let m = { protocol: 1, source: "native/launch/dmaheap-launch.c", binaries: {} };
      try { m = JSON.parse(fs.readFileSync(manifest, "utf8")); } catch {}
      const sha = (p) => crypto.createHash("sha256").update(fs.readFileSync(p)).digest("hex");
      const entries = m[section] ?? {};
      entries[key] = { path: `native/prebuilt/${key}/${name}`, sha256: sha(file), size: fs.statSync(file).size,
        ...(section === "binaries" ? {} : { source: srcrel }),
        sourceSha256: sha(src),
        compiler, compilerVersion, cwd: `the directory of a copy of ${srcrel}`, command };
      m[section] = Object.fromEntries(Object.entries(entries).sort(([a], [b]) => a.localeCompare(b)));
      fs.writeFileSync(manifest, JSON.stringify(m, null, 2) + "\n");' \
      "$manifest" "$section" "linux-$arch" "$shipped" "$src" "$srcrel" "$name" "$cc" "$version" "$cmd"
    echo "$label: $shipped ($(wc -c <"$shipped") bytes, $version)"
  fi
}

for arch in "${arches[@]}"; do
  cc=$(cc_for "$arch")
  if ! command -v "$cc" >/dev/null 2>&1; then
    echo "native/build.sh: $cc not found: cannot build linux-$arch (Debian: apt-get install gcc gcc-aarch64-linux-gnu)" >&2
    exit 2
  fi
  version=$("$cc" --version | head -n 1)
  one launch "$arch" "$cc" "$version"
  one preload "$arch" "$cc" "$version"
  one notify "$arch" "$cc" "$version"
done
exit $status
