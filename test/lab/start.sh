#!/usr/bin/env bash
# Start the hostmaint OpenStack lab (Zed, Debian packages, no systemd) on
# 127.0.0.1: MariaDB, RabbitMQ, Keystone, Placement, Glance, Neutron server,
# nova-api/conductor/scheduler and $LAB_COMPUTES fake-driver nova-computes.
#
#   bash test/lab/start.sh            start, or make the running lab match the env
#   bash test/lab/start.sh --reset    wipe $LAB_DIR (databases included) and start fresh
#                                     (same as LAB_RESET=1)
#
# Idempotent: services already running with the same configuration are left
# alone; a compute whose size/driver changed is restarted (its fake VMs are lost).
# See docs/lab.md for the knobs.
set -euo pipefail
# shellcheck source=test/lab/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

LAB_RESET="${LAB_RESET:-0}"
for arg in "$@"; do
  case "$arg" in
    --reset) LAB_RESET=1 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; lab_die "unknown argument: $arg" ;;
  esac
done

lab_require_root
lab_lock
[ -x /usr/bin/nova-api-wsgi ] && [ -x /usr/sbin/mariadbd ] && [ -x /usr/bin/keystone-manage ] ||
  lab_die "OpenStack packages missing: run 'bash test/lab/install.sh' first"

LAB_STARTED=()
T_START=$(lab_now)

if [ "$LAB_RESET" = 1 ] && [ -e "$LAB_DIR" ]; then
  [ -e "$LAB_DIR/.lab-dir" ] || [ -z "$(ls -A "$LAB_DIR")" ] ||
    lab_die "refusing to wipe $LAB_DIR: it has no .lab-dir marker (not a lab run directory?)"
  lab_log "reset: stopping the lab and wiping $LAB_DIR"
  bash "$LAB_SCRIPTS/stop.sh"
  rm -rf "$LAB_DIR"
fi

mkdir -p "$LAB_DIR"/{etc,data,log,run,state}
touch "$LAB_DIR/.lab-dir"
lab_log "lab dir: $LAB_DIR"

lab_load_secrets
lab_client_env
COMPUTES=()
while read -r h; do COMPUTES+=("$h"); done < <(lab_compute_names)
for h in "${COMPUTES[@]}"; do lab_compute_sizes "$h"; done # validate knobs early

lab_gen_infra_configs
lab_gen_openstack_configs
# The libvirt computes' guest (kernel + busybox initramfs from Debian packages): built in the
# background while the databases come up; a no-op when built already.
if lab_qemu_enabled; then
  lab_log "guest: building in the background (log/setup-guest.log)"
  bash "$LAB_SCRIPTS/guest.sh" "$LAB_DIR/guest" >"$LAB_DIR/log/setup-guest.log" 2>&1 </dev/null &
  GUEST_JOB=$!
fi
E="$LAB_DIR/etc"
D="$LAB_DIR/data"
S="$LAB_DIR/state"

# ---------------------------------------------------------------- ports
lab_port_free_or_ours epmd "$LAB_PORT_EPMD"
lab_port_free_or_ours mariadb "$LAB_PORT_MYSQL"
lab_port_free_or_ours rabbitmq "$LAB_PORT_RABBIT"
lab_port_free_or_ours keystone "$LAB_PORT_KEYSTONE"
lab_port_free_or_ours placement "$LAB_PORT_PLACEMENT"
lab_port_free_or_ours glance "$LAB_PORT_GLANCE"
lab_port_free_or_ours neutron "$LAB_PORT_NEUTRON"
lab_port_free_or_ours nova-api "$LAB_PORT_NOVA"

# ---------------------------------------------------------------- MariaDB, epmd, RabbitMQ
# MariaDB runs as root, like every other lab daemon: the clone (and so $LAB_DIR) may sit under a
# 0700 directory (mktemp -d) that the mysql user cannot enter (docs/lab.md).
mkdir -p "$D/mysql" "$D/mysql-run"
lab_write "$E/mariadb/my.cnf" <<EOF
[mysqld]
user = root
datadir = $D/mysql
socket = $D/mysql-run/mysqld.sock
pid-file = $D/mysql-run/mysqld.pid
bind-address = $LAB_HOST
port = $LAB_PORT_MYSQL
skip-name-resolve
skip-external-locking
character-set-server = utf8mb3
collation-server = utf8mb3_general_ci
max_connections = 1000
innodb_buffer_pool_size = 128M
innodb_log_file_size = 64M
innodb_flush_log_at_trx_commit = 2
innodb_doublewrite = 0
performance_schema = OFF
EOF
chmod 644 "$E/mariadb/my.cnf"
chmod 755 "$E" "$E/mariadb"
if [ ! -d "$D/mysql/mysql" ]; then
  lab_log "mariadb: initialising datadir"
  mariadb-install-db --defaults-file="$E/mariadb/my.cnf" --auth-root-authentication-method=socket \
    --skip-test-db >"$LAB_DIR/log/setup-mariadb-install.log" 2>&1 ||
    { tail -n 40 "$LAB_DIR/log/setup-mariadb-install.log" >&2; lab_die "mariadb-install-db failed"; }
fi
lab_ensure mariadb "$E/mariadb/my.cnf" mariadbd --defaults-file="$E/mariadb/my.cnf"

lab_ensure epmd /dev/null epmd -address "$LAB_HOST" -port "$LAB_PORT_EPMD"

RMQ="$D/rabbitmq"
mkdir -p "$RMQ/home" "$RMQ/mnesia" "$RMQ/log"
RABBIT_ENV=(
  env "HOME=$RMQ/home"
  RABBITMQ_NODENAME=rabbit@localhost
  "RABBITMQ_NODE_IP_ADDRESS=$LAB_HOST" "RABBITMQ_NODE_PORT=$LAB_PORT_RABBIT"
  "RABBITMQ_DIST_PORT=$LAB_PORT_RABBIT_DIST"
  "ERL_EPMD_ADDRESS=$LAB_HOST" "ERL_EPMD_PORT=$LAB_PORT_EPMD"
  "RABBITMQ_MNESIA_BASE=$RMQ/mnesia" "RABBITMQ_LOG_BASE=$RMQ/log" RABBITMQ_LOGS=-
  "RABBITMQ_CONFIG_FILE=$E/rabbitmq/rabbitmq.conf"
  "RABBITMQ_ADVANCED_CONFIG_FILE=$E/rabbitmq/advanced.config"
  "RABBITMQ_ENABLED_PLUGINS_FILE=$E/rabbitmq/enabled_plugins"
  "RABBITMQ_CONF_ENV_FILE=$E/rabbitmq/rabbitmq-env.conf"
  "RABBITMQ_PID_FILE=$RMQ/rabbit.pid"
  "RABBITMQ_PLUGINS_EXPAND_DIR=$RMQ/plugins-expand"
  # loopback-only distribution; no scheduler busy-waiting (2 shared cores)
  "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS=-kernel inet_dist_use_interface {127,0,0,1} +sbwt none +sbwtdcpu none +sbwtdio none"
)
# rabbitmqctl for humans: same env
{
  printf '#!/bin/sh\n# rabbitmqctl against the lab broker\nexec'
  printf ' %q' "${RABBIT_ENV[@]}" /usr/lib/rabbitmq/bin/rabbitmqctl
  printf ' "$@"\n'
} | lab_write "$LAB_DIR/rabbitmqctl"
chmod 755 "$LAB_DIR/rabbitmqctl"

if ! lab_svc_running rabbitmq >/dev/null; then lab_wait_tcp epmd "$LAB_PORT_EPMD"; fi
lab_ensure rabbitmq "$E/rabbitmq/rabbitmq.conf $E/rabbitmq/enabled_plugins $LAB_DIR/rabbitmqctl" \
  "${RABBIT_ENV[@]}" /usr/lib/rabbitmq/bin/rabbitmq-server

lab_wait_tcp mariadb "$LAB_PORT_MYSQL"
T_INFRA=$(lab_since "$T_START")
if [ ! -e "$S/db-created" ]; then
  lab_log "mariadb: creating databases and the openstack user"
  {
    for db in keystone placement glance neutron nova_api nova nova_cell0; do
      printf 'CREATE DATABASE IF NOT EXISTS %s CHARACTER SET utf8mb3;\n' "$db"
    done
    printf "CREATE USER IF NOT EXISTS 'openstack'@'%s' IDENTIFIED BY '%s';\n" "$LAB_HOST" "$LAB_DB_PASSWORD"
    printf "ALTER USER 'openstack'@'%s' IDENTIFIED BY '%s';\n" "$LAB_HOST" "$LAB_DB_PASSWORD"
    printf "GRANT ALL PRIVILEGES ON *.* TO 'openstack'@'%s';\n" "$LAB_HOST"
    printf 'FLUSH PRIVILEGES;\n'
  } | mariadb --no-defaults --socket="$D/mysql-run/mysqld.sock" -uroot ||
    lab_svc_fail mariadb "creating databases failed"
  touch "$S/db-created"
fi

# ---------------------------------------------------------------- DB syncs (in parallel)
declare -A JOB
# lab_job NAME MARKER 'shell commands' : run once (until it succeeds) in the background
lab_job() {
  local name=$1 marker=$2 cmds=$3
  if [ -e "$S/$marker" ]; then return 0; fi
  lab_log "$name: running $marker in the background (log/setup-$name.log)"
  (
    set -euo pipefail
    exec >"$LAB_DIR/log/setup-$name.log" 2>&1 </dev/null
    eval "$cmds"
    touch "$S/$marker"
  ) &
  JOB[$name]=$!
}
lab_job_wait() {
  local name=$1
  [ -n "${JOB[$name]:-}" ] || return 0
  if ! wait "${JOB[$name]}"; then
    {
      printf '\n[lab] ERROR: setup step %s failed\n[lab] ---- last 40 lines of %s ----\n' \
        "$name" "$LAB_DIR/log/setup-$name.log"
      tail -n 40 "$LAB_DIR/log/setup-$name.log"
    } >&2
    exit 1
  fi
  lab_log "$name: done"
  unset "JOB[$name]"
}

KM="keystone-manage --config-file $E/keystone/keystone.conf"
NM="nova-manage --config-file $E/nova/nova.conf --config-file $E/nova/nova-db.conf"
mkdir -p "$D/keystone" "$D/glance/images" "$D/glance/staging" "$D/glance/tasks" "$D/glance/lock" \
  "$D/neutron/lock" "$D/nova/lock"

lab_job keystone-db keystone-db "
  $KM db_sync
  [ -e $D/keystone/fernet-keys/0 ] || $KM fernet_setup --keystone-user root --keystone-group root
  [ -e $D/keystone/credential-keys/0 ] || $KM credential_setup --keystone-user root --keystone-group root
  $KM bootstrap --bootstrap-password \"\$LAB_PASSWORD\" --bootstrap-username admin \
    --bootstrap-project-name admin --bootstrap-role-name admin --bootstrap-service-name keystone \
    --bootstrap-region-id RegionOne \
    --bootstrap-admin-url $LAB_AUTH_URL --bootstrap-internal-url $LAB_AUTH_URL \
    --bootstrap-public-url $LAB_AUTH_URL
"
lab_job placement-db placement-db "placement-manage --config-file $E/placement/placement.conf db sync"
lab_job glance-db glance-db "glance-manage --config-file $E/glance/glance-api.conf db_sync"
lab_job neutron-db neutron-db "neutron-db-manage --config-file $E/neutron/neutron.conf \
  --config-file $E/neutron/ml2_conf.ini upgrade head"
lab_job nova-db nova-db "
  $NM api_db sync
  $NM cell_v2 map_cell0
  $NM cell_v2 list_cells | grep -q ' cell1 ' || $NM cell_v2 create_cell --name cell1
  $NM db sync
"

# ---------------------------------------------------------------- API services
# Start each one as soon as its database is ready (nova-api takes longest to
# load, so it goes before Neutron); wait for their URLs later. Everything here
# is CPU-bound on 2 cores.
lab_job_wait keystone-db
lab_ensure keystone "$E/keystone/keystone.conf $E/keystone/uwsgi.ini" uwsgi --ini "$E/keystone/uwsgi.ini"
lab_job keystone-setup keystone-setup "
  lab_wait_http keystone $LAB_AUTH_URL
  lab_ctl keystone-setup
"
lab_job_wait placement-db
lab_ensure placement "$E/placement/placement.conf $E/placement/uwsgi.ini" uwsgi --ini "$E/placement/uwsgi.ini"
lab_job_wait glance-db
lab_ensure glance "$E/glance/glance-api.conf" glance-api --config-file "$E/glance/glance-api.conf"
lab_job_wait nova-db
NOVA_FILES="$E/nova/nova.conf $E/nova/nova-db.conf"
lab_ensure nova-api "$NOVA_FILES $E/nova/uwsgi.ini $E/nova/api-paste.ini" uwsgi --ini "$E/nova/uwsgi.ini"
lab_wait_tcp rabbitmq "$LAB_PORT_RABBIT"
lab_job_wait neutron-db
lab_ensure neutron "$E/neutron/neutron.conf $E/neutron/ml2_conf.ini" \
  neutron-server --config-file "$E/neutron/neutron.conf" --config-file "$E/neutron/ml2_conf.ini"
# a neutron started now needs its warm-up even if this start fails before it (the next start does it)
if lab_was_started neutron; then rm -f "$S/neutron-warmup"; fi
lab_ensure nova-conductor "$NOVA_FILES" nova-conductor --config-file "$E/nova/nova.conf" --config-file "$E/nova/nova-db.conf"
lab_ensure nova-scheduler "$NOVA_FILES" nova-scheduler --config-file "$E/nova/nova.conf" --config-file "$E/nova/nova-db.conf"
lab_wait_http keystone "$LAB_AUTH_URL"
T_KEYSTONE=$(lab_since "$T_START")
lab_job_wait keystone-setup
# computes report to Placement right at start (else they retry only a minute later)
lab_wait_http placement "http://$LAB_HOST:$LAB_PORT_PLACEMENT/"
for h in "${COMPUTES[@]}"; do lab_ensure_compute "$h"; done
if lab_qemu_enabled; then lab_qemu_ensure; fi

# computes beyond LAB_COMPUTES from an earlier run: stop them, delete their services
EXTRA=()
for f in "$LAB_DIR"/run/compute-*.pid; do
  [ -e "$f" ] || continue
  h="$(basename "$f" .pid)"
  case " ${COMPUTES[*]} " in *" $h "*) ;; *) EXTRA+=("$h") ;; esac
done

lab_wait_http glance "http://$LAB_HOST:$LAB_PORT_GLANCE/"
lab_wait_http neutron "http://$LAB_HOST:$LAB_PORT_NEUTRON/"
lab_wait_http nova-api "http://$LAB_HOST:$LAB_PORT_NOVA/"
T_APIS=$(lab_since "$T_START")

STEPS=()
[ -e "$S/glance-setup" ] || STEPS+=(glance-setup)
if lab_was_started neutron || [ ! -e "$S/neutron-warmup" ]; then STEPS+=(neutron-warmup); fi
[ -e "$S/nova-setup" ] || STEPS+=(nova-setup)
if [ "${#EXTRA[@]}" -gt 0 ]; then
  lab_log "stopping computes beyond LAB_COMPUTES=$LAB_COMPUTES: ${EXTRA[*]}"
  lab_stop_services "${EXTRA[@]}"
  for h in "${EXTRA[@]}"; do rm -f "$S/mapped-$h"; done
  STEPS+=(delete-computes)
fi
STEPS+=(wait-computes)
LAB_WAIT_COMPUTES="$(lab_compute_expectations "${COMPUTES[@]}")" \
  LAB_DELETE_COMPUTES="$(IFS=,; echo "${EXTRA[*]:-}")" \
  LAB_NOVA_MANAGE="$NM" \
  LAB_WAIT_TIMEOUT="$LAB_WAIT_TIMEOUT" \
  LAB_CPU_ALLOCATION_RATIO="$LAB_CPU_ALLOCATION_RATIO" LAB_RAM_ALLOCATION_RATIO="$LAB_RAM_ALLOCATION_RATIO" \
  LAB_DISK_ALLOCATION_RATIO="$LAB_DISK_ALLOCATION_RATIO" \
  lab_ctl "${STEPS[@]}" || {
  for h in "${COMPUTES[@]}"; do
    printf '\n[lab] ---- last 20 lines of %s ----\n' "$(lab_logfile "$h")" >&2
    tail -n 20 "$(lab_logfile "$h")" >&2 || true
  done
  lab_die "computes not ready"
}
for st in glance-setup neutron-warmup nova-setup; do touch "$S/$st"; done

if lab_qemu_enabled; then
  wait "$GUEST_JOB" || { tail -n 30 "$LAB_DIR/log/setup-guest.log" >&2; lab_die "building the guest failed"; }
  LAB_QEMU_HOSTS="$(IFS=,; echo "${LAB_QEMU_HOSTS[*]}")" LAB_QEMU_DISABLED_REASON="$LAB_QEMU_DISABLED_REASON" \
    LAB_NOVA_MANAGE="$NM" LAB_WAIT_TIMEOUT="$LAB_WAIT_TIMEOUT" LAB_GUEST_DIR="$LAB_DIR/guest" \
    LAB_GUEST_CMDLINE="$LAB_GUEST_CMDLINE" LAB_GUEST_BUSY_CMDLINE="$LAB_GUEST_BUSY_CMDLINE" \
    lab_ctl wait-libvirt guest-images || {
    for h in "${LAB_QEMU_HOSTS[@]}"; do
      printf '\n[lab] ---- last 20 lines of %s ----\n' "$(lab_logfile "$h")" >&2
      tail -n 20 "$(lab_logfile "$h")" >&2 || true
    done
    lab_die "libvirt computes not ready"
  }
fi

# ---------------------------------------------------------------- client files
lab_write "$LAB_DIR/openrc" <<EOF
# source me: OpenStack CLI credentials for the hostmaint lab
export PATH=/usr/sbin:/usr/bin:\$PATH
export OS_AUTH_TYPE=password
export OS_AUTH_URL=$LAB_AUTH_URL
export OS_IDENTITY_API_VERSION=3
export OS_USERNAME=admin
export OS_PASSWORD=$LAB_PASSWORD
export OS_PROJECT_NAME=admin
export OS_USER_DOMAIN_NAME=Default
export OS_PROJECT_DOMAIN_NAME=Default
export OS_REGION_NAME=RegionOne
export OS_INTERFACE=public
export OS_CLIENT_CONFIG_FILE=$LAB_DIR/clouds.yaml
EOF
lab_write "$LAB_DIR/clouds.yaml" <<EOF
clouds:
  lab:
    auth_type: password
    auth:
      auth_url: $LAB_AUTH_URL
      username: admin
      password: $LAB_PASSWORD
      project_name: admin
      user_domain_name: Default
      project_domain_name: Default
    region_name: RegionOne
    interface: public
    identity_api_version: 3
  lab-$LAB_PROJECT2:
    auth_type: password
    auth:
      auth_url: $LAB_AUTH_URL
      username: admin
      password: $LAB_PASSWORD
      project_name: $LAB_PROJECT2
      user_domain_name: Default
      project_domain_name: Default
    region_name: RegionOne
    interface: public
    identity_api_version: 3
EOF
# Earlier labs wrote the computes' names into /etc/hosts; nothing needs them now (hostmaint
# reaches a target at Nova's host_ip when its name does not resolve). Remove that marked line.
if grep -q '# hostmaint-lab$' /etc/hosts 2>/dev/null; then
  grep -v '# hostmaint-lab$' /etc/hosts > "$LAB_DIR/run/hosts.new" || true
  cat "$LAB_DIR/run/hosts.new" > /etc/hosts # /etc/hosts may be a bind mount: rewrite in place
  rm -f "$LAB_DIR/run/hosts.new"
  lab_log "/etc/hosts: removed the old '# hostmaint-lab' line"
fi

lab_write "$LAB_DIR/lab.env" <<EOF
# hostmaint OpenStack lab, written by test/lab/start.sh (read by test/openstack/lab.ts)
LAB_DIR=$LAB_DIR
LAB_AUTH_URL=$LAB_AUTH_URL
LAB_USERNAME=admin
LAB_PASSWORD=$LAB_PASSWORD
LAB_PROJECT=admin
LAB_PROJECT2=$LAB_PROJECT2
LAB_USER_DOMAIN=Default
LAB_PROJECT_DOMAIN=Default
LAB_REGION=RegionOne
LAB_CLOUDS_YAML=$LAB_DIR/clouds.yaml
LAB_CLOUD=lab
LAB_COMPUTES=$LAB_COMPUTES
LAB_COMPUTE_HOSTS=$(IFS=,; echo "${COMPUTES[*]}")
LAB_COMPUTE_DRIVER=$LAB_COMPUTE_DRIVER
LAB_IMAGE_NAME=$LAB_IMAGE_NAME
LAB_FLAVORS=m1.tiny,m1.small,m1.medium,m1.large
LAB_REPORT_INTERVAL=$LAB_REPORT_INTERVAL
LAB_SERVICE_DOWN_TIME=$LAB_SERVICE_DOWN_TIME
LAB_QEMU_HOSTS=$(lab_qemu_enabled && IFS=, && echo "${LAB_QEMU_HOSTS[*]}")
LAB_QEMU_SUBNET=$LAB_QEMU_SUBNET.0/24
LAB_QEMU_BRIDGE=$LAB_QEMU_BRIDGE
LAB_QEMU_BANDWIDTH=$LAB_QEMU_BANDWIDTH
LAB_QEMU_DISABLED_REASON='$LAB_QEMU_DISABLED_REASON'
LAB_GUEST_IMAGE=hostmaint-guest
LAB_GUEST_BUSY_IMAGE=hostmaint-guest-busy
LAB_GUEST_FLAVOR=g1.guest
EOF

if [ "${#LAB_STARTED[@]}" -eq 0 ] && [ "${#EXTRA[@]}" -eq 0 ]; then
  lab_log "lab already up, nothing changed"
fi
lab_log "lab ready in $(lab_since "$T_START")s (infra ${T_INFRA}s, keystone ${T_KEYSTONE}s, APIs ${T_APIS}s; started: ${LAB_STARTED[*]:-none})"
lab_log "use it: source $LAB_DIR/openrc  (or OS_CLIENT_CONFIG_FILE=$LAB_DIR/clouds.yaml openstack --os-cloud lab ...)"
