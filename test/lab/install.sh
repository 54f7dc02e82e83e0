#!/usr/bin/env bash
# Install the Debian 12 (bookworm, OpenStack Zed) packages the hostmaint lab
# needs. Quick no-op when they are already installed. Needs root and apt.
#
# No service is started by the packages (temporary policy-rc.d exiting 101) and
# no package configures a database (dbconfig-common preseeded to "no").
# The Debian nova-compute package is deliberately NOT installed: the lab runs every
# nova-compute (fake-driver and libvirt ones) from python3-nova. libvirt and QEMU are
# installed for the two libvirt computes; their daemons are started by start.sh only.
# LAB_INSTALL_FORCE=1 runs apt even when everything is installed (repair/test).
set -euo pipefail
export PATH="/usr/sbin:/usr/bin:/sbin:/bin${PATH:+:$PATH}"
export DEBIAN_FRONTEND=noninteractive

PKGS=(
  rabbitmq-server mariadb-server keystone placement-api glance-api
  nova-api nova-conductor nova-scheduler neutron-api
  python3-openstackclient python3-novaclient python3-osc-placement
  curl uwsgi-plugin-python3
  # the libvirt computes qemu-01/02 (test/lab/libvirt.sh) and their guest (test/lab/guest.sh)
  qemu-system-x86 libvirt-daemon-system libvirt-clients python3-libvirt busybox-static
  iproute2 util-linux cpio
)

t0=$(date +%s)
log() { printf '[lab-install %s] %s\n' "$(date +%H:%M:%S)" "$*"; }

missing() {
  local p out=()
  for p in "${PKGS[@]}"; do
    [ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)" = installed ] || out+=("$p")
  done
  printf '%s\n' "${out[@]:-}" | sed '/^$/d'
}

MISSING="$(missing)"
if [ -z "$MISSING" ] && [ "${LAB_INSTALL_FORCE:-0}" != 1 ]; then
  log "all lab packages already installed"
  exit 0
fi
[ "$(id -u)" = 0 ] || { echo "install.sh needs root" >&2; exit 1; }
command -v apt-get >/dev/null || { echo "install.sh needs apt-get (Debian 12)" >&2; exit 1; }
log "missing: $(echo "$MISSING" | tr '\n' ' ')"

# Processes that exist before the install; anything the package scripts leave
# running (e.g. an `epmd -daemon`) is stopped afterwards.
procs_snapshot() {
  local p
  for p in /proc/[0-9]*; do
    p=${p#/proc/}
    printf '%s:%s\n' "$p" "$(awk '{sub(/.*\) /, ""); print $20}' "/proc/$p/stat" 2>/dev/null)"
  done
}
BEFORE="$(procs_snapshot)"

POLICY=/usr/sbin/policy-rc.d
OWN_POLICY=0
cleanup() {
  if [ "$OWN_POLICY" = 1 ]; then rm -f "$POLICY"; fi
}
trap cleanup EXIT
if [ ! -e "$POLICY" ]; then
  printf '#!/bin/sh\n# hostmaint lab install: start no services\nexit 101\n' >"$POLICY"
  chmod 755 "$POLICY"
  OWN_POLICY=1
else
  log "note: $POLICY already exists; leaving it as is"
fi

echo 'dbconfig-common dbconfig-common/dbconfig-install boolean false' | debconf-set-selections

APT=(apt-get -o DPkg::Lock::Timeout=900 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
log "apt-get update"
"${APT[@]}" update -q
log "apt-get install (takes ~2-3 min on a fresh machine)"
# shellcheck disable=SC2046
"${APT[@]}" install -y -q --no-install-recommends "${PKGS[@]}"

if dpkg-query -W -f='${db:Status-Status}' nova-compute 2>/dev/null | grep -q installed; then
  log "WARNING: nova-compute is installed (not by this script); the lab does not use it"
fi

# An `epmd -daemon` started by the package scripts despite policy-rc.d would
# sit on port 4369 on all interfaces: stop it if it was born during this
# install. Other daemons born meanwhile are only reported.
AFTER="$(procs_snapshot)"
for entry in $(comm -13 <(echo "$BEFORE" | sort) <(echo "$AFTER" | sort)); do
  pid=${entry%%:*}
  pname="$(cat "/proc/$pid/comm" 2>/dev/null || true)"
  args="$({ tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null || true)"
  case "$pname" in
    epmd)
      if [[ "$args" == *-daemon* ]]; then
        log "stopping '$args' (pid $pid) left running by the package scripts"
        kill -TERM "$pid" 2>/dev/null || true
      fi
      ;;
    beam.smp | mariadbd | mysqld)
      log "note: $pname (pid $pid) started during the install: $args"
      ;;
  esac
done

MISSING="$(missing)"
[ -z "$MISSING" ] || { echo "still missing after install: $MISSING" >&2; exit 1; }
log "installed in $(($(date +%s) - t0))s"
