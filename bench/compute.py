#!/usr/bin/env python3
"""Compute benchmark (not a test), against the release server on loopback, per size of data
on a server's system disk (1 GiB and 4 GiB of random bytes written into its qcow2 file):
- system disk image job (a streamed, hashed copy of the disk) against bare `cp` of the file;
- ECS creation from that image (qemu-img convert into a new 40 GB disk + store) against bare
  `qemu-img convert` of the same file;
- ECS creation from a public image (64 MiB demo disk) for reference.
Writes bench/results/compute.md.
Usage: bench/compute.py SERVER_BINARY SITE_ROOT [SIZES_GIB...]"""

import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from engine import PASSWORD, peak_rss_kib, post_form, post_form_raw, start_server, wait_active, wait_up  # noqa: E402


def call(opener, base, function, fields):
    return json.loads(post_form_raw(opener, f"{base}/api/{function}", urllib.parse.urlencode(fields).encode()))


def wait_running(opener, base, server_id):
    while True:
        detail = call(opener, base, "get_server", {"id": server_id})
        status = detail["server"]["status"]
        if status == "running":
            return detail
        if status == "error":
            raise SystemExit(f"server failed: {detail['server']['status_reason']}")
        time.sleep(0.1)


def create_server(opener, base, name, image_id):
    fields = {"request[name]": name, "request[image_id]": image_id, "request[flavor]": "s6.large.2"}
    started = time.monotonic()
    server_id = call(opener, base, "create_servers", fields)[0]
    detail = wait_running(opener, base, server_id)
    return server_id, detail, time.monotonic() - started


def main():
    binary, site_root = sys.argv[1], sys.argv[2]
    sizes = [int(size) for size in sys.argv[3:]] or [1, 4]
    work = tempfile.mkdtemp(prefix="ims-bench-compute-", dir="/var/tmp")
    server, base, opener = start_server(binary, site_root, work, 3932)
    rows = []
    try:
        wait_up(base)
        post_form(opener, f"{base}/auth/login", {"account": "globex", "user": "carol", "password": PASSWORD})
        choices = call(opener, base, "list_image_choices", {"for_disks": "false"})
        public = next(c for c in choices if c["category"] == "Public" and c["architecture"] == "x86"
                      and c["boot_mode"] == "bios" and c["min_ram"] == 1024)
        _, _, public_seconds = create_server(opener, base, "from-public", public["id"])
        for gib in sizes:
            server_id, detail, _ = create_server(opener, base, f"source-{gib}g", public["id"])
            system = next(d for d in detail["disks"] if d["role"] == "system")
            with sqlite3.connect(f"{work}/data/ims.db") as db:
                key = db.execute("SELECT object_key FROM disks WHERE id = ?", (system["id"],)).fetchone()[0]
            disk_file = f"{work}/data/objects/{key}"
            random_file = f"{work}/random.raw"
            subprocess.run(["dd", "if=/dev/urandom", f"of={random_file}", "bs=8M", "count=128", "status=none"], check=True)
            # Random bytes from 16 MiB on, written into the server's qcow2 disk 1 GiB at a time
            # (qemu-io's largest request); qcow2 stores each copy, so the data is `gib` GiB.
            for index in range(gib):
                offset = (16 << 20) + (index << 30)
                subprocess.run(["qemu-io", "-f", "qcow2", "-c", f"write -s {random_file} {offset} {1 << 30}", disk_file],
                               check=True, capture_output=True)
            os.remove(random_file)

            started = time.monotonic()
            image_id = call(opener, base, "create_image_from_server",
                            {"request[server_id]": server_id, "request[image_type]": "system", "request[name]": f"img-{gib}g"})
            wait_active(opener, base, image_id)
            capture_seconds = time.monotonic() - started
            started = time.monotonic()
            subprocess.run(["cp", disk_file, f"{work}/copy.qcow2"], check=True)
            subprocess.run(["sync"], check=True)
            cp_seconds = time.monotonic() - started

            _, _, create_seconds = create_server(opener, base, f"copy-{gib}g", image_id)
            started = time.monotonic()
            subprocess.run(["qemu-img", "convert", "-f", "qcow2", "-O", "qcow2", f"{work}/copy.qcow2", f"{work}/bare.qcow2"], check=True)
            bare_seconds = time.monotonic() - started
            for leftover in ("copy.qcow2", "bare.qcow2"):
                os.remove(f"{work}/{leftover}")
            rows.append((gib, capture_seconds, cp_seconds, create_seconds, bare_seconds))
        peak_kib = peak_rss_kib(server.pid)
    finally:
        server.terminate()
        server.wait()
        subprocess.run(["rm", "-rf", work])
    lines = ["| Data on the system disk | system disk image job s | bare cp s | ECS from that image s | bare qemu-img convert s |",
             "|---|---|---|---|---|"]
    for gib, capture_seconds, cp_seconds, create_seconds, bare_seconds in rows:
        lines.append(f"| {gib} GiB random | {capture_seconds:.1f} | {cp_seconds:.1f} | {create_seconds:.1f} | {bare_seconds:.1f} |")
    lines.append("")
    lines.append(f"ECS from a public image (64 MiB demo disk into a 40 GB system disk): {public_seconds:.2f} s")
    lines.append(f"Server peak RSS (VmHWM) over the run: {peak_kib / 1024:.0f} MiB")
    report = "\n".join(lines) + "\n"
    print(report)
    results = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
    os.makedirs(results, exist_ok=True)
    with open(os.path.join(results, "compute.md"), "w") as out:
        out.write(report)


if __name__ == "__main__":
    main()
