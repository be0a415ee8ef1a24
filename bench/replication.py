#!/usr/bin/env python3
"""Replication benchmark (not a test), against the release server on loopback with the embedded
folder store, per image size (1 GiB and 4 GiB of random data, imported as qcow2):
- replication within the region (request to Normal replica);
- replication to AP-Hong Kong (request to finished job);
- bare `cp` of the same stored file, then `sync`, in the same run.
Writes bench/results/replication.md.
Usage: bench/replication.py SERVER_BINARY SITE_ROOT [SIZES_GIB...]"""

import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from engine import (PASSWORD, create_image, peak_rss_kib, post_form, post_form_raw, start_server,  # noqa: E402
                    upload, wait_active, wait_up)


def call(opener, base, function, fields):
    return json.loads(post_form_raw(opener, f"{base}/api/{function}", urllib.parse.urlencode(fields).encode()))


def wait_job(database, image_id):
    while True:
        with sqlite3.connect(database) as db:
            status, reason = db.execute("SELECT status, fail_reason FROM jobs WHERE image_id = ?", (image_id,)).fetchone()
        if status == "SUCCESS":
            return
        if status == "FAIL":
            raise SystemExit(f"replication failed: {reason}")
        time.sleep(0.05)


def replicate(opener, base, fields):
    body = {f"request[{key}]": value for key, value in fields.items()}
    return call(opener, base, "replicate_images", body)[0]


def main():
    binary, site_root = sys.argv[1], sys.argv[2]
    sizes = [int(size) for size in sys.argv[3:]] or [1, 4]
    work = tempfile.mkdtemp(prefix="ims-bench-replication-", dir="/var/tmp")
    server, base, opener = start_server(binary, site_root, work, 3933)
    database = f"{work}/data/ims.db"
    rows = []
    try:
        wait_up(base)
        post_form(opener, f"{base}/auth/login", {"account": "acme", "user": "alice", "password": PASSWORD})
        post_form(opener, f"{base}/api/create_bucket", {"name": "bench"})
        target = call(opener, base, "replication_targets", {})[0]
        for gib in sizes:
            path = f"{work}/disk-{gib}g.raw"
            subprocess.run(["dd", "if=/dev/urandom", f"of={path}", "bs=8M", f"count={gib * 128}", "status=none"], check=True)
            upload(opener, base, path, f"disk-{gib}g.raw")
            os.remove(path)
            source = create_image(opener, base, f"disk-{gib}g.raw")
            wait_active(opener, base, source)
            with sqlite3.connect(database) as db:
                location = db.execute("SELECT file_location FROM images WHERE id = ?", (source,)).fetchone()[0]
            stored = f"{work}/data/objects/{location}"

            started = time.monotonic()
            subprocess.run(["cp", stored, f"{work}/copy"], check=True)
            subprocess.run(["sync"], check=True)
            cp_seconds = time.monotonic() - started
            os.remove(f"{work}/copy")

            started = time.monotonic()
            replica = replicate(opener, base, {"images": source, "replication_type": "region", "name": f"copy-{gib}g"})
            wait_active(opener, base, replica)
            within_seconds = time.monotonic() - started

            started = time.monotonic()
            away = replicate(opener, base, {"images": source, "replication_type": "cross", "name": f"hk-{gib}g",
                                            "region": target["region"], "project_id": target["project_id"]})
            wait_job(database, away)
            across_seconds = time.monotonic() - started
            rows.append((gib, os.path.getsize(stored) / (1 << 30), within_seconds, across_seconds, cp_seconds))
        peak_kib = peak_rss_kib(server.pid)
    finally:
        server.terminate()
        server.wait()
        subprocess.run(["rm", "-rf", work])
    lines = ["| Image (random data) | stored file GiB | within the region s | to AP-Hong Kong s | bare cp + sync s |",
             "|---|---|---|---|---|"]
    for gib, stored_gib, within_seconds, across_seconds, cp_seconds in rows:
        lines.append(f"| {gib} GiB | {stored_gib:.2f} | {within_seconds:.2f} | {across_seconds:.2f} | {cp_seconds:.2f} |")
    lines.append("")
    lines.append(f"Server peak RSS (VmHWM) over the run: {peak_kib / 1024:.0f} MiB")
    report = "\n".join(lines) + "\n"
    print(report)
    results = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
    os.makedirs(results, exist_ok=True)
    with open(os.path.join(results, "replication.md"), "w") as out:
        out.write(report)


if __name__ == "__main__":
    main()
