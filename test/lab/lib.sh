# shellcheck shell=bash
# Shared functions for the hostmaint OpenStack lab (test/lab/*.sh).
# Source this file; do not run it.
#
# Everything the lab creates lives under one run directory, $LAB_DIR
# (default <repo>/.lab):
#   etc/<service>/...      generated configuration
#   data/<service>/...     MariaDB datadir, RabbitMQ mnesia, Glance images, ...
#   log/<service>.log      stdout+stderr of each service (and of each setup step)
#   run/<service>.pid      "PID STARTTIME CONFIGHASH" of each running service
#   state/                 markers of one-time setup steps already done
#   secrets.env            passwords generated once per lab
#   openrc clouds.yaml lab.env   client configuration for humans and tests

set +m  # no job control: `setsid` must not fork, so $! is the service's pid

LAB_REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
LAB_SCRIPTS="$LAB_REPO/test/lab"
# A pyenv python3 comes first on PATH on our machines; OpenStack needs Debian's.
export PATH="/usr/sbin:/usr/bin:/sbin:/bin${PATH:+:$PATH}"
LAB_PY=/usr/bin/python3
export PYTHONDONTWRITEBYTECODE=1

LAB_DIR="$(realpath -m "${LAB_DIR:-$LAB_REPO/.lab}")"
export LAB_DIR
LAB_HOST=127.0.0.1

# ---- ports (loopback only) --------------------------------------------------
LAB_PORT_MYSQL=3306
LAB_PORT_RABBIT=5672
LAB_PORT_RABBIT_DIST=25672
# A private epmd port: Debian's package install can leave a system epmd on 4369.
LAB_PORT_EPMD=4370
LAB_PORT_KEYSTONE=5000
LAB_PORT_PLACEMENT=8778
LAB_PORT_GLANCE=9292
LAB_PORT_NEUTRON=9696
LAB_PORT_NOVA=8774

# ---- knobs ------------------------------------------------------------------
LAB_COMPUTES="${LAB_COMPUTES:-3}"
LAB_COMPUTE_DRIVER="${LAB_COMPUTE_DRIVER:-fake.FakeLiveMigrateDriver}"
LAB_COMPUTE_RAM_MB="${LAB_COMPUTE_RAM_MB:-32768}"
LAB_COMPUTE_VCPUS="${LAB_COMPUTE_VCPUS:-64}"
LAB_COMPUTE_DISK_GB="${LAB_COMPUTE_DISK_GB:-1000}"
LAB_CPU_ALLOCATION_RATIO="${LAB_CPU_ALLOCATION_RATIO:-1.0}"
LAB_RAM_ALLOCATION_RATIO="${LAB_RAM_ALLOCATION_RATIO:-1.0}"
LAB_DISK_ALLOCATION_RATIO="${LAB_DISK_ALLOCATION_RATIO:-1.0}"
LAB_REPORT_INTERVAL="${LAB_REPORT_INTERVAL:-5}"
LAB_SERVICE_DOWN_TIME="${LAB_SERVICE_DOWN_TIME:-20}"
LAB_WAIT_TIMEOUT="${LAB_WAIT_TIMEOUT:-180}"   # seconds to wait for one service
LAB_STOP_TIMEOUT="${LAB_STOP_TIMEOUT:-20}"    # seconds between SIGTERM and SIGKILL
LAB_DEBUG="${LAB_DEBUG:-0}"
LAB_IMAGE_NAME="${LAB_IMAGE_NAME:-cirros-tiny}"
LAB_PROJECT2="${LAB_PROJECT2:-demo2}"

# The fake driver reports these totals; sizes are made by reserving the rest.
LAB_FAKE_VCPUS=1000
LAB_FAKE_RAM_MB=800000
LAB_FAKE_DISK_GB=600000

# Stop order: dependants first.
LAB_INFRA_SERVICES=(mariadb rabbitmq epmd)

LAB_T0="${LAB_T0:-$(date +%s.%N)}"

lab_now() { date +%s.%N; }
lab_since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}'; }
lab_log() { printf '[lab %s +%ss] %s\n' "$(date +%H:%M:%S)" "$(lab_since "$LAB_T0")" "$*"; }
lab_warn() { lab_log "WARNING: $*" >&2; }

lab_die() {
  printf '[lab] ERROR: %s\n' "$*" >&2
  exit 1
}

# One lab per machine (fixed ports): start/stop/compute.sh take a machine-wide
# lock so two of them never interleave. Children inherit the hold (LAB_LOCK_HELD).
lab_lock() {
  [ "${LAB_LOCK_HELD:-0}" = 1 ] && return 0
  local f=/run/lock/hostmaint-lab.lock
  [ -d /run/lock ] || f=/tmp/hostmaint-lab.lock
  exec 9>>"$f"
  if ! flock -n 9; then
    echo "[lab] waiting for another lab script to finish (lock $f)..." >&2
    flock -w "${LAB_LOCK_TIMEOUT:-900}" 9 || lab_die "timed out waiting for the lab lock $f"
  fi
  export LAB_LOCK_HELD=1
}

lab_require_root() {
  [ "$(id -u)" = 0 ] || lab_die "the lab needs root (its daemons run as root and write under $LAB_DIR)"
}

lab_compute_names() {
  local i
  [[ "$LAB_COMPUTES" =~ ^[0-9]+$ ]] || lab_die "LAB_COMPUTES must be a number (got '$LAB_COMPUTES')"
  for ((i = 1; i <= LAB_COMPUTES; i++)); do printf 'compute-%02d\n' "$i"; done
}

# Per-host override: LAB_<KIND>_compute_03 (hyphen -> underscore), else default.
lab_host_knob() {
  local kind=$1 host=$2 default=$3 var
  var="LAB_${kind}_${host//-/_}"
  printf '%s' "${!var:-$default}"
}

# ---- process bookkeeping ----------------------------------------------------

lab_pidfile() { printf '%s/run/%s.pid' "$LAB_DIR" "$1"; }
lab_logfile() { printf '%s/log/%s.log' "$LAB_DIR" "$1"; }

# Field 22 of /proc/PID/stat (start time in clock ticks since boot).
# The comm field may contain spaces, so cut after the last ')'.
lab_proc_starttime() {
  local s
  s="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  s="${s##*) }"
  # shellcheck disable=SC2086
  set -- $s
  printf '%s' "${20}"
}

# Read a pid file: sets LAB_PF_PID LAB_PF_START LAB_PF_HASH. Returns 1 if absent.
lab_read_pidfile() {
  local f
  f="$(lab_pidfile "$1")"
  LAB_PF_PID='' LAB_PF_START='' LAB_PF_HASH=''
  [ -s "$f" ] || return 1
  read -r LAB_PF_PID LAB_PF_START LAB_PF_HASH <"$f" || true
  [[ "$LAB_PF_PID" =~ ^[0-9]+$ ]] || return 1
}

# True if the service's recorded pid is alive AND is the same process
# (start time matches), i.e. not a recycled pid. Prints the pid.
lab_svc_running() {
  lab_read_pidfile "$1" || return 1
  local st
  st="$(lab_proc_starttime "$LAB_PF_PID")" || return 1
  [ "$st" = "$LAB_PF_START" ] || return 1
  # a zombie is not running
  [ "$(awk '{print $3}' "/proc/$LAB_PF_PID/stat" 2>/dev/null | head -c1)" != Z ] || return 1
  printf '%s' "$LAB_PF_PID"
}

# All live processes belonging to a service started by lab_svc_start:
# the leader, its descendants, and anything left in its session (setsid made
# the leader a session leader; a pid is not reused while a session holds it).
# $1 = leader pid, $2 = "alive" (leader verified) or "dead" (leader gone).
lab_svc_tree() {
  local root=$1 mode=$2
  ps -eo pid=,ppid=,sid= | awk -v root="$root" -v mode="$mode" -v self="$$" '
    { pid[NR] = $1; ppid[NR] = $2; sid[NR] = $3; n = NR }
    END {
      if (mode == "alive") keep[root] = 1
      for (i = 1; i <= n; i++) if (sid[i] == root) keep[pid[i]] = 1
      if (mode == "alive") {
        changed = 1
        while (changed) {
          changed = 0
          for (i = 1; i <= n; i++)
            if (!(pid[i] in keep) && (ppid[i] in keep)) { keep[pid[i]] = 1; changed = 1 }
        }
      }
      for (i = 1; i <= n; i++) if ((pid[i] in keep) && pid[i] != self) print pid[i]
    }'
}

# lab_svc_start NAME HASH CMD... : start CMD in its own session, output to the
# service log, record "pid starttime hash" in the pid file.
lab_svc_start() {
  local name=$1 hash=$2
  shift 2
  local log pidf pid st i
  log="$(lab_logfile "$name")"
  pidf="$(lab_pidfile "$name")"
  mkdir -p "$(dirname "$log")" "$(dirname "$pidf")"
  printf '===== %s starting %s: %s\n' "$(date -Is)" "$name" "$*" >>"$log"
  (
    # don't leak the caller's descriptors (pipes of a CI runner, mocha, ...)
    for fd in /proc/$BASHPID/fd/*; do
      fd=${fd##*/}
      if [ "$fd" -gt 2 ] 2>/dev/null; then eval "exec $fd>&-" 2>/dev/null || true; fi
    done
    exec setsid "$@" </dev/null >>"$log" 2>&1
  ) &
  pid=$!
  st=''
  for i in 1 2 3 4 5 6 7 8 9 10; do
    st="$(lab_proc_starttime "$pid")" && break
    sleep 0.05
  done
  [ -n "$st" ] || { lab_svc_fail "$name" "exited immediately"; }
  printf '%s %s %s\n' "$pid" "$st" "$hash" >"$pidf"
  LAB_STARTED+=("$name")
}

# Print the tail of a service log and exit non-zero.
lab_svc_fail() {
  local name=$1 msg=$2 log
  log="$(lab_logfile "$name")"
  {
    printf '\n[lab] ERROR: %s: %s\n' "$name" "$msg"
    printf '[lab] ---- last 40 lines of %s ----\n' "$log"
    tail -n 40 "$log" 2>/dev/null || true
    printf '[lab] ---- end of %s ----\n' "$log"
  } >&2
  exit 1
}

lab_config_hash() {
  cat "$@" | sha256sum | cut -c1-16
}

# lab_ensure NAME "CONFIG FILES" CMD... : make sure NAME runs with this config.
# Already running with the same config hash -> nothing. Running with another
# config -> restart. Not running -> start.
lab_ensure() {
  local name=$1 files=$2 hash
  shift 2
  # shellcheck disable=SC2086
  hash="$(lab_config_hash $files)"
  if lab_svc_running "$name" >/dev/null; then
    if [ "$LAB_PF_HASH" = "$hash" ]; then
      return 0
    fi
    lab_log "$name: configuration changed, restarting"
    lab_stop_services "$name"
  fi
  lab_svc_start "$name" "$hash" "$@"
  lab_log "$name: started (pid $(cat "$(lab_pidfile "$name")" | cut -d' ' -f1))"
}

lab_was_started() {
  local s
  for s in "${LAB_STARTED[@]:-}"; do [ "$s" = "$1" ] && return 0; done
  return 1
}

# Check the service is still alive while waiting for it.
lab_assert_alive() {
  lab_svc_running "$1" >/dev/null || lab_svc_fail "$1" "process died during startup"
}

lab_tcp_open() { (exec 3<>"/dev/tcp/$LAB_HOST/$1") 2>/dev/null; }

lab_wait_tcp() {
  local name=$1 port=$2 timeout=${3:-$LAB_WAIT_TIMEOUT} t0=$SECONDS
  while ! lab_tcp_open "$port"; do
    lab_assert_alive "$name"
    ((SECONDS - t0 < timeout)) || lab_svc_fail "$name" "port $port not open after ${timeout}s"
    sleep 0.2
  done
}

# Wait until URL answers with something other than a connection error / 5xx.
lab_wait_http() {
  local name=$1 url=$2 timeout=${3:-$LAB_WAIT_TIMEOUT} t0=$SECONDS code
  while :; do
    code="$(curl -s -o /dev/null -m 5 -w '%{http_code}' "$url" 2>/dev/null || true)"
    case "$code" in 2* | 3* | 401) return 0 ;; esac
    lab_assert_alive "$name"
    ((SECONDS - t0 < timeout)) || lab_svc_fail "$name" "$url not answering after ${timeout}s (last HTTP code '$code')"
    sleep 0.3
  done
}

# Fail early if a port we need is taken by something that is not ours.
lab_port_free_or_ours() {
  local name=$1 port=$2
  if lab_svc_running "$name" >/dev/null; then return 0; fi
  if lab_tcp_open "$port"; then
    lab_die "port $LAB_HOST:$port (for $name) is already in use by another process: $(ss -ltnp "( sport = :$port )" 2>/dev/null | tail -n +2 | head -3)"
  fi
}

# Stop services by pid file (in parallel): SIGTERM the verified leaders, wait up
# to LAB_STOP_TIMEOUT, then SIGKILL whatever is left of their process trees.
lab_stop_services() {
  local name pid st mode p t0 killed=0 line
  local pids=() sids=() entries=() left=() lpids=()
  local -A done_=()
  for name in "$@"; do
    lab_read_pidfile "$name" || { rm -f "$(lab_pidfile "$name")"; continue; }
    pid=$LAB_PF_PID
    st="$(lab_proc_starttime "$pid" || true)"
    if [ -n "$st" ] && [ "$st" != "$LAB_PF_START" ]; then
      lab_log "$name: pid $pid was recycled by another process; not touching it"
      continue
    elif [ -n "$st" ]; then
      mode=alive
    else
      mode=dead
    fi
    for p in $(lab_svc_tree "$pid" "$mode"); do pids+=("$p"); done
    sids+=("$pid")
    entries+=("$name:$pid")
    if [ "$mode" = alive ]; then
      kill -TERM "$pid" 2>/dev/null || true
    else
      # leader gone: TERM the orphans left in its session
      for p in $(lab_svc_tree "$pid" dead); do kill -TERM "$p" 2>/dev/null || true; done
    fi
  done
  t0=$(lab_now)
  while [ "${#entries[@]}" -gt 0 ]; do
    # one snapshot: live (non-zombie) processes we track, or in one of our sessions
    left=()
    mapfile -t left < <(ps -eo pid=,sid=,stat= | awk -v pids=" ${pids[*]:-} " -v sids=" ${sids[*]} " \
      '$3 !~ /^Z/ && (index(pids, " " $1 " ") || index(sids, " " $2 " ")) { print $1 " " $2 }')
    for line in "${entries[@]}"; do
      name=${line%%:*} pid=${line#*:}
      [ -z "${done_[$name]:-}" ] || continue
      if ! printf '%s\n' "${left[@]:-}" | awk -v p="$pid" '$1 == p || $2 == p { f = 1 } END { exit !f }'; then
        done_[$name]=1
        [ "${LAB_STOP_QUIET:-0}" = 1 ] || lab_log "$name stopped after $(lab_since "$t0")s"
      fi
    done
    [ "${#left[@]}" -eq 0 ] && break
    if [ "$killed" = 0 ] && [ "$(awk -v a="$t0" -v b="$(lab_now)" -v t="$LAB_STOP_TIMEOUT" 'BEGIN{print (b-a >= t)}')" = 1 ]; then
      lpids=()
      for line in "${left[@]}"; do lpids+=("${line%% *}"); done
      lab_log "still running after ${LAB_STOP_TIMEOUT}s, SIGKILL: ${lpids[*]}"
      kill -KILL "${lpids[@]}" 2>/dev/null || true
      killed=1
    elif [ "$killed" = 1 ] && [ "$(awk -v a="$t0" -v b="$(lab_now)" -v t="$LAB_STOP_TIMEOUT" 'BEGIN{print (b-a >= t+5)}')" = 1 ]; then
      lab_warn "processes survived SIGKILL: ${left[*]}"
      break
    fi
    sleep 0.2
  done
  for name in "$@"; do rm -f "$(lab_pidfile "$name")"; done
}

# Names of all services that have a pid file, in stop order.
lab_known_services() {
  local f n computes=() rest=() infra=()
  for f in "$LAB_DIR"/run/*.pid; do
    [ -e "$f" ] || continue
    n="$(basename "$f" .pid)"
    case "$n" in
      compute-* | qemu-*) computes+=("$n") ;;
      mariadb | rabbitmq | epmd) infra+=("$n") ;;
      *) rest+=("$n") ;;
    esac
  done
  printf '%s\n' "${computes[@]:-}" "${rest[@]:-}" | sed '/^$/d'
  for n in "${LAB_INFRA_SERVICES[@]}"; do
    case " ${infra[*]:-} " in *" $n "*) printf '%s\n' "$n" ;; esac
  done
}

# Processes that look like the lab's, for leftover checks.
lab_leftovers() {
  ps -eo pid=,args= | awk -v dir="$LAB_DIR" -v self="$$" '
    $1 != self && index($0, dir) > 0 && $0 !~ /awk -v dir/ { print }'
}

# ---- secrets, clients --------------------------------------------------------

lab_load_secrets() {
  local f="$LAB_DIR/secrets.env"
  if [ ! -s "$f" ]; then
    mkdir -p "$LAB_DIR"
    umask 077
    {
      printf 'LAB_PASSWORD=labAdm-%s\n' "$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')"
      printf 'LAB_SERVICE_PASSWORD=labSvc-%s\n' "$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')"
      printf 'LAB_DB_PASSWORD=labDb-%s\n' "$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')"
    } >"$f"
    umask 022
  fi
  # shellcheck disable=SC1090
  . "$f"
  export LAB_PASSWORD LAB_SERVICE_PASSWORD LAB_DB_PASSWORD
}

lab_client_env() {
  export LAB_AUTH_URL="http://$LAB_HOST:$LAB_PORT_KEYSTONE/v3"
  export LAB_USERNAME=admin LAB_PROJECT=admin LAB_USER_DOMAIN=Default LAB_PROJECT_DOMAIN=Default
  export LAB_REGION=RegionOne
  export LAB_COMPUTES LAB_COMPUTE_DRIVER LAB_PROJECT2 LAB_IMAGE_NAME LAB_SERVICE_DOWN_TIME LAB_REPORT_INTERVAL
}

lab_ctl() { "$LAB_PY" "$LAB_SCRIPTS/labctl.py" "$@"; }

# ---- configuration -----------------------------------------------------------

# Write stdin to FILE only if the content differs (keeps mtimes when nothing changed).
lab_write() {
  local file=$1 tmp
  mkdir -p "$(dirname "$file")"
  tmp="$(mktemp "$file.XXXXXX")"
  cat >"$tmp"
  if [ -f "$file" ] && cmp -s "$tmp" "$file"; then
    rm -f "$tmp"
  else
    chmod 0640 "$tmp"
    mv -f "$tmp" "$file"
  fi
}

lab_db_url() { printf 'mysql+pymysql://openstack:%s@%s:%s/%s?charset=utf8' "$LAB_DB_PASSWORD" "$LAB_HOST" "$LAB_PORT_MYSQL" "$1"; }

lab_authtoken_section() { # $1 = service user
  cat <<EOF
[keystone_authtoken]
www_authenticate_uri = http://$LAB_HOST:$LAB_PORT_KEYSTONE/
auth_url = http://$LAB_HOST:$LAB_PORT_KEYSTONE/
auth_type = password
project_domain_name = Default
user_domain_name = Default
project_name = service
username = $1
password = $LAB_SERVICE_PASSWORD
region_name = RegionOne
service_token_roles_required = true

EOF
}

lab_uwsgi_ini() { # name port wsgi-file processes threads [env lines...]
  local name=$1 port=$2 wsgi=$3 procs=$4 threads=$5
  shift 5
  cat <<EOF
[uwsgi]
plugins = python3
http-socket = $LAB_HOST:$port
; uwsgi's http-socket does no keep-alive: tell clients not to reuse connections
add-header = Connection: close
wsgi-file = $wsgi
master = true
processes = $procs
threads = $threads
enable-threads = true
lazy-apps = true
die-on-term = true
no-orphans = true
need-app = true
buffer-size = 65535
listen = 100
worker-reload-mercy = 5
EOF
  local e
  for e in "$@"; do printf 'env = %s\n' "$e"; done
}

lab_gen_infra_configs() {
  local d="$LAB_DIR/etc/rabbitmq"
  lab_write "$d/rabbitmq.conf" <<EOF
listeners.tcp.1 = $LAB_HOST:$LAB_PORT_RABBIT
loopback_users.guest = true
log.console = true
log.console.level = warning
log.file = false
disk_free_limit.absolute = 50MB
EOF
  lab_write "$d/enabled_plugins" <<<'[].'
  lab_write "$d/rabbitmq-env.conf" <<<'# lab: all settings come from the environment'
  lab_write "$d/advanced.config" <<<'[].'
}

lab_gen_openstack_configs() {
  local e="$LAB_DIR/etc" debug=false
  [ "$LAB_DEBUG" = 1 ] && debug=true

  # -- keystone
  lab_write "$e/keystone/keystone.conf" <<EOF
[DEFAULT]
debug = $debug
use_stderr = true

[database]
connection = $(lab_db_url keystone)

[token]
provider = fernet

[fernet_tokens]
key_repository = $LAB_DIR/data/keystone/fernet-keys/

[fernet_receipts]
key_repository = $LAB_DIR/data/keystone/fernet-keys/

[credential]
key_repository = $LAB_DIR/data/keystone/credential-keys/

[cache]
enabled = true
backend = dogpile.cache.memory

[identity]
password_hash_rounds = 4

[oslo_policy]
enforce_new_defaults = false
enforce_scope = false
EOF
  lab_uwsgi_ini keystone "$LAB_PORT_KEYSTONE" /usr/bin/keystone-wsgi-public 1 4 \
    "OS_KEYSTONE_CONFIG_DIR=$e/keystone" | lab_write "$e/keystone/uwsgi.ini"

  # -- placement
  {
    cat <<EOF
[DEFAULT]
debug = $debug
use_stderr = true

[api]
auth_strategy = keystone

[placement_database]
connection = $(lab_db_url placement)

EOF
    lab_authtoken_section placement
  } | lab_write "$e/placement/placement.conf"
  lab_uwsgi_ini placement "$LAB_PORT_PLACEMENT" /usr/bin/placement-api 1 4 \
    "OS_PLACEMENT_CONFIG_DIR=$e/placement" | lab_write "$e/placement/uwsgi.ini"

  # -- glance
  {
    cat <<EOF
[DEFAULT]
debug = $debug
use_stderr = true
bind_host = $LAB_HOST
bind_port = $LAB_PORT_GLANCE
workers = 0
graceful_shutdown_timeout = 5
node_staging_uri = file://$LAB_DIR/data/glance/staging

[database]
connection = $(lab_db_url glance)

[paste_deploy]
flavor = keystone
config_file = /etc/glance/glance-api-paste.ini

[glance_store]
stores = file,http
default_store = file
filesystem_store_datadir = $LAB_DIR/data/glance/images/

[os_glance_staging_store]
filesystem_store_datadir = $LAB_DIR/data/glance/staging/

[os_glance_tasks_store]
filesystem_store_datadir = $LAB_DIR/data/glance/tasks/

[oslo_concurrency]
lock_path = $LAB_DIR/data/glance/lock

EOF
    lab_authtoken_section glance
  } | lab_write "$e/glance/glance-api.conf"

  # -- neutron (ML2, flat, no agents, no service plugins)
  {
    cat <<EOF
[DEFAULT]
debug = $debug
use_stderr = true
bind_host = $LAB_HOST
bind_port = $LAB_PORT_NEUTRON
core_plugin = ml2
service_plugins =
auth_strategy = keystone
api_paste_config = /etc/neutron/api-paste.ini
state_path = $LAB_DIR/data/neutron
transport_url = rabbit://guest:guest@$LAB_HOST:$LAB_PORT_RABBIT/
api_workers = 0
rpc_workers = 0
rpc_state_report_workers = 0
notify_nova_on_port_status_changes = false
notify_nova_on_port_data_changes = false
dhcp_agent_notification = false
graceful_shutdown_timeout = 5

[database]
connection = $(lab_db_url neutron)

[oslo_concurrency]
lock_path = $LAB_DIR/data/neutron/lock

[oslo_messaging_notifications]
driver = noop

EOF
    lab_authtoken_section neutron
  } | lab_write "$e/neutron/neutron.conf"
  lab_write "$e/neutron/ml2_conf.ini" <<EOF
[ml2]
type_drivers = flat
tenant_network_types =
mechanism_drivers =
extension_drivers =

[ml2_type_flat]
flat_networks = *
EOF

  # -- nova (shared by every nova process; computes add compute-NN.conf)
  {
    cat <<EOF
[DEFAULT]
debug = $debug
use_stderr = true
host = lab-controller
my_ip = $LAB_HOST
state_path = $LAB_DIR/data/nova
transport_url = rabbit://guest:guest@$LAB_HOST:$LAB_PORT_RABBIT/
enabled_apis = osapi_compute
osapi_compute_listen = $LAB_HOST
osapi_compute_listen_port = $LAB_PORT_NOVA
graceful_shutdown_timeout = 5
report_interval = $LAB_REPORT_INTERVAL
service_down_time = $LAB_SERVICE_DOWN_TIME
max_concurrent_live_migrations = 1
vif_plugging_is_fatal = false
vif_plugging_timeout = 0
heal_instance_info_cache_interval = -1

[api]
auth_strategy = keystone

[wsgi]
api_paste_config = $e/nova/api-paste.ini

[scheduler]
discover_hosts_in_cells_interval = 5
workers = 1

[conductor]
workers = 1

[placement]
region_name = RegionOne
auth_type = password
auth_url = http://$LAB_HOST:$LAB_PORT_KEYSTONE/v3
project_name = service
project_domain_name = Default
username = placement
user_domain_name = Default
password = $LAB_SERVICE_PASSWORD
valid_interfaces = public

[neutron]
region_name = RegionOne
auth_type = password
auth_url = http://$LAB_HOST:$LAB_PORT_KEYSTONE/v3
project_name = service
project_domain_name = Default
username = neutron
user_domain_name = Default
password = $LAB_SERVICE_PASSWORD
valid_interfaces = public
service_metadata_proxy = false

[glance]
region_name = RegionOne
valid_interfaces = public

[cinder]
os_region_name = RegionOne

[vnc]
enabled = false

[spice]
enabled = false

[oslo_messaging_notifications]
driver = noop

[oslo_concurrency]
lock_path = $LAB_DIR/data/nova/lock

EOF
    lab_authtoken_section nova
  } | lab_write "$e/nova/nova.conf"
  lab_write "$e/nova/nova-db.conf" <<EOF
[database]
connection = $(lab_db_url nova)

[api_database]
connection = $(lab_db_url nova_api)
EOF
  lab_write "$e/nova/api-paste.ini" </etc/nova/api-paste.ini
  # nova-api-wsgi takes its paste file from the FIRST entry of OS_NOVA_CONFIG_FILES
  lab_uwsgi_ini nova-api "$LAB_PORT_NOVA" /usr/bin/nova-api-wsgi 2 1 \
    "OS_NOVA_CONFIG_DIR=$e/nova" "OS_NOVA_CONFIG_FILES=api-paste.ini;nova.conf;nova-db.conf" |
    lab_write "$e/nova/uwsgi.ini"
}

# Sizes of one compute: sets LAB_C_RAM LAB_C_VCPUS LAB_C_DISK LAB_C_DRIVER
lab_compute_sizes() {
  local host=$1
  LAB_C_RAM="$(lab_host_knob RAM "$host" "$LAB_COMPUTE_RAM_MB")"
  LAB_C_VCPUS="$(lab_host_knob VCPUS "$host" "$LAB_COMPUTE_VCPUS")"
  LAB_C_DISK="$(lab_host_knob DISK "$host" "$LAB_COMPUTE_DISK_GB")"
  LAB_C_DRIVER="$(lab_host_knob DRIVER "$host" "$LAB_COMPUTE_DRIVER")"
  [[ "$LAB_C_RAM" =~ ^[0-9]+$ ]] && ((LAB_C_RAM >= 1 && LAB_C_RAM <= LAB_FAKE_RAM_MB)) ||
    lab_die "$host: RAM must be 1..$LAB_FAKE_RAM_MB MB (got '$LAB_C_RAM')"
  [[ "$LAB_C_VCPUS" =~ ^[0-9]+$ ]] && ((LAB_C_VCPUS >= 1 && LAB_C_VCPUS <= LAB_FAKE_VCPUS)) ||
    lab_die "$host: VCPUS must be 1..$LAB_FAKE_VCPUS (got '$LAB_C_VCPUS')"
  [[ "$LAB_C_DISK" =~ ^[0-9]+$ ]] && ((LAB_C_DISK >= 1 && LAB_C_DISK <= LAB_FAKE_DISK_GB)) ||
    lab_die "$host: DISK must be 1..$LAB_FAKE_DISK_GB GB (got '$LAB_C_DISK')"
}

lab_gen_compute_config() {
  local host=$1
  lab_compute_sizes "$host"
  lab_write "$LAB_DIR/etc/nova/$host.conf" <<EOF
# $host: ${LAB_C_RAM} MB RAM, ${LAB_C_VCPUS} vCPU, ${LAB_C_DISK} GB disk usable ($LAB_C_DRIVER)
[DEFAULT]
host = $host
compute_driver = $LAB_C_DRIVER
state_path = $LAB_DIR/data/$host
instances_path = $LAB_DIR/data/$host/instances
reserved_host_memory_mb = $((LAB_FAKE_RAM_MB - LAB_C_RAM))
reserved_host_cpus = $((LAB_FAKE_VCPUS - LAB_C_VCPUS))
reserved_host_disk_mb = $(((LAB_FAKE_DISK_GB - LAB_C_DISK) * 1024))
cpu_allocation_ratio = $LAB_CPU_ALLOCATION_RATIO
ram_allocation_ratio = $LAB_RAM_ALLOCATION_RATIO
disk_allocation_ratio = $LAB_DISK_ALLOCATION_RATIO

[oslo_concurrency]
lock_path = $LAB_DIR/data/$host/lock
EOF
}

# Start (or restart if its config changed) one compute. Prints nothing if unchanged.
lab_ensure_compute() {
  local host=$1 e="$LAB_DIR/etc/nova"
  lab_gen_compute_config "$host"
  mkdir -p "$LAB_DIR/data/$host/instances" "$LAB_DIR/data/$host/lock"
  lab_ensure "$host" "$e/nova.conf $e/$host.conf $LAB_SCRIPTS/nova_compute.py" \
    "$LAB_PY" "$LAB_SCRIPTS/nova_compute.py" --config-file "$e/nova.conf" --config-file "$e/$host.conf"
}

# "host=RAM:VCPUS:DISK:STARTEPOCH,..." for labctl.py wait-computes
lab_compute_expectations() {
  local host out='' since
  for host in "$@"; do
    lab_compute_sizes "$host"
    since=0
    if lab_read_pidfile "$host"; then
      since="$(stat -c %Y "$(lab_pidfile "$host")")"
    fi
    out+="${out:+,}$host=$LAB_C_RAM:$LAB_C_VCPUS:$LAB_C_DISK:$since"
  done
  printf '%s' "$out"
}

# shellcheck source=test/lab/libvirt.sh
. "$LAB_SCRIPTS/libvirt.sh"
