#!/usr/bin/env bash
# Build the lab's tiny test guest (Debian packages only, no internet but apt):
#
#   bash test/lab/guest.sh OUTDIR
#
# OUTDIR/vmlinuz     the kernel of the linux-image-amd64 candidate, taken from its
#                    .deb (apt-get download, cached in OUTDIR/cache; never installed)
# OUTDIR/initrd.img  gzip'd newc cpio: the installed busybox-static and an /init
# OUTDIR/disk.raw    1 MiB of zeros (the "disk" of the Glance image; unused)
# OUTDIR/manifest    inputs hash, kernel package/release, busybox version,
#                    sha256 and size of each file
#
# A re-run whose inputs (this script, kernel package version, busybox version)
# are unchanged and whose outputs are intact does nothing.
#
# The guest is meant for QEMU TCG (never KVM here) with 256 MiB of RAM, booted as
# Glance kernel + ramdisk images (kernel_id/ramdisk_id, os_command_line). Its
# /init reads the kernel command line:
#   console=ttyS0   needed: everything the guest says goes to /dev/ttyS0
#   hm.dirty=MiB    size of a tmpfs buffer rewritten with random data over and
#                   over, as fast as the vCPU goes (~500 MiB/s under TCG, one
#                   host core); default 0, at most 96. 0 = idle (~1 % of a core)
#   hm.period=S     seconds between heartbeats (integer, default 1)
# and prints on the serial console
#   HOSTMAINT-GUEST boot mode=<idle|busy> dirty=<MiB>
#   HB <n> up=<seconds from /proc/uptime>          n = 1, 2, 3 ... every period
# Recommended command lines:
#   idle: console=ttyS0 hm.dirty=0    (8 MiB/s cap: migrates in ~10 s, 81 MiB)
#   busy: console=ttyS0 hm.dirty=32   (8 MiB/s cap: never converges)
set -euo pipefail
export PATH="/usr/sbin:/usr/bin:/sbin:/bin${PATH:+:$PATH}"
export LC_ALL=C

log() { printf '[guest %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { printf '[guest] ERROR: %s\n' "$*" >&2; exit 1; }

[ $# -eq 1 ] && [ -n "$1" ] || { sed -n '2,29p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }
OUT="$(realpath -m "$1")"
SELF="$(realpath "${BASH_SOURCE[0]}")"

META_PKG=linux-image-amd64
BUSYBOX=/bin/busybox
DISK_MIB=1

for t in apt-cache apt-get dpkg-deb dpkg-query tar gzip sha256sum flock realpath; do
  command -v "$t" >/dev/null || die "missing tool: $t"
done

# ---- inputs -----------------------------------------------------------------
[ "$(dpkg-query -W -f='${db:Status-Status}' busybox-static 2>/dev/null || true)" = installed ] ||
  die "busybox-static is not installed (apt-get install -y --no-install-recommends busybox-static)"
[ -x "$BUSYBOX" ] || die "$BUSYBOX missing although busybox-static is installed"
BB_VER="$(dpkg-query -W -f='${Version}' busybox-static)"

KPKG="$(apt-cache depends "$META_PKG" 2>/dev/null |
  awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9].*-amd64$/ {if (!n++) print $2}')"
[ -n "$KPKG" ] || die "cannot resolve $META_PKG to a kernel package (apt lists missing? run apt-get update)"
KVER="$(apt-cache policy "$KPKG" | awk '$1 == "Candidate:" {if (!n++) print $2}')"
[ -n "$KVER" ] && [ "$KVER" != "(none)" ] ||
  die "no candidate version for $KPKG (apt lists stale? run apt-get update)"

SCRIPT_SHA="$(sha256sum "$SELF" | cut -d' ' -f1)"
INPUTS="$(printf 'script=%s\nkernel=%s=%s\nbusybox=%s\n' "$SCRIPT_SHA" "$KPKG" "$KVER" "$BB_VER" |
  sha256sum | cut -d' ' -f1)"

mkdir -p "$OUT/cache"
exec 9>"$OUT/.lock"
flock -w 600 9 || die "another guest.sh is building in $OUT (lock $OUT/.lock)"

# ---- up to date? --------------------------------------------------------------
up_to_date() {
  local m="$OUT/manifest" f want
  [ -s "$m" ] || return 1
  [ "$(awk '$1 == "inputs" {print $2}' "$m")" = "$INPUTS" ] || return 1
  for f in vmlinuz initrd.img disk.raw; do
    want="$(awk -v f="$f" '$1 == "file" && $2 == f {sub(/^sha256=/, "", $3); print $3}' "$m")"
    [ -n "$want" ] && [ -f "$OUT/$f" ] || return 1
    [ "$(sha256sum "$OUT/$f" | cut -d' ' -f1)" = "$want" ] || return 1
  done
}
if up_to_date; then
  log "up to date in $OUT ($KPKG $KVER, busybox $BB_VER): nothing to do"
  exit 0
fi
log "building in $OUT: $KPKG $KVER, busybox-static $BB_VER"

rm -rf "$OUT"/.build.*   # left by a killed run (we hold the lock)
TMP="$(mktemp -d "$OUT/.build.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
rm -f "$OUT/manifest"   # outputs are incomplete until the manifest is back

# ---- kernel package (cached) ----------------------------------------------------
KSHA="$(apt-cache show "$KPKG=$KVER" 2>/dev/null | awk '$1 == "SHA256:" {if (!n++) print $2}')"
DEB_NAME="${KPKG}_${KVER//:/%3a}_amd64.deb"
DEB="$OUT/cache/$DEB_NAME"
deb_ok() {
  [ -s "$1" ] || return 1
  if [ -n "$KSHA" ]; then
    [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$KSHA" ]
  else
    dpkg-deb --info "$1" >/dev/null 2>&1
  fi
}
if deb_ok "$DEB"; then
  log "kernel package cached: cache/$DEB_NAME"
elif deb_ok "/var/cache/apt/archives/$DEB_NAME"; then
  cp "/var/cache/apt/archives/$DEB_NAME" "$DEB.part" && mv -f "$DEB.part" "$DEB"
  log "kernel package copied from /var/cache/apt/archives"
else
  rm -f "$DEB"
  log "downloading $KPKG=$KVER"
  mkdir "$TMP/dl"
  (cd "$TMP/dl" && apt-get download -q -o APT::Sandbox::User=root "$KPKG=$KVER" >"$TMP/dl.log" 2>&1) || {
    tail -n 5 "$TMP/dl.log" >&2
    die "apt-get download $KPKG=$KVER failed (stale apt lists? run apt-get update)"
  }
  got=("$TMP/dl/"*.deb)
  [ "${#got[@]}" = 1 ] && [ -f "${got[0]}" ] || die "apt-get download left no single .deb in $TMP/dl"
  deb_ok "${got[0]}" || die "downloaded $KPKG=$KVER does not match its apt SHA256 ($KSHA)"
  mv -f "${got[0]}" "$DEB"
  log "downloaded $(du -m "$DEB" | cut -f1) MiB to cache/$DEB_NAME"
fi
# Keep only the kernel package in use.
find "$OUT/cache" -maxdepth 1 -name 'linux-image-*.deb' ! -name "$DEB_NAME" -delete

# Only boot/ is needed: stream the data tarball instead of dpkg-deb -x of all the
# modules (hundreds of MiB).
mkdir "$TMP/k"
dpkg-deb --fsys-tarfile "$DEB" | tar -x -C "$TMP/k" --wildcards './boot/vmlinuz-*' './boot/config-*' ||
  die "cannot extract boot/vmlinuz-* from $DEB"
vm=("$TMP/k/boot/vmlinuz-"*)
[ "${#vm[@]}" = 1 ] && [ -s "${vm[0]}" ] || die "expected one boot/vmlinuz-* in $DEB"
KREL="${vm[0]##*/vmlinuz-}"
KCONFIG="$TMP/k/boot/config-$KREL"
[ -s "$KCONFIG" ] || die "boot/config-$KREL missing in $DEB"
# What the guest relies on without any module.
for opt in BLK_DEV_INITRD RD_GZIP DEVTMPFS TMPFS PROC_FS SYSFS SERIAL_8250 SERIAL_8250_CONSOLE; do
  grep -qx "CONFIG_$opt=y" "$KCONFIG" || die "kernel $KREL lacks built-in CONFIG_$opt"
done
mv "${vm[0]}" "$TMP/vmlinuz"
log "kernel $KREL: vmlinuz $(du -k "$TMP/vmlinuz" | cut -f1) KiB"

# ---- initramfs ------------------------------------------------------------------
R="$TMP/root"
mkdir -p "$R"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,buf,tmp,root}
cp "$BUSYBOX" "$R/bin/busybox"
"$BUSYBOX" --list-full | while read -r a; do
  case "$a" in bin/busybox|*/init|init|linuxrc) continue ;; esac
  [ -e "$R/$a" ] || ln -s /bin/busybox "$R/$a"
done
# The kernel opens /dev/console on the initramfs before /init runs (no node: no
# stdio for /init until devtmpfs is mounted).
if [ "$(id -u)" = 0 ]; then
  mknod -m 600 "$R/dev/console" c 5 1
else
  log "note: not root, no /dev/console node in the initramfs (early /init errors are lost)"
fi

cat >"$R/init" <<'INIT'
#!/bin/busybox sh
# hostmaint lab guest, PID 1 (built by test/lab/guest.sh). Must never exit.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# Everything goes to the serial console (Nova logs it to the console log file).
if [ -c /dev/ttyS0 ]; then exec </dev/null >/dev/ttyS0 2>&1; fi
say() { echo "hostmaint-guest: $*"; }

set -f
read -r cmdline </proc/cmdline
dirty=0 period=1
for arg in $cmdline; do
  case "$arg" in
    hm.dirty=*) dirty=${arg#hm.dirty=} ;;
    hm.period=*) period=${arg#hm.period=} ;;
  esac
done
set +f
num() {  # a plain decimal integer, without leading zeros; else $2
  case "$1" in ''|*[!0-9]*) say "ignoring invalid value '$1', using $2" >&2; echo "$2"; return ;; esac
  v=$1
  while [ "${#v}" -gt 1 ] && [ "${v#0}" != "$v" ]; do v=${v#0}; done
  echo "$v"
}
dirty=$(num "$dirty" 0)
period=$(num "$period" 1)
[ "$period" -ge 1 ] || { say "hm.period=$period raised to 1"; period=1; }
[ "$dirty" -le 96 ] || { say "hm.dirty=$dirty capped to 96"; dirty=96; }
CH=4                     # MiB per dd (one fork+exec each)
if [ "$dirty" -gt 0 ]; then
  # Keep at least 48 MiB of the guest's RAM free.
  avail=$(awk '$1 == "MemAvailable:" {print int($2 / 1024)}' /proc/meminfo)
  max=$((avail - 48 - 2 * CH))
  [ "$max" -ge 0 ] || max=0
  [ "$dirty" -le "$max" ] || { say "hm.dirty=$dirty capped to $max (MemAvailable ${avail} MiB)"; dirty=$max; }
fi
mode=idle
[ "$dirty" -eq 0 ] || mode=busy

mount -t tmpfs -o "size=$((dirty + 2 * CH + 1))m,mode=700" tmpfs /buf
if [ "$dirty" -gt 0 ]; then
  # Random data (zero pages would travel as tiny markers): a 2*CH MiB source,
  # copied into the buffer from offsets that move every round, so every page
  # of the buffer gets new content each round.
  head -c $((2 * CH * 1048576)) /dev/urandom >/buf/src
fi
say "hm.dirty=$dirty MiB hm.period=$period s, $(awk '$1 == "MemTotal:" {print int($2 / 1024)}' /proc/meminfo) MiB RAM"
echo "HOSTMAINT-GUEST boot mode=$mode dirty=$dirty"

n=0
now() {  # up = /proc/uptime seconds, t = the same in centiseconds
  read -r up _ </proc/uptime
  f=${up#*.}; f=${f#0}
  t=$(( ${up%.*} * 100 + f ))
}
hb() { n=$((n + 1)); echo "HB $n up=$up"; last=$t; }

if [ "$dirty" -eq 0 ]; then
  while :; do now; hb; sleep "$period"; done
fi

# Busy: rewrite the buffer CH MiB at a time, round after round, as fast as we
# can; a heartbeat whenever a period has passed (checked after each chunk).
BLK=65536; CB=$((CH * 16)); TB=$((dirty * 16))   # in 64 KiB blocks
pcs=$((period * 100))
r=0
now; hb
while :; do
  p=0
  while [ "$p" -lt "$TB" ]; do
    cnt=$((TB - p)); [ "$cnt" -le "$CB" ] || cnt=$CB
    off=$(( (r * 37 + (p / CB) * 11) % CB ))   # moves by 37 blocks each round
    dd if=/buf/src of=/buf/buf bs=$BLK skip=$off seek=$p count=$cnt conv=notrunc 2>/dev/null
    p=$((p + cnt))
    now
    [ $((t - last)) -lt "$pcs" ] || hb
  done
  r=$((r + 1))
done
# not reached; PID 1 must not exit
while :; do sleep 3600; done
INIT
chmod 755 "$R/init"

find "$R" -exec touch -h -d @0 {} +
(cd "$R" && find . -mindepth 1 | sort | "$BUSYBOX" cpio -o -H newc 2>/dev/null) | gzip -9 -n >"$TMP/initrd.img" ||
  die "building the initramfs failed"
log "initrd.img $(du -k "$TMP/initrd.img" | cut -f1) KiB ($(find "$R" -mindepth 1 | wc -l) entries)"

# ---- disk -------------------------------------------------------------------------
dd if=/dev/zero of="$TMP/disk.raw" bs=1M count="$DISK_MIB" status=none

# ---- publish --------------------------------------------------------------------
for f in vmlinuz initrd.img disk.raw; do
  chmod 644 "$TMP/$f"
  mv -f "$TMP/$f" "$OUT/$f"
done
{
  echo "# hostmaint lab guest, built by test/lab/guest.sh on $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "inputs $INPUTS"
  echo "script_sha256 $SCRIPT_SHA"
  echo "kernel_package $KPKG $KVER"
  echo "kernel_release $KREL"
  echo "busybox_static $BB_VER"
  for f in vmlinuz initrd.img disk.raw; do
    echo "file $f sha256=$(sha256sum "$OUT/$f" | cut -d' ' -f1) bytes=$(stat -c %s "$OUT/$f")"
  done
} >"$TMP/manifest"
mv -f "$TMP/manifest" "$OUT/manifest"
log "done: $OUT/{vmlinuz,initrd.img,disk.raw,manifest}"
