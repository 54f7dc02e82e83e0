#!/usr/bin/python3
"""Setup and health steps of the hostmaint OpenStack lab.

Runs with Debian's /usr/bin/python3 and talks REST to the lab's services with
one keystoneauth session (one token), which is much faster than one CLI call
per object. Every step is idempotent (get-or-create).

Usage: labctl.py STEP [STEP...] where STEP is one of
  keystone-setup    service project/users/roles, catalog, second project
  glance-setup      upload the tiny raw test image
  neutron-warmup    one GET /v2.0/networks (works around the Zed
                    "Port has no attribute port_forwardings" 500 on /v2.0/ports)
  nova-setup        flavors and quotas
  wait-computes     wait until the computes in $LAB_WAIT_COMPUTES are up,
                    mapped to the cell, sized as configured in Placement and
                    listed as hypervisors
  delete-computes   delete the compute services named in $LAB_DELETE_COMPUTES
  status            print compute services and hypervisors
  wait-libvirt      wait until the libvirt computes in $LAB_QEMU_HOSTS are up, mapped
                    and QEMU hypervisors; disable them (reason $LAB_QEMU_DISABLED_REASON)
                    so only the libvirt tests place guests there
  guest-images      register the guest built in $LAB_GUEST_DIR (test/lab/guest.sh):
                    kernel + ramdisk images, hostmaint-guest, hostmaint-guest-busy,
                    flavor g1.guest (256 MB)

Configuration comes from the environment (set by test/lab/lib.sh).
"""

import datetime
import hashlib
import os
import shlex
import subprocess
import sys
import time

from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

E = os.environ
HOST = "127.0.0.1"
REGION = E.get("LAB_REGION", "RegionOne")
FAKE_VCPUS, FAKE_RAM_MB, FAKE_DISK_GB = 1000, 800000, 600000

CATALOG = [
    # type, name, url
    ("compute", "nova", "http://%s:8774/v2.1" % HOST),
    ("placement", "placement", "http://%s:8778" % HOST),
    ("image", "glance", "http://%s:9292" % HOST),
    ("network", "neutron", "http://%s:9696" % HOST),
]
SERVICE_USERS = ["nova", "placement", "glance", "neutron"]
FLAVORS = [
    # name, ram MB, vcpus, disk GB
    ("m1.tiny", 512, 1, 1),
    ("m1.small", 2048, 1, 1),
    ("m1.medium", 4096, 2, 1),
    ("m1.large", 16384, 4, 1),
]
QUOTAS = {"instances": 500, "cores": 1000, "ram": 10000000}


def log(msg):
    print("[labctl %s] %s" % (time.strftime("%H:%M:%S"), msg), flush=True)


def die(msg):
    print("[labctl] ERROR: %s" % msg, file=sys.stderr, flush=True)
    sys.exit(1)


class Lab:
    def __init__(self, project=None):
        auth = v3.Password(
            auth_url=E["LAB_AUTH_URL"],
            username=E.get("LAB_USERNAME", "admin"),
            password=E["LAB_PASSWORD"],
            project_name=project or E.get("LAB_PROJECT", "admin"),
            user_domain_name=E.get("LAB_USER_DOMAIN", "Default"),
            project_domain_name=E.get("LAB_PROJECT_DOMAIN", "Default"),
        )
        self.s = ks_session.Session(auth=auth, timeout=30)

    def call(self, method, stype, path, ok=(200, 201, 202, 204), headers=None, **kw):
        hdrs = {"Connection": "close"}
        hdrs.update(headers or {})
        r = self.s.request(
            path,
            method,
            endpoint_filter={"service_type": stype, "interface": "public", "region_name": REGION},
            raise_exc=False,
            headers=hdrs,
            **kw
        )
        if r.status_code not in ok:
            die("%s %s %s -> HTTP %s: %s" % (method, stype, path, r.status_code, r.text[:500]))
        return r

    def get(self, stype, path, **kw):
        return self.call("GET", stype, path, **kw).json()


# ---------------------------------------------------------------- keystone


def keystone_setup(lab):
    svc_pw = E["LAB_SERVICE_PASSWORD"]
    ks = "identity"

    def one(path, key, name, extra=""):
        items = lab.get(ks, "%s?name=%s%s" % (path, name, extra))[key]
        return items[0] if items else None

    def role(name):
        r = one("/roles", "roles", name)
        if not r:
            r = lab.call("POST", ks, "/roles", json={"role": {"name": name}}).json()["role"]
            log("created role %s" % name)
        return r["id"]

    def project(name, desc):
        p = one("/projects", "projects", name, "&domain_id=default")
        if not p:
            p = lab.call(
                "POST", ks, "/projects",
                json={"project": {"name": name, "domain_id": "default", "description": desc}},
            ).json()["project"]
            log("created project %s" % name)
        return p["id"]

    def user(name, password, project_id):
        u = one("/users", "users", name, "&domain_id=default")
        if not u:
            u = lab.call(
                "POST", ks, "/users",
                json={"user": {"name": name, "domain_id": "default", "password": password,
                               "default_project_id": project_id}},
            ).json()["user"]
            log("created user %s" % name)
        else:
            lab.call("PATCH", ks, "/users/%s" % u["id"], json={"user": {"password": password}})
        return u["id"]

    def grant(project_id, user_id, role_id):
        lab.call("PUT", ks, "/projects/%s/users/%s/roles/%s" % (project_id, user_id, role_id))

    admin_role, service_role = role("admin"), role("service")
    role("member")
    role("reader")
    service_project = project("service", "OpenStack services")
    for name in SERVICE_USERS:
        uid = user(name, svc_pw, service_project)
        grant(service_project, uid, admin_role)
        grant(service_project, uid, service_role)

    admin_user = one("/users", "users", "admin", "&domain_id=default")["id"]
    p2 = project(E.get("LAB_PROJECT2", "demo2"), "second project for hostmaint tests")
    grant(p2, admin_user, admin_role)

    services = {s["type"]: s for s in lab.get(ks, "/services")["services"]}
    endpoints = lab.get(ks, "/endpoints")["endpoints"]
    for stype, name, url in CATALOG:
        svc = services.get(stype)
        if not svc:
            svc = lab.call(
                "POST", ks, "/services", json={"service": {"type": stype, "name": name, "enabled": True}}
            ).json()["service"]
            log("created service %s (%s)" % (name, stype))
        for iface in ("public", "internal", "admin"):
            ep = [e for e in endpoints if e["service_id"] == svc["id"] and e["interface"] == iface
                  and e.get("region_id") == REGION]
            if not ep:
                lab.call(
                    "POST", ks, "/endpoints",
                    json={"endpoint": {"service_id": svc["id"], "interface": iface, "url": url,
                                       "region_id": REGION, "enabled": True}},
                )
            elif ep[0]["url"] != url:
                lab.call("PATCH", ks, "/endpoints/%s" % ep[0]["id"], json={"endpoint": {"url": url}})
    log("keystone: service users, catalog and project %s ready" % E.get("LAB_PROJECT2", "demo2"))


# ---------------------------------------------------------------- glance


def glance_setup(lab):
    name = E.get("LAB_IMAGE_NAME", "cirros-tiny")
    images = lab.get("image", "/v2/images?name=%s" % name)["images"]
    images = [i for i in images if i["status"] == "active"]
    if images:
        return
    img = lab.call(
        "POST", "image", "/v2/images",
        json={"name": name, "disk_format": "raw", "container_format": "bare", "visibility": "public",
              "min_disk": 0, "min_ram": 0},
    ).json()
    lab.call(
        "PUT", "image", "/v2/images/%s/file" % img["id"],
        headers={"Content-Type": "application/octet-stream"}, data=b"\0" * 1024,
    )
    for _ in range(100):
        st = lab.get("image", "/v2/images/%s" % img["id"])["status"]
        if st == "active":
            log("glance: image %s (%s) active" % (name, img["id"]))
            return
        time.sleep(0.2)
    die("image %s did not become active (status %s)" % (name, st))


# ---------------------------------------------------------------- neutron


def neutron_warmup(lab):
    lab.get("network", "/v2.0/networks")
    lab.get("network", "/v2.0/ports?limit=1")


# ---------------------------------------------------------------- nova


def nova_setup(lab):
    have = {f["name"]: f for f in lab.get("compute", "/flavors/detail?is_public=None")["flavors"]}
    for name, ram, vcpus, disk in FLAVORS:
        f = have.get(name)
        if f and (f["ram"], f["vcpus"], f["disk"]) != (ram, vcpus, disk):
            lab.call("DELETE", "compute", "/flavors/%s" % f["id"])
            f = None
        if not f:
            lab.call(
                "POST", "compute", "/flavors",
                json={"flavor": {"name": name, "ram": ram, "vcpus": vcpus, "disk": disk,
                                 "os-flavor-access:is_public": True}},
            )
            log("nova: flavor %s (%d MB, %d vCPU, %d GB)" % (name, ram, vcpus, disk))
    for pname in (E.get("LAB_PROJECT", "admin"), E.get("LAB_PROJECT2", "demo2")):
        projects = lab.get("identity", "/projects?name=%s" % pname)["projects"]
        if not projects:
            die("project %s not found" % pname)
        lab.call("PUT", "compute", "/os-quota-sets/%s" % projects[0]["id"], json={"quota_set": QUOTAS})
    log("nova: flavors and quotas ready")


def parse_time(s):
    s = s.replace("Z", "").split(".")[0]
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc).timestamp()


def discover_hosts(hosts):
    """Map new computes to the cell now (the scheduler would, within discover_hosts_in_cells_interval)."""
    cmd = shlex.split(E["LAB_NOVA_MANAGE"]) + ["cell_v2", "discover_hosts", "--verbose"]
    out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if out.returncode != 0:
        die("nova-manage cell_v2 discover_hosts failed:\n" + out.stdout[-3000:])
    for h in hosts:
        open("%s/state/mapped-%s" % (E["LAB_DIR"], h), "w").close()
    log("nova: cell_v2 discover_hosts done (%s)" % ", ".join(hosts))


def wait_computes(lab):
    spec = E.get("LAB_WAIT_COMPUTES", "")
    timeout = float(E.get("LAB_WAIT_TIMEOUT", "180"))
    state_dir = E["LAB_DIR"] + "/state"
    want = {}
    for item in filter(None, spec.split(",")):
        host, sizes = item.split("=")
        ram, vcpus, disk, since = (int(x) for x in sizes.split(":"))
        want[host] = (ram, vcpus, disk, since)
    if not want:
        return
    deadline = time.time() + timeout
    hosts = sorted(want)

    def waiting(what, check):
        last = None
        while True:
            missing = check()
            if not missing:
                return
            if missing != last:
                log("waiting for %s: %s" % (what, ", ".join(missing)))
                last = missing
            if time.time() > deadline:
                die("timed out after %ds waiting for %s: %s (see %s/log/<host>.log)"
                    % (timeout, what, ", ".join(missing), E["LAB_DIR"]))
            time.sleep(0.5)

    def services_up():
        svcs = {s["host"]: s for s in lab.get("compute", "/os-services?binary=nova-compute")["services"]}
        missing = []
        for h in hosts:
            s = svcs.get(h)
            since = want[h][3]
            if not s or s["state"] != "up" or not s.get("updated_at") or parse_time(s["updated_at"]) < since - 1:
                missing.append(h)
        return missing

    waiting("nova-compute services up", services_up)

    unmapped = [h for h in hosts if not os.path.exists("%s/mapped-%s" % (state_dir, h))]
    if unmapped:
        discover_hosts(unmapped)

    ratios = {
        "VCPU": float(E.get("LAB_CPU_ALLOCATION_RATIO", "1.0")),
        "MEMORY_MB": float(E.get("LAB_RAM_ALLOCATION_RATIO", "1.0")),
        "DISK_GB": float(E.get("LAB_DISK_ALLOCATION_RATIO", "1.0")),
    }

    def placement_sized():
        missing = []
        for h in hosts:
            ram, vcpus, disk, _ = want[h]
            rps = lab.get("placement", "/resource_providers?name=%s" % h)["resource_providers"]
            if not rps:
                missing.append(h + " (no resource provider)")
                continue
            inv = lab.get("placement", "/resource_providers/%s/inventories" % rps[0]["uuid"])["inventories"]
            expect = {
                "VCPU": FAKE_VCPUS - vcpus,
                "MEMORY_MB": FAKE_RAM_MB - ram,
                "DISK_GB": FAKE_DISK_GB - disk,
            }
            for rc, reserved in expect.items():
                i = inv.get(rc)
                if not i or i["reserved"] != reserved or abs(i["allocation_ratio"] - ratios[rc]) > 1e-6:
                    missing.append("%s (%s inventory)" % (h, rc))
                    break
        return missing

    waiting("placement inventories", placement_sized)

    def hypervisors():
        names = {x["hypervisor_hostname"] for x in lab.get("compute", "/os-hypervisors")["hypervisors"]}
        return [h for h in hosts if h not in names]

    waiting("hypervisors", hypervisors)
    log("computes ready: %s" % ", ".join(
        "%s (%d MB, %d vCPU, %d GB)" % (h, want[h][0], want[h][1], want[h][2]) for h in hosts))


def delete_computes(lab):
    names = [n for n in E.get("LAB_DELETE_COMPUTES", "").split(",") if n]
    if not names:
        return
    svcs = lab.get("compute", "/os-services?binary=nova-compute",
                   headers={"OpenStack-API-Version": "compute 2.53"})["services"]
    for s in svcs:
        if s["host"] in names:
            r = lab.call("DELETE", "compute", "/os-services/%s" % s["id"],
                         headers={"OpenStack-API-Version": "compute 2.53"}, ok=(204, 409, 400))
            if r.status_code == 204:
                log("deleted compute service %s" % s["host"])
            else:
                log("could not delete compute service %s: %s" % (s["host"], r.text[:300]))


def wait_libvirt(lab):
    hosts = [h for h in E.get("LAB_QEMU_HOSTS", "").split(",") if h]
    if not hosts:
        return
    timeout = float(E.get("LAB_WAIT_TIMEOUT", "180"))
    deadline = time.time() + timeout
    state_dir = E["LAB_DIR"] + "/state"
    mv = {"OpenStack-API-Version": "compute 2.53"}
    last = None
    while True:
        svcs = {s["host"]: s for s in lab.get("compute", "/os-services?binary=nova-compute", headers=mv)["services"]}
        hyps = {h["hypervisor_hostname"]: h for h in lab.get("compute", "/os-hypervisors/detail", headers=mv)["hypervisors"]}
        missing = []
        for h in hosts:
            s = svcs.get(h)
            if not s or s["state"] != "up":
                missing.append(h + " (service)")
            elif h not in hyps:
                missing.append(h + " (hypervisor)")
        unmapped = [h for h in hosts if h in svcs and not os.path.exists("%s/mapped-%s" % (state_dir, h))]
        if unmapped and all(svcs[h]["state"] == "up" for h in unmapped):
            discover_hosts(unmapped)
        if not missing:
            break
        if missing != last:
            log("waiting for libvirt computes: %s" % ", ".join(missing))
            last = missing
        if time.time() > deadline:
            die("timed out after %ds waiting for libvirt computes: %s (see %s/log/<host>.log)"
                % (timeout, ", ".join(missing), E["LAB_DIR"]))
        time.sleep(0.5)
    for h in hosts:
        hv = hyps[h]
        if hv.get("hypervisor_type") != "QEMU":
            die("%s: hypervisor type %r, expected QEMU" % (h, hv.get("hypervisor_type")))
        s = svcs[h]
        if s["status"] == "enabled":
            lab.call("PUT", "compute", "/os-services/%s" % s["id"], headers=mv,
                     json={"status": "disabled", "disabled_reason": E["LAB_QEMU_DISABLED_REASON"]})
    log("libvirt computes ready (disabled until a libvirt test enables them): %s" % ", ".join(
        "%s (QEMU at %s, %s MB)" % (h, hyps[h].get("host_ip"), hyps[h].get("memory_mb")) for h in hosts))


def guest_images(lab):
    gdir = E["LAB_GUEST_DIR"]
    with open(os.path.join(gdir, "manifest"), "rb") as f:
        digest = f.read()
    # the layout of the registration counts too: a change of it re-registers
    tag = hashlib.sha256(digest + b"kernel+ramdisk raw/bare").hexdigest()[:16]

    def current(name):
        imgs = [i for i in lab.get("image", "/v2/images?name=%s" % name)["images"]]
        ok = [i for i in imgs if i["status"] == "active" and i.get("hostmaint_guest") == tag]
        for i in imgs:
            if i not in ok:
                lab.call("DELETE", "image", "/v2/images/%s" % i["id"], ok=(204, 404, 409))
        return ok[0] if ok else None

    def upload(name, disk_format, container_format, path, props):
        img = current(name)
        if img:
            return img["id"]
        body = {"name": name, "disk_format": disk_format, "container_format": container_format,
                "visibility": "public", "hostmaint_guest": tag}
        body.update(props)
        img = lab.call("POST", "image", "/v2/images", json=body).json()
        with open(path, "rb") as f:
            lab.call("PUT", "image", "/v2/images/%s/file" % img["id"],
                     headers={"Content-Type": "application/octet-stream"}, data=f.read())
        for _ in range(150):
            if lab.get("image", "/v2/images/%s" % img["id"])["status"] == "active":
                log("glance: image %s (%s) active" % (name, img["id"]))
                return img["id"]
            time.sleep(0.2)
        die("image %s did not become active" % name)

    # raw/bare, not aki/ari: Zed's image inspection (bug 2059809) takes an aki's format as
    # "aki", qemu-img says "raw", and pre_live_migration refuses to fetch the kernel.
    kernel = upload("hostmaint-guest-kernel", "raw", "bare", os.path.join(gdir, "vmlinuz"), {})
    ramdisk = upload("hostmaint-guest-ramdisk", "raw", "bare", os.path.join(gdir, "initrd.img"), {})
    for name, cmdline in (("hostmaint-guest", E["LAB_GUEST_CMDLINE"]),
                          ("hostmaint-guest-busy", E["LAB_GUEST_BUSY_CMDLINE"])):
        upload(name, "raw", "bare", os.path.join(gdir, "disk.raw"),
               {"kernel_id": kernel, "ramdisk_id": ramdisk, "os_command_line": cmdline})
    have = {f["name"]: f for f in lab.get("compute", "/flavors/detail?is_public=None")["flavors"]}
    if "g1.guest" not in have:
        lab.call("POST", "compute", "/flavors",
                 json={"flavor": {"name": "g1.guest", "ram": 256, "vcpus": 1, "disk": 1,
                                  "os-flavor-access:is_public": True}})
        log("nova: flavor g1.guest (256 MB, 1 vCPU, 1 GB)")


def status(lab):
    svcs = lab.get("compute", "/os-services")["services"]
    for s in sorted(svcs, key=lambda s: (s["binary"], s["host"])):
        print("%-16s %-16s %-8s %-5s %s" % (s["binary"], s["host"], s["status"], s["state"], s.get("updated_at")))
    hyps = lab.get("compute", "/os-hypervisors")["hypervisors"]
    print("hypervisors: %s" % ", ".join(sorted(h["hypervisor_hostname"] for h in hyps)))


STEPS = {
    "keystone-setup": keystone_setup,
    "glance-setup": glance_setup,
    "neutron-warmup": neutron_warmup,
    "nova-setup": nova_setup,
    "wait-computes": wait_computes,
    "delete-computes": delete_computes,
    "status": status,
    "wait-libvirt": wait_libvirt,
    "guest-images": guest_images,
}


def main(argv):
    if not argv or any(a not in STEPS for a in argv):
        print(__doc__, file=sys.stderr)
        return 2
    lab = Lab()
    for step in argv:
        STEPS[step](lab)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
