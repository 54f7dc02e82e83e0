#!/usr/bin/python3
"""Record what Nova serves about a real live migration's progress on the lab's libvirt computes.

    /usr/bin/python3 test/lab/record-progress.py OUTDIR

Boots one idle and one busy guest (hostmaint-guest, hostmaint-guest-busy) on qemu-01, enables
qemu-01/02 for the recording and disables them again afterwards, live-migrates each to qemu-02
and polls GET /servers/{id}/migrations (compute 2.80) every 0.5 s, keeping every distinct body
with the seconds since the request. The busy guest's migration never converges: it is aborted
after 60 s. Writes OUTDIR/live-migration-idle.json and OUTDIR/live-migration-busy.json (raw
bodies, no token), read by test/unit/actors/progress.test.ts and the emulator's progress tests.
"""
import datetime
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import labctl  # noqa: E402

H = {"OpenStack-API-Version": "compute 2.80"}


def main(out):
    env_file = os.path.join(os.environ.get("LAB_DIR", os.path.join(os.path.dirname(__file__), "..", "..", ".lab")), "lab.env")
    for line in open(env_file):
        if "=" in line and not line.startswith("#"):
            k, v = line.rstrip("\n").split("=", 1)
            os.environ.setdefault(k, v.strip("'"))
    lab = labctl.Lab()
    svcs = {s["host"]: s for s in lab.get("compute", "/os-services?binary=nova-compute", headers=H)["services"]}
    hosts = ["qemu-01", "qemu-02"]
    for h in hosts:
        lab.call("PUT", "compute", "/os-services/%s" % svcs[h]["id"], headers=H, json={"status": "enabled"})
    fl = [f for f in lab.get("compute", "/flavors", headers=H)["flavors"] if f["name"] == "g1.guest"][0]["id"]
    made = []
    try:
        for kind, image, abort_after in (("idle", "hostmaint-guest", None), ("busy", "hostmaint-guest-busy", 60)):
            img = [i for i in lab.get("image", "/v2/images?name=%s" % image)["images"] if i["status"] == "active"][0]["id"]
            sid = lab.call("POST", "compute", "/servers", headers=H, json={"server": {
                "name": "hm-record-%s" % kind, "imageRef": img, "flavorRef": fl, "networks": "none",
                "availability_zone": "nova:qemu-01"}}).json()["server"]["id"]
            made.append(sid)
            while lab.get("compute", "/servers/%s" % sid, headers=H)["server"]["status"] != "ACTIVE":
                time.sleep(1)
            time.sleep(15)  # first heartbeats; the busy one starts dirtying
            t0 = time.time()
            lab.call("POST", "compute", "/servers/%s/action" % sid, headers=H,
                     json={"os-migrateLive": {"host": "qemu-02", "block_migration": "auto"}})
            seen, last, aborted = [], None, False
            while True:
                body = lab.get("compute", "/servers/%s/migrations" % sid, headers=H)
                key = json.dumps([{k: v for k, v in m.items() if k != "updated_at"} for m in body["migrations"]], sort_keys=True)
                if key != last:
                    seen.append({"t": round(time.time() - t0, 1), "body": body})
                    last = key
                s = lab.get("compute", "/servers/%s" % sid, headers=H)["server"]
                if s["OS-EXT-STS:task_state"] is None and not body["migrations"]:
                    break
                if abort_after and not aborted and time.time() - t0 > abort_after and body["migrations"]:
                    lab.call("DELETE", "compute", "/servers/%s/migrations/%s" % (sid, body["migrations"][0]["id"]), headers=H)
                    aborted = True
                time.sleep(0.5)
            doc = {"recorded": datetime.date.today().isoformat(), "guest": image, "aborted_after_s": abort_after,
                   "host_after": s["OS-EXT-SRV-ATTR:host"], "readings": seen}
            with open(os.path.join(out, "live-migration-%s.json" % kind), "w") as f:
                json.dump(doc, f, indent=1, sort_keys=True)
                f.write("\n")
            labctl.log("%s: %d distinct readings, ended on %s after %.1f s" % (kind, len(seen), s["OS-EXT-SRV-ATTR:host"], time.time() - t0))
    finally:
        for sid in made:
            lab.call("DELETE", "compute", "/servers/%s" % sid, ok=(204, 404))
        for h in hosts:
            lab.call("PUT", "compute", "/os-services/%s" % svcs[h]["id"], headers=H,
                     json={"status": "disabled", "disabled_reason": os.environ["LAB_QEMU_DISABLED_REASON"]})


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    os.makedirs(sys.argv[1], exist_ok=True)
    main(sys.argv[1])
