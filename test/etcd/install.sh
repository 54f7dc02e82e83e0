#!/usr/bin/env bash
# Install Debian's etcd 3.4 (etcd-server + etcd-client) for the etcd test harness
# (test/etcd/cluster.ts). Quick no-op when /usr/bin/etcd and /usr/bin/etcdctl exist.
#
# The etcd-server postinst would start a system etcd (init script / systemd unit,
# data dir /var/lib/etcd, ports 2379/2380): a temporary policy-rc.d exiting 101
# stops that, and any etcd the package scripts start anyway is stopped afterwards.
# Waits for the dpkg lock (another apt-get, e.g. the lab install, may be running).
set -euo pipefail
export PATH="/usr/sbin:/usr/bin:/sbin:/bin${PATH:+:$PATH}"
export DEBIAN_FRONTEND=noninteractive

ETCD=/usr/bin/etcd
ETCDCTL=/usr/bin/etcdctl
PKGS=(etcd-server etcd-client)

etcd_version() { "$ETCD" --version 2>/dev/null | sed -n 's/^etcd Version: *//p' | head -n1; }

if [ -x "$ETCD" ] && [ -x "$ETCDCTL" ]; then
  echo "etcd install: already installed, nothing to do (etcd $(etcd_version))"
  exit 0
fi

SUDO=()
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo -n)
  else
    echo "etcd install: needs root (or sudo) to apt-get install ${PKGS[*]}" >&2
    exit 1
  fi
fi
command -v apt-get >/dev/null 2>&1 || { echo "etcd install: needs apt-get (Debian)" >&2; exit 1; }

# etcd processes (pid) alive before the install: anything newer is the package's.
etcd_pids() {
  local p
  for p in /proc/[0-9]*; do
    [ "$(cat "$p/comm" 2>/dev/null || true)" = etcd ] && printf '%s\n' "${p#/proc/}"
  done
  return 0
}
BEFORE="$(etcd_pids)"

POLICY=/usr/sbin/policy-rc.d
OWN_POLICY=0
cleanup() {
  if [ "$OWN_POLICY" = 1 ]; then "${SUDO[@]}" rm -f "$POLICY"; fi
}
trap cleanup EXIT
if [ ! -e "$POLICY" ]; then
  printf '#!/bin/sh\n# hostmaint etcd test install: start no services\nexit 101\n' | "${SUDO[@]}" tee "$POLICY" >/dev/null
  "${SUDO[@]}" chmod 755 "$POLICY"
  OWN_POLICY=1
fi

APT=("${SUDO[@]}" apt-get -o DPkg::Lock::Timeout=600 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
if ! apt-cache policy etcd-server 2>/dev/null | grep -q 'Candidate: [0-9]'; then
  "${APT[@]}" update -q >/dev/null
fi
"${APT[@]}" install -y -q --no-install-recommends "${PKGS[@]}" >/dev/null

# Stop any etcd the package scripts started despite policy-rc.d: one born during
# the install, or any running on the package's default data dir /var/lib/etcd.
STOPPED=""
for pid in $(etcd_pids); do
  args="$({ tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null || true)"
  envs="$({ "${SUDO[@]}" cat "/proc/$pid/environ" | tr '\0' '\n'; } 2>/dev/null || true)"
  cwd="$("${SUDO[@]}" readlink "/proc/$pid/cwd" 2>/dev/null || true)"
  new=1
  grep -qx "$pid" <<<"$BEFORE" && new=0
  if [ "$new" = 1 ] || [[ "$args" == *"/var/lib/etcd"* ]] || grep -q '^ETCD_DATA_DIR=/var/lib/etcd' <<<"$envs" ||
    { [[ "$args" != *--data-dir* ]] && [[ "$cwd" == /var/lib/etcd* ]]; }; then
    "${SUDO[@]}" kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
    [ -d "/proc/$pid" ] && "${SUDO[@]}" kill -KILL "$pid" 2>/dev/null || true
    STOPPED="$STOPPED $pid"
  fi
done
# Keep a later boot (systemd) from starting the package's etcd.
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  "${SUDO[@]}" systemctl disable --now etcd >/dev/null 2>&1 || true
fi

[ -x "$ETCD" ] && [ -x "$ETCDCTL" ] || { echo "etcd install: $ETCD or $ETCDCTL missing after install" >&2; exit 1; }
msg="installed ${PKGS[*]} (etcd $(etcd_version)); package service not started"
[ "$OWN_POLICY" = 1 ] || msg="$msg (existing $POLICY kept)"
[ -z "$STOPPED" ] || msg="$msg; stopped package etcd pid(s)$STOPPED"
echo "etcd install: $msg"
