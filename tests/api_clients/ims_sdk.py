"""Drives the console's IMS API with Huawei's own, unmodified `huaweicloudsdkims` SDK (from PyPI).

Run by tests/api_clients.rs against a real server on loopback, which passes (in the environment)
the endpoint, three users' access keys and project ids, and a bucket holding a qcow2 file. Every
step prints what it did; any failure raises, and the exit status tells the Rust test.
"""

import os
import sys
import time

from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkcore.http.http_config import HttpConfig
from huaweicloudsdkims.v2 import *  # noqa: F401,F403 (the SDK's request and model classes)
from huaweicloudsdkims.v2 import ImsClient

ENDPOINT = os.environ["IMS_ENDPOINT"]
BUCKET = os.environ["IMS_BUCKET"]
OBJECT = os.environ["IMS_OBJECT"]


def client(prefix, sk=None, project=None):
    config = HttpConfig.get_default_config()
    config.timeout = 30
    credentials = BasicCredentials(
        os.environ[f"{prefix}_AK"], sk or os.environ[f"{prefix}_SK"], project or os.environ[f"{prefix}_PROJECT"]
    )
    return ImsClient.new_builder().with_credentials(credentials).with_endpoint(ENDPOINT).with_http_config(config).build()


alice, carol, bob = client("ALICE"), client("CAROL"), client("BOB")


def step(text):
    print(f"--- {text}", flush=True)


def expect_error(call, status, code, says=""):
    try:
        call()
    except ClientRequestException as error:
        assert error.status_code == status, (error.status_code, error.error_code, error.error_msg)
        assert error.error_code == code, (error.error_code, error.error_msg)
        assert says in error.error_msg, (says, error.error_msg)
        print(f"    refused as expected: {status} {code} {error.error_msg}")
        return
    raise AssertionError(f"expected {status} {code}, the call succeeded")


def wait_job(sdk, job_id, progress=False):
    deadline = time.time() + 180
    while time.time() < deadline:
        if progress:
            job = sdk.show_job_progress(ShowJobProgressRequest(job_id=job_id))
        else:
            job = sdk.show_job(ShowJobRequest(job_id=job_id))
        if job.status in ("SUCCESS", "FAIL"):
            assert job.status == "SUCCESS", (job.status, job.fail_reason)
            return job
        time.sleep(0.3)
    raise AssertionError(f"job {job_id} did not finish")


step("create an image from a bucket file, and poll its job")
created = alice.create_image(
    CreateImageRequest(
        body=CreateImageRequestBody(
            name="sdk-image",
            description="made by huaweicloudsdkims",
            image_url=f"{BUCKET}:{OBJECT}",
            min_disk=40,
            os_version="Ubuntu 22.04 server 64bit",
            image_tags=[TagKeyValue(key="team", value="platform")],
        )
    )
)
job = wait_job(alice, created.job_id)
image_id = job.entities.image_id
assert image_id, job
assert job.job_type == "imsImportImageJob", job.job_type
progress = wait_job(alice, created.job_id, progress=True)
assert progress.entities.image_id == image_id

step("list and show it")
listed = alice.list_images(ListImagesRequest(imagetype="private", id=image_id))
assert [image.id for image in listed.images] == [image_id], listed
image = listed.images[0]
assert image.status == "active" and image.imagetype == "private" and image.os_type == "Linux", image
assert image.min_disk == 40 and image.protected is False and image.platform == "Ubuntu", image
shown = alice.glance_show_image(GlanceShowImageRequest(image_id=image_id))
assert shown.name == "sdk-image" and shown.description == "made by huaweicloudsdkims", shown

step("list with filters and paging")
page = alice.list_images(ListImagesRequest(imagetype="private", limit=2, sort_key="name", sort_dir="asc"))
assert len(page.images) == 2 and page.page_info.next_marker == page.images[1].id, page
rest = alice.list_images(ListImagesRequest(imagetype="private", limit=2, sort_key="name", sort_dir="asc", marker=page.page_info.next_marker))
assert rest.images and rest.images[0].name >= page.images[1].name, rest
gold = alice.list_images(ListImagesRequest(imagetype="gold", platform="Ubuntu", limit=5))
assert gold.images and all(image.platform == "Ubuntu" and image.imagetype == "gold" for image in gold.images), gold

step("update it")
updated = alice.update_image(
    UpdateImageRequest(
        image_id=image_id,
        body=[
            UpdateImageRequestBody(op="replace", path="/name", value="sdk-renamed"),
            UpdateImageRequestBody(op="replace", path="/min_ram", value="1024"),
        ],
    )
)
assert updated.name == "sdk-renamed" and updated.min_ram == 1024, updated

step("tags: add, batch, list, delete, filter")
alice.add_image_tag(AddImageTagRequest(image_id=image_id, body=AddImageTagRequestBody(tag=ResourceTag(key="env", value="prod"))))
alice.batch_add_or_delete_tags(
    BatchAddOrDeleteTagsRequest(
        image_id=image_id,
        body=BatchAddOrDeleteTagsRequestBody(action="create", tags=[ResourceTag(key="sdkcheck", value="ok"), ResourceTag(key="tmp", value="x")]),
    )
)
alice.delete_image_tag(DeleteImageTagRequest(image_id=image_id, key="tmp"))
tags = alice.list_image_tags(ListImageTagsRequest(image_id=image_id)).tags
assert sorted((tag.key, tag.value) for tag in tags) == [("env", "prod"), ("sdkcheck", "ok"), ("team", "platform")], tags
project_tags = alice.list_images_tags(ListImagesTagsRequest()).tags
assert any(tag.key == "env" and "prod" in tag.values for tag in project_tags), project_tags
found = alice.list_image_by_tags(
    ListImageByTagsRequest(body=ListImageByTagsRequestBody(action="filter", tags=[Tags(key="sdkcheck", values=["ok"])], limit="10"))
)
assert found.total_count == 1 and found.resources[0].resource_id == image_id, found
glance_tagged = alice.list_images(ListImagesRequest(tag="sdkcheck.ok"))
assert [image.id for image in glance_tagged.images] == [image_id], glance_tagged

v1_tags = alice.list_tags(ListTagsRequest(imagetype="private", status="active", limit=100)).tags
assert "sdkcheck.ok" in v1_tags and "team.platform" in v1_tags, v1_tags
by_flavor = alice.list_images(ListImagesRequest(imagetype="gold", flavor_id="s6.small.1", limit=50))
assert by_flavor.images and all(image.min_ram <= 1024 and image.support_arm == "false" for image in by_flavor.images), by_flavor

step("quota")
quota = alice.show_image_quota(ShowImageQuotaRequest())
images_quota = [resource for resource in quota.quotas.resources if resource.type == "image"][0]
assert images_quota.used >= 1 and images_quota.quota >= images_quota.used, quota

step("share with another account's project, accepted with that project's key")
shared = alice.batch_add_members(
    BatchAddMembersRequest(body=BatchAddMembersRequestBody(images=[image_id], projects=[os.environ["CAROL_PROJECT"]]))
)
wait_job(alice, shared.job_id)
pending = carol.list_images(ListImagesRequest(imagetype="shared", member_status="pending"))
assert image_id in [image.id for image in pending.images], pending
answered = carol.batch_update_members(
    BatchUpdateMembersRequest(
        body=BatchUpdateMembersRequestBody(images=[image_id], project_id=os.environ["CAROL_PROJECT"], status="accepted")
    )
)
wait_job(carol, answered.job_id)
accepted = carol.list_images(ListImagesRequest(imagetype="shared"))
assert image_id in [image.id for image in accepted.images], accepted
members = alice.glance_list_image_members(GlanceListImageMembersRequest(image_id=image_id))
assert [(member.member_id, member.status) for member in members.members] == [(os.environ["CAROL_PROJECT"], "accepted")], members

step("export to a bucket")
exported = alice.export_image(
    ExportImageRequest(image_id=image_id, body=ExportImageRequestBody(bucket_url=f"{BUCKET}:exported/sdk.qcow2", file_format="qcow2"))
)
export_job = wait_job(alice, exported.job_id)
assert export_job.job_type == "imsNativeExportImageJob", export_job

step("replicate within the region, and to the account's project in another region")
copied = alice.copy_image_in_region(
    CopyImageInRegionRequest(image_id=image_id, body=CopyImageInRegionRequestBody(name="sdk-copy", description="a replica"))
)
copy_job = wait_job(alice, copied.job_id)
assert copy_job.job_type == "imsCopyImageInRegionJob", copy_job
copy = alice.glance_show_image(GlanceShowImageRequest(image_id=copy_job.entities.image_id))
assert (copy.status, copy.name, copy.description) == ("active", "sdk-copy", "a replica"), copy
crossed = alice.copy_image_cross_region(
    CopyImageCrossRegionRequest(
        image_id=image_id,
        body=CopyImageCrossRegionRequestBody(
            name="sdk-hk", region="ap-southeast-1", project_name="ap-southeast-1", agency_name="ims_admin_agency"
        ),
    )
)
cross_job = wait_job(alice, crossed.job_id)
assert cross_job.job_type == "imsCrossRegionCopyImageJob", cross_job
alice_hk = client("ALICE", project=os.environ["ALICE_HK_PROJECT"])
replica = alice_hk.glance_show_image(GlanceShowImageRequest(image_id=cross_job.entities.image_id))
assert (replica.status, replica.name) == ("active", "sdk-hk"), replica
assert copy.checksum == replica.checksum, (copy.checksum, replica.checksum)
expect_error(lambda: alice.copy_image_cross_region(
    CopyImageCrossRegionRequest(image_id=image_id, body=CopyImageCrossRegionRequestBody(
        name="x", region="cn-north-4", project_name="cn-north-4", agency_name="ims_admin_agency"))), 400, "IMG.0001", "already in")
expect_error(lambda: alice.copy_image_in_region(
    CopyImageInRegionRequest(image_id=image_id, body=CopyImageInRegionRequestBody(name="enc", cmk_id="a-key"))), 400, "IMG.0050")
alice_hk.glance_delete_image(GlanceDeleteImageRequest(image_id=replica.id))
alice.glance_delete_image(GlanceDeleteImageRequest(image_id=copy.id))

step("register: a record by glance_create_image_metadata, then a bucket file into it")
record = alice.glance_create_image_metadata(
    GlanceCreateImageMetadataRequest(
        body=GlanceCreateImageMetadataRequestBody(
            name="sdk-registered", disk_format="qcow2", container_format="bare", min_disk=1, protected=False,
            tags=["registered"], visibility="private", os_version="Ubuntu 22.04 server 64bit",
        )
    )
)
assert record.status == "queued" and record.tags == ["registered"], record
registered = alice.register_image(RegisterImageRequest(image_id=record.id, body=RegisterImageRequestBody(image_url=f"{BUCKET}:{OBJECT}")))
wait_job(alice, registered.job_id)
active = alice.glance_show_image(GlanceShowImageRequest(image_id=record.id))
assert active.status == "active" and active.os_version == "Ubuntu 22.04 server 64bit", active
alice.glance_delete_image(GlanceDeleteImageRequest(image_id=record.id))

step("refusals: another account, another project, a viewer, a wrong secret")
expect_error(lambda: carol.update_image(UpdateImageRequest(image_id=image_id, body=[UpdateImageRequestBody(op="replace", path="/name", value="stolen")])), 404, "IMG.0004")
expect_error(lambda: client("CAROL", project=os.environ["ALICE_PROJECT"]).list_images(ListImagesRequest(imagetype="private")), 403, "APIGW.0302")
expect_error(lambda: bob.glance_delete_image(GlanceDeleteImageRequest(image_id=image_id)), 403, "IMG.0003")
expect_error(lambda: client("ALICE", sk="WrongSecretKey0000000000000000000000000000").list_images(ListImagesRequest()), 401, "APIGW.0301", "signature")
viewer_list = bob.list_images(ListImagesRequest(imagetype="private", id=image_id))
assert [image.id for image in viewer_list.images] == [image_id], viewer_list

step("delete it")
alice.glance_delete_image(GlanceDeleteImageRequest(image_id=image_id))
expect_error(lambda: alice.glance_show_image(GlanceShowImageRequest(image_id=image_id)), 404, "IMG.0004")

print("huaweicloudsdkims: every step passed")
sys.exit(0)
