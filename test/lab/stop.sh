#!/usr/bin/env bash
# Stop the hostmaint OpenStack lab: exactly the processes test/lab/start.sh
# started, found through their pid files in $LAB_DIR/run (pid + start time are
# checked, so a recycled pid is never killed), with their child processes.
# SIGTERM first, SIGKILL after LAB_STOP_TIMEOUT (20 s). Databases are kept.
#
#   bash test/lab/stop.sh                    stop everything
#   bash test/lab/stop.sh --only compute-03  stop only these services (repeatable)
#
# Idempotent. Exits 1 if lab processes are still running afterwards.
set -euo pipefail
# shellcheck source=test/lab/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ONLY=()
while [ $# -gt 0 ]; do
  case "$1" in
    --only) [ $# -ge 2 ] || lab_die "--only needs a service name"; ONLY+=("$2"); shift 2 ;;
    --only=*) ONLY+=("${1#--only=}"); shift ;;
    -h | --help) sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) lab_die "unknown argument: $1" ;;
  esac
done

T0=$(lab_now)
lab_lock
if [ ! -d "$LAB_DIR/run" ]; then
  echo "[lab] nothing to stop (no $LAB_DIR/run)"
  exit 0
fi

if [ "${#ONLY[@]}" -gt 0 ]; then
  for s in "${ONLY[@]}"; do
    [ -e "$(lab_pidfile "$s")" ] || echo "[lab] $s: no pid file, not running"
  done
  lab_stop_services "${ONLY[@]}"
  echo "[lab] stopped ${ONLY[*]} in $(lab_since "$T0")s"
  exit 0
fi

ALL=()
while read -r s; do [ -n "$s" ] && ALL+=("$s"); done < <(lab_known_services)
# The libvirt hosts first: nova-computes, libvirtd, their guests, namespaces and bridge.
lab_qemu_stop
if [ "${#ALL[@]}" -eq 0 ]; then
  echo "[lab] nothing running"
else
  # OpenStack services first (in parallel), then the message bus and the database.
  FIRST=() LAST=()
  for s in "${ALL[@]}"; do
    case "$s" in mariadb | rabbitmq | epmd) LAST+=("$s") ;; qemu-* | libvirt-*) ;; *) FIRST+=("$s") ;; esac
  done
  if [ "${#FIRST[@]}" -gt 0 ]; then
    echo "[lab] stopping ${FIRST[*]}"
    lab_stop_services "${FIRST[@]}"
  fi
  for s in rabbitmq mariadb epmd; do
    case " ${LAST[*]:-} " in *" $s "*) echo "[lab] stopping $s"; lab_stop_services "$s" ;; esac
  done
fi

# Nothing of the lab may be left.
LEFT="$(lab_leftovers)"
EPMD_LEFT="$(ps -eo pid=,args= | awk -v p="-port $LAB_PORT_EPMD" 'index($0, "epmd") && index($0, p) && !/awk/')"
if [ -n "$LEFT$EPMD_LEFT" ]; then
  echo "[lab] ERROR: lab processes still running after stop:" >&2
  printf '%s\n' "$LEFT" "$EPMD_LEFT" | sed '/^$/d' >&2
  exit 1
fi
echo "[lab] stopped in $(lab_since "$T0")s; no lab process left"
OTHER="$(ps -eo pid=,args= | grep -E 'mariadbd|mysqld|beam\.smp|uwsgi|glance-api|neutron-server|nova-(api|conductor|scheduler|compute)|nova_compute\.py' |
  grep -v -e grep -e "$LAB_DIR" || true)"
if [ -n "$OTHER" ]; then
  echo "[lab] note: OpenStack-like processes not belonging to this lab ($LAB_DIR) are running:"
  printf '%s\n' "$OTHER" | cut -c1-200
fi
