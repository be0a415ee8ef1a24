"""Drives the console's Keystone and Glance APIs with the unmodified OpenStack clients (from PyPI):
openstacksdk (`openstack.connect`) and the `glance` command line tool.

Run by tests/api_ims.rs against a real server on loopback; the environment gives the server's
address, two accounts' users and passwords, and a qcow2 file. Any failure raises.
"""

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time

import openstack
from keystoneauth1.exceptions.http import Unauthorized
from openstack import exceptions

BASE = os.environ["IMS_ENDPOINT"]
REGION = "cn-north-4"
FILE = os.environ["IMS_QCOW2"]
GLANCE = os.path.join(os.path.dirname(sys.executable), "glance")


def step(text):
    print(f"--- {text}", flush=True)


def connect(account, user, **scope):
    return openstack.connect(
        auth_url=f"{BASE}/v3",
        username=user,
        password=os.environ["IMS_PASSWORD"],
        user_domain_name=account,
        project_domain_name=account,
        region_name=REGION,
        **(scope or {"project_name": REGION}),
    )


def wait_active(conn, image_id):
    deadline = time.time() + 120
    while time.time() < deadline:
        image = conn.image.get_image(image_id)
        if image.status not in ("queued", "saving"):
            assert image.status == "active", image.status
            return image
        time.sleep(0.3)
    raise AssertionError(f"image {image_id} did not become active")


with open(FILE, "rb") as source:
    original = source.read()

step("openstacksdk: log in (project by name), create with data, wait, download and compare")
alice = connect("acme", "alice")
carol = connect("globex", "carol")
created = alice.image.create_image("sdk-upload", filename=FILE, disk_format="qcow2", container_format="bare")
image = wait_active(alice, created.id)
assert image.checksum == hashlib.md5(original).hexdigest(), image.checksum
assert image.properties.get("owner_specified.openstack.object") == "images/sdk-upload", image.properties
downloaded = alice.image.download_image(image)
assert downloaded.content == original, "downloaded bytes differ from the upload"

step("openstacksdk: log in scoped by project id too")
alice_by_id = connect("acme", "alice", project_id=alice.current_project_id)
assert alice_by_id.image.get_image(image.id).name == "sdk-upload"

step("openstacksdk: find, list with filters and paging")
assert alice.image.find_image("sdk-upload").id == image.id
assert alice.image.find_image("no-such-image") is None
named = list(alice.image.images(name="sdk-upload"))
assert [found.id for found in named] == [image.id], named
everything = list(alice.image.images(limit=2))
assert len(everything) > 2 and len({found.id for found in everything}) == len(everything), len(everything)
private = list(alice.image.images(visibility="private", limit=3))
assert image.id in [found.id for found in private]

step("openstacksdk: update, tags")
alice.image.update_image(image, name="sdk-renamed", os_distro="ubuntu")
alice.image.add_tag(image, "nightly")
image = alice.image.get_image(image.id)
assert image.name == "sdk-renamed" and "nightly" in image.tags and image.os_distro == "ubuntu", image
tagged = list(alice.image.images(tag="nightly"))
assert [found.id for found in tagged] == [image.id], tagged
alice.image.remove_tag(image, "nightly")
assert "nightly" not in alice.image.get_image(image.id).tags

step("openstacksdk: members, answered by the other project")
member = alice.image.add_member(image, member_id=carol.current_project_id)
assert member.status == "pending", member
try:
    carol.image.get_image(image.id)
except exceptions.NotFoundException:
    raise AssertionError("a pending share is visible to its recipient")
answered = carol.image.update_member(member, image, status="accepted")
assert answered.status == "accepted", answered
members = list(alice.image.members(image))
assert [(found.member_id, found.status) for found in members] == [(carol.current_project_id, "accepted")], members

step("refusals: another account cannot change or download what is not shared with it")
private_image = alice.image.create_image("sdk-private", disk_format="qcow2", container_format="bare")
for call in (lambda: carol.image.get_image(private_image.id), lambda: carol.image.update_image(private_image.id, name="x")):
    try:
        call()
    except exceptions.NotFoundException:
        continue
    raise AssertionError("another account reached a private image")
alice.image.delete_image(private_image, ignore_missing=False)

step("openstacksdk: delete")
alice.image.delete_image(image, ignore_missing=False)
assert alice.image.find_image(image.id) is None

step("glance CLI: create with --file, list, download, tag, member, delete")
home = tempfile.mkdtemp()
env = dict(
    os.environ,
    HOME=home,
    OS_AUTH_URL=f"{BASE}/v3",
    OS_USERNAME="alice",
    OS_PASSWORD=os.environ["IMS_PASSWORD"],
    OS_USER_DOMAIN_NAME="acme",
    OS_PROJECT_NAME=REGION,
    OS_PROJECT_DOMAIN_NAME="acme",
    OS_REGION_NAME=REGION,
)


def glance(*args):
    done = subprocess.run([GLANCE, *args], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, (args, done.stdout, done.stderr)
    return done.stdout


def glance_json(*args):
    # The table output has one "| Property | Value |" row per field.
    rows = {}
    for line in glance(*args).splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 2 and cells[0] not in ("Property", ""):
            rows[cells[0]] = cells[1]
    return rows


made = glance_json("image-create", "--name", "cli-image", "--disk-format", "qcow2", "--container-format", "bare", "--file", FILE)
cli_id = made["id"]
deadline = time.time() + 120
while glance_json("image-show", cli_id)["status"] in ("queued", "saving"):
    assert time.time() < deadline, "the CLI's image never became active"
    time.sleep(0.3)
assert glance_json("image-show", cli_id)["status"] == "active"
listing = glance("image-list", "--limit", "3")
assert "cli-image" in glance("image-list", "--property-filter", "name=cli-image"), listing
out = os.path.join(home, "download.qcow2")
glance("image-download", "--file", out, cli_id)
with open(out, "rb") as downloaded_file:
    assert downloaded_file.read() == original, "the CLI's download differs from the upload"
glance("image-tag-update", cli_id, "from-cli")
assert "from-cli" in glance_json("image-show", cli_id)["tags"]
glance("image-tag-delete", cli_id, "from-cli")
glance("image-update", "--name", "cli-renamed", cli_id)
assert glance_json("image-show", cli_id)["name"] == "cli-renamed"
member_out = glance("member-create", cli_id, carol.current_project_id)
assert "pending" in member_out, member_out
assert carol.current_project_id in glance("member-list", "--image-id", cli_id)
glance("image-delete", cli_id)
missing = subprocess.run([GLANCE, "image-show", cli_id], env=env, capture_output=True, text=True, timeout=120)
assert missing.returncode != 0, missing.stdout

step("keystone: a wrong password is refused")
try:
    openstack.connect(
        auth_url=f"{BASE}/v3", username="alice", password="wrong-password", user_domain_name="acme",
        project_name=REGION, project_domain_name="acme", region_name=REGION,
    ).image.get_image(cli_id)
except Unauthorized as error:
    assert "password is wrong" in str(error), error
else:
    raise AssertionError("a wrong password logged in")

print("openstack clients: every step passed")
