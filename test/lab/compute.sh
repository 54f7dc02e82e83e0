#!/usr/bin/env bash
# Stop, start or restart ONE lab nova-compute (the rest of the lab must be up).
#
#   bash test/lab/compute.sh stop compute-03      kill it (by pid file); Nova shows it
#                                                 "down" after LAB_SERVICE_DOWN_TIME (20 s)
#   bash test/lab/compute.sh start compute-03     start it and wait until it is "up",
#                                                 sized as configured, and a hypervisor
#   bash test/lab/compute.sh restart compute-03   both (e.g. after changing its size:
#                                                 LAB_RAM_compute_03=4096 bash test/lab/compute.sh restart compute-03)
#
# The fake driver keeps its VMs in process memory: delete the servers of a
# compute before restarting it.
set -euo pipefail
# shellcheck source=test/lab/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[ $# -eq 2 ] || { sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }
action=$1 host=$2
[[ "$host" =~ ^compute-[0-9]+$ ]] || lab_die "not a lab compute name: $host"
lab_require_root
lab_lock
LAB_STARTED=()

do_stop() {
  if lab_svc_running "$host" >/dev/null; then
    lab_stop_services "$host"
    lab_log "$host stopped"
  else
    rm -f "$(lab_pidfile "$host")"
    lab_log "$host was not running"
  fi
}

do_start() {
  [ -s "$LAB_DIR/lab.env" ] && lab_svc_running nova-conductor >/dev/null ||
    lab_die "the lab is not running (bash test/lab/start.sh)"
  lab_load_secrets
  lab_client_env
  lab_ensure_compute "$host"
  LAB_WAIT_COMPUTES="$(lab_compute_expectations "$host")" \
    LAB_NOVA_MANAGE="nova-manage --config-file $LAB_DIR/etc/nova/nova.conf --config-file $LAB_DIR/etc/nova/nova-db.conf" \
    LAB_WAIT_TIMEOUT="$LAB_WAIT_TIMEOUT" \
    LAB_CPU_ALLOCATION_RATIO="$LAB_CPU_ALLOCATION_RATIO" LAB_RAM_ALLOCATION_RATIO="$LAB_RAM_ALLOCATION_RATIO" \
    LAB_DISK_ALLOCATION_RATIO="$LAB_DISK_ALLOCATION_RATIO" \
    lab_ctl wait-computes || lab_svc_fail "$host" "did not come up"
  lab_log "$host up"
}

case "$action" in
  stop) do_stop ;;
  start) do_start ;;
  restart) do_stop; do_start ;;
  *) lab_die "unknown action: $action (stop|start|restart)" ;;
esac
