#!/usr/bin/env python3
"""Engine benchmark (not a test), against the release server on loopback:
- upload throughput through the chunked upload API, against `dd` writing the same file to the same disk;
- import job time (inspect + cross-check + qemu-img convert to qcow2 + store) against bare
  `qemu-img convert` of the same file;
- the server's peak RSS (VmHWM) after the uploads and imports.
Sizes are 1 GiB and 4 GiB of random data (incompressible). Writes bench/results/engine.md.
Usage: bench/engine.py SERVER_BINARY SITE_ROOT [SIZES_GIB...]"""

import http.cookiejar
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

PASSWORD = "bench-password-1"


def main():
    binary, site_root = sys.argv[1], sys.argv[2]
    sizes = [int(size) for size in sys.argv[3:]] or [1, 4]
    work = tempfile.mkdtemp(prefix="ims-bench-", dir="/var/tmp")
    server, base, opener = start_server(binary, site_root, work, 3931)
    try:
        wait_up(base)
        post_form(opener, f"{base}/auth/login", {"account": "acme", "user": "alice", "password": PASSWORD})
        post_form(opener, f"{base}/api/create_bucket", {"name": "bench"})
        rows = []
        for gib in sizes:
            path = f"{work}/disk-{gib}g.raw"
            subprocess.run(["dd", "if=/dev/urandom", f"of={path}", "bs=8M", f"count={gib * 128}", "status=none"], check=True)
            started = time.monotonic()
            subprocess.run(["dd", f"if={path}", f"of={work}/dd-copy", "bs=8M", "conv=fsync", "status=none"], check=True)
            dd_seconds = time.monotonic() - started
            os.remove(f"{work}/dd-copy")

            started = time.monotonic()
            upload(opener, base, path, f"disk-{gib}g.raw")
            upload_seconds = time.monotonic() - started

            started = time.monotonic()
            image_id = create_image(opener, base, f"disk-{gib}g.raw")
            wait_active(opener, base, image_id)
            import_seconds = time.monotonic() - started

            started = time.monotonic()
            subprocess.run(["qemu-img", "convert", "-f", "raw", "-O", "qcow2", path, f"{work}/bare.qcow2"], check=True)
            bare_seconds = time.monotonic() - started
            os.remove(f"{work}/bare.qcow2")
            os.remove(path)
            size_mib = gib * 1024
            rows.append((gib, size_mib / upload_seconds, size_mib / dd_seconds, import_seconds, bare_seconds))
        peak_kib = peak_rss_kib(server.pid)
    finally:
        server.terminate()
        server.wait()
        subprocess.run(["rm", "-rf", work])
    lines = ["| File | upload MiB/s | dd MiB/s (same disk) | import job s | bare qemu-img convert s |", "|---|---|---|---|---|"]
    for gib, upload_rate, dd_rate, import_seconds, bare_seconds in rows:
        lines.append(f"| {gib} GiB random | {upload_rate:.0f} | {dd_rate:.0f} | {import_seconds:.1f} | {bare_seconds:.1f} |")
    lines.append("")
    lines.append(f"Server peak RSS (VmHWM) over all uploads and imports: {peak_kib / 1024:.0f} MiB")
    report = "\n".join(lines) + "\n"
    print(report)
    results = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
    os.makedirs(results, exist_ok=True)
    with open(os.path.join(results, "engine.md"), "w") as out:
        out.write(report)


def start_server(binary, site_root, work, port):
    """The release server on a fresh embedded store in `work`, and a cookie-keeping client."""
    env = dict(os.environ, IMS_DATA_DIR=f"{work}/data", IMS_DEMO_PASSWORD=PASSWORD,
               LEPTOS_SITE_ADDR=f"127.0.0.1:{port}", LEPTOS_SITE_ROOT=site_root, RUST_LOG="warn")
    env.pop("DATABASE_URL", None)
    server = subprocess.Popen([binary], env=env)
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    # As a browser does: the console refuses a cookie-carrying POST that names no origin.
    opener.addheaders = [("Origin", f"http://127.0.0.1:{port}")]
    return server, f"http://127.0.0.1:{port}", opener


def wait_up(base):
    for _ in range(600):
        try:
            urllib.request.urlopen(f"{base}/healthz", timeout=1)
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the server did not start")


def post_form(opener, url, fields):
    data = urllib.parse.urlencode(fields).encode()
    return opener.open(urllib.request.Request(url, data=data, method="POST")).read()


def call_json(opener, method, url, body=None, content_type="application/json"):
    request = urllib.request.Request(url, data=body, method=method, headers={"Content-Type": content_type})
    with opener.open(request) as response:
        text = response.read()
        return json.loads(text) if text else None


def upload(opener, base, path, key):
    size = os.path.getsize(path)
    state = call_json(opener, "POST", f"{base}/storage/uploads",
                      json.dumps({"bucket": "bench", "key": key, "size": size}).encode())
    chunk = state["chunk_size"]
    with open(path, "rb") as source:
        for index in range(state["chunk_count"]):
            data = source.read(chunk)
            call_json(opener, "PUT", f"{base}/storage/uploads/{state['upload_id']}/chunks/{index}", data,
                      "application/octet-stream")
    call_json(opener, "POST", f"{base}/storage/uploads/{state['upload_id']}/complete")


def create_image(opener, base, key):
    fields = {"name": key.replace(".", "-"), "bucket": "bench", "object_key": key, "file_format": "raw",
              "image_type": "system", "os_type": "Linux", "platform": "Ubuntu",
              "os_version": "Ubuntu 22.04 server 64bit", "architecture": "x86", "boot_mode": "bios"}
    body = urllib.parse.urlencode({f"request[{k}]": v for k, v in fields.items()}).encode()
    return json.loads(post_form_raw(opener, f"{base}/api/create_image_from_file", body))


def post_form_raw(opener, url, body):
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    return opener.open(request).read()


def wait_active(opener, base, image_id):
    while True:
        image = json.loads(post_form_raw(opener, f"{base}/api/get_image", urllib.parse.urlencode({"id": image_id}).encode()))
        if image["status"] == "active":
            return
        if image["status"] == "killed":
            raise SystemExit(f"import failed: {image['status_reason']}")
        time.sleep(0.2)


def peak_rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


if __name__ == "__main__":
    main()
