# shellcheck shell=bash
# The lab's two libvirt computes, qemu-01 and qemu-02 (sourced by lib.sh; docs/lab.md).
#
# Each host is a network + mount + UTS namespace with its own libvirtd and virtlogd
# (test/lab/libvirt-host.sh) and a nova-compute with Nova's libvirt driver
# (virt_type=qemu: TCG; KVM hangs guests on these machines) that joins the host's
# mount and UTS namespaces only, so it reaches the control plane on 127.0.0.1.
#
# Network: a veth from each namespace into the bridge hmlab0 in the root namespace
# (10.99.0.0/24: qemu-01 .1, qemu-02 .2, the root namespace .254). The subnet is
# directly connected on hmlab0, so nothing for it follows the default route off
# the machine, and the namespaces have no default route at all.
#
# Storage is not shared: the same instance path string on both hosts has a
# different directory behind it, so Nova block-migrates.

LAB_LIBVIRT="${LAB_LIBVIRT:-1}"
LAB_QEMU_HOSTS=(qemu-01 qemu-02)
LAB_QEMU_SUBNET=10.99.0
LAB_QEMU_BRIDGE=hmlab0
# Live-migration bandwidth cap (MiB/s, the source compute's live_migration_bandwidth): low
# enough that the busy guest never converges, high enough that an idle one moves in seconds.
LAB_QEMU_BANDWIDTH="${LAB_QEMU_BANDWIDTH:-8}"
LAB_QEMU_STATE="$LAB_DIR/qemu-state"
# The guests' kernel command lines (test/lab/guest.sh): hm.dirty = MiB of memory rewritten
# per round. The idle guest converges at LAB_QEMU_BANDWIDTH, the busy one never does.
LAB_GUEST_CMDLINE="${LAB_GUEST_CMDLINE:-console=ttyS0 panic=-1 hm.dirty=0}"
LAB_GUEST_BUSY_CMDLINE="${LAB_GUEST_BUSY_CMDLINE:-console=ttyS0 panic=-1 hm.dirty=32}"
LAB_QEMU_DISABLED_REASON="hostmaint-lab: libvirt compute, enabled only by test/openstack/libvirt.test.ts"

lab_qemu_enabled() { [ "$LAB_LIBVIRT" = 1 ]; }
lab_qemu_addr() { printf '%s.%d' "$LAB_QEMU_SUBNET" "$((10#${1#qemu-}))"; }
lab_qemu_ns() { printf 'hm-%s' "$1"; }
lab_qemu_dir() { printf '%s/hosts/%s' "$LAB_DIR" "$1"; }

# Bridge in the root namespace, one namespace + veth per host. Idempotent.
lab_qemu_net_up() {
  local h ns veth
  if ! ip link show "$LAB_QEMU_BRIDGE" >/dev/null 2>&1; then
    ip link add "$LAB_QEMU_BRIDGE" type bridge
  fi
  # the root namespace holds .254 only (a host's address here would make it local, not the host's)
  if ip -4 -o addr show dev "$LAB_QEMU_BRIDGE" | grep -v " $LAB_QEMU_SUBNET.254/24 " | grep -q inet; then
    ip -4 addr flush dev "$LAB_QEMU_BRIDGE"
  fi
  ip addr replace "$LAB_QEMU_SUBNET.254/24" dev "$LAB_QEMU_BRIDGE"
  ip link set "$LAB_QEMU_BRIDGE" up
  for h in "${LAB_QEMU_HOSTS[@]}"; do
    ns="$(lab_qemu_ns "$h")" veth="hmlab-q${h#qemu-}"
    # a name left from a machine reboot or an unclean stop is a plain file, not a namespace
    if [ -e "/run/netns/$ns" ] && ! ip -n "$ns" link show lo >/dev/null 2>&1; then
      ip netns del "$ns" 2>/dev/null || rm -f "/run/netns/$ns"
    fi
    [ -e "/run/netns/$ns" ] || ip netns add "$ns"
    ip -n "$ns" link set lo up
    if ! ip -n "$ns" link show eth0 >/dev/null 2>&1; then
      ip link del "$veth" 2>/dev/null || true
      ip link add "$veth" type veth peer name "${veth}p"
      ip link set "${veth}p" netns "$ns"
      ip -n "$ns" link set "${veth}p" name eth0
    fi
    ip link set "$veth" master "$LAB_QEMU_BRIDGE" up
    ip -n "$ns" addr replace "$(lab_qemu_addr "$h")/24" dev eth0
    ip -n "$ns" link set eth0 up
  done
}

lab_qemu_net_down() {
  local h ns
  for h in "${LAB_QEMU_HOSTS[@]}"; do
    ns="$(lab_qemu_ns "$h")"
    if [ -e "/run/netns/$ns" ]; then ip netns del "$ns" 2>/dev/null || true; fi
    ip link del "hmlab-q${h#qemu-}" 2>/dev/null || true
  done
  ip link del "$LAB_QEMU_BRIDGE" 2>/dev/null || true
}

# Per-host directories and configuration (libvirtd.conf, qemu.conf, /etc/hosts).
lab_qemu_prepare() {
  local h=$1 d n
  d="$(lab_qemu_dir "$h")"
  n=$((10#${h#qemu-}))
  mkdir -p "$d"/{etc-libvirt,run-libvirt,var-lib-libvirt,log-libvirt/qemu,cache-libvirt,nova/instances,nova/lock}
  # the mount points must exist in the root namespace before unshare
  mkdir -p "$LAB_QEMU_STATE" /run/libvirt /var/lib/libvirt /var/log/libvirt /var/cache/libvirt
  if [ ! -e "$d/etc-libvirt/.copied" ]; then
    cp -a /etc/libvirt/. "$d/etc-libvirt/"
    rm -f "$d/etc-libvirt/qemu/networks/autostart/"* # libvirt's NAT network: never started
    touch "$d/etc-libvirt/.copied"
  fi
  lab_write "$d/etc-libvirt/libvirtd.conf" <<EOF
# $h (hostmaint lab): TCP without auth on the lab's namespace address only
listen_tls = 0
listen_tcp = 1
listen_addr = "$(lab_qemu_addr "$h")"
auth_tcp = "none"
auth_unix_rw = "none"
auth_unix_ro = "none"
unix_sock_rw_perms = "0700"
host_uuid = "6e6f7661-6c61-4200-8000-0000000000$(printf '%02d' "$n")"
log_outputs = "3:stderr"
EOF
  lab_write "$d/etc-libvirt/qemu.conf" <<EOF
# $h (hostmaint lab): two daemons on one machine, guests run as root
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
security_driver = "none"
cgroup_controllers = [ ]
EOF
  lab_write "$d/hosts" <<EOF
127.0.0.1 localhost
$(for x in "${LAB_QEMU_HOSTS[@]}"; do printf '%s %s\n' "$(lab_qemu_addr "$x")" "$x"; done)
EOF
  chmod 644 "$d/hosts"
}

lab_gen_qemu_compute_config() {
  local h=$1 addr
  addr="$(lab_qemu_addr "$h")"
  lab_write "$LAB_DIR/etc/nova/$h.conf" <<EOF
# $h: Nova's libvirt driver, QEMU TCG, unshared instance storage (block migration)
[DEFAULT]
host = $h
my_ip = $addr
compute_driver = libvirt.LibvirtDriver
state_path = $LAB_QEMU_STATE
instances_path = $LAB_QEMU_STATE/instances
# the periodic resource audit froze nova-compute for up to a minute during migrations
update_resources_interval = -1

[libvirt]
virt_type = qemu
connection_uri = qemu:///system
cpu_mode = none
live_migration_scheme = tcp
live_migration_inbound_addr = $addr
live_migration_bandwidth = $LAB_QEMU_BANDWIDTH
# auto-converge corrupted guests under TCG / QEMU 7.2 (docs/lab.md)
live_migration_permit_auto_converge = false
live_migration_permit_post_copy = false

[serial_console]
enabled = false

[nova_sys_admin]
# root already: no sudo/rootwrap in front of the privsep helper
helper_command = privsep-helper --config-file $LAB_DIR/etc/nova/nova.conf --config-file $LAB_DIR/etc/nova/$h.conf

[oslo_concurrency]
lock_path = $LAB_QEMU_STATE/lock
EOF
}

# Start (or keep) libvirtd and nova-compute of every libvirt host.
lab_qemu_ensure() {
  local h d e="$LAB_DIR/etc/nova" pid t0
  lab_qemu_net_up
  for h in "${LAB_QEMU_HOSTS[@]}"; do
    d="$(lab_qemu_dir "$h")"
    lab_qemu_prepare "$h"
    lab_ensure "libvirt-$h" "$d/etc-libvirt/libvirtd.conf $d/etc-libvirt/qemu.conf $d/hosts $LAB_SCRIPTS/libvirt-host.sh" \
      ip netns exec "$(lab_qemu_ns "$h")" unshare -m -u --propagation private \
      bash "$LAB_SCRIPTS/libvirt-host.sh" "$h" "$d" "$LAB_QEMU_STATE"
  done
  for h in "${LAB_QEMU_HOSTS[@]}"; do
    d="$(lab_qemu_dir "$h")"
    t0=$SECONDS
    until [ -S "$d/run-libvirt/libvirt-sock" ]; do
      lab_assert_alive "libvirt-$h"
      ((SECONDS - t0 < 60)) || lab_svc_fail "libvirt-$h" "no libvirt socket after 60s"
      sleep 0.2
    done
    lab_read_pidfile "libvirt-$h"
    pid=$LAB_PF_PID
    lab_gen_qemu_compute_config "$h"
    # nova-compute lives in libvirtd's mount namespace: restart it when libvirtd restarts
    printf '%s %s\n' "$pid" "$LAB_PF_START" | lab_write "$e/$h.ns"
    lab_ensure "$h" "$e/nova.conf $e/$h.conf $e/$h.ns $LAB_SCRIPTS/nova_compute.py" \
      nsenter -t "$pid" -m -u -- "$LAB_PY" "$LAB_SCRIPTS/nova_compute.py" --config-file "$e/nova.conf" --config-file "$e/$h.conf"
  done
}

# Stop the libvirt hosts: nova-computes, then libvirtd and virtlogd, then whatever is
# left in the namespaces (the QEMU guests), then the network. Idempotent.
lab_qemu_stop() {
  local h ns pids=() names=()
  for h in "${LAB_QEMU_HOSTS[@]}"; do [ -e "$(lab_pidfile "$h")" ] && names+=("$h"); done
  [ "${#names[@]}" -eq 0 ] || lab_stop_services "${names[@]}"
  names=()
  for h in "${LAB_QEMU_HOSTS[@]}"; do [ -e "$(lab_pidfile "libvirt-$h")" ] && names+=("libvirt-$h"); done
  [ "${#names[@]}" -eq 0 ] || lab_stop_services "${names[@]}"
  for h in "${LAB_QEMU_HOSTS[@]}"; do
    ns="$(lab_qemu_ns "$h")"
    [ -e "/run/netns/$ns" ] || continue
    mapfile -t pids < <(ip netns pids "$ns" 2>/dev/null)
    if [ "${#pids[@]}" -gt 0 ]; then
      lab_log "$h: killing ${#pids[@]} process(es) left in its namespace (guests): ${pids[*]}"
      kill -KILL "${pids[@]}" 2>/dev/null || true
    fi
  done
  sleep 0.2
  lab_qemu_net_down
}
