#!/usr/bin/env bash
# Show the lab's processes (from the pid files) and, if Nova answers, its
# services and hypervisors. Exit 0 when every recorded process is running.
set -euo pipefail
# shellcheck source=test/lab/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

echo "lab dir: $LAB_DIR"
rc=0
any=0
while read -r s; do
  [ -n "$s" ] || continue
  any=1
  if pid="$(lab_svc_running "$s")"; then
    printf '  %-16s running  pid %-7s log %s\n' "$s" "$pid" "$(lab_logfile "$s")"
  else
    printf '  %-16s DEAD     (stale pid file)  log %s\n' "$s" "$(lab_logfile "$s")"
    rc=1
  fi
done < <(lab_known_services 2>/dev/null || true)
if [ "$any" = 0 ]; then
  echo "  no lab process recorded (not started?)"
  exit 3
fi
if [ -s "$LAB_DIR/secrets.env" ] && lab_tcp_open "$LAB_PORT_NOVA"; then
  lab_load_secrets
  lab_client_env
  lab_ctl status || rc=1
fi
exit "$rc"
