#!/usr/bin/env bash
# One libvirt host of the lab, run by test/lab/libvirt.sh (never by hand):
#
#   ip netns exec hm-qemu-01 unshare -m -u --propagation private bash libvirt-host.sh qemu-01 DIR
#
# Inside its own network, mount and UTS namespaces: take the host name, bind the
# host's own directories (DIR/...) over libvirt's system paths, /etc/hosts and the
# shared instance-path string, start virtlogd (in the background, same session),
# then become libvirtd. Every process of the host (libvirtd, virtlogd, QEMU) lives
# in the network namespace; nova-compute joins only the mount and UTS ones.
set -euo pipefail
host=$1 dir=$2 state=$3
export PATH=/usr/sbin:/usr/bin:/sbin:/bin

hostname "$host"
bind() { mkdir -p "$1"; mount --bind "$1" "$2"; }
bind "$dir/etc-libvirt" /etc/libvirt
bind "$dir/run-libvirt" /run/libvirt
bind "$dir/var-lib-libvirt" /var/lib/libvirt
bind "$dir/log-libvirt" /var/log/libvirt
bind "$dir/cache-libvirt" /var/cache/libvirt
bind "$dir/nova" "$state"
mount --bind "$dir/hosts" /etc/hosts
mkdir -p /var/log/libvirt/qemu /var/lib/libvirt/qemu /var/cache/libvirt/qemu /run/libvirt/qemu

virtlogd --pid-file /run/libvirt/virtlogd.pid &
exec libvirtd --listen --pid-file /run/libvirt/libvirtd.pid
