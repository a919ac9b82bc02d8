"""The ECS rules the double enforces, as data: one row per rule, each with its source.

Sources, cited by key in every row:
  sdk:<Model>.<field>  the generated documentation of that field in the vendor's SDK,
                       alibabacloud_ecs20140526 7.11.8 (API 2014-05-26) or
                       alibabacloud_vpc20160428 7.2.2 (the same text as the API reference)
  api:<Action>         the ECS API reference page of the action: its description and its
                       "Error codes" table (HTTP status, code and message are copied from it)
  family:<name>        the ECS "Instance families" page, the family's "Storage" paragraph
  gardener-codes       gardener/machine-controller-manager-provider-alicloud,
                       pkg/alicloud/errors/codes.go: the RunInstances refusals its authors map
                       to "resource exhausted", each with the API's message
Where a source leaves a rule open, the stricter reading is taken and the row says so.

Every rule's `code`, `status` and `message` are what the API answers when it fires;
tests/unit/doubles/test_aliyun_rules.py makes each one fire.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    code: str
    status: int
    message: str
    source: str
    note: str = ""


RULES: dict[str, Rule] = {
    # ---- key pairs
    "key-type": Rule(
        "InvalidPublicKeyBody.Malformed",
        400,
        "The specified PublicKeyBody is wrongly formed.",
        "api:ImportKeyPair",
        "Supported key types: rsa, dsa, ssh-rsa, ssh-dss, ecdsa (ssh-ed25519 is not among them).",
    ),
    "key-pair-name": Rule(
        "InvalidKeyPairName.Malformed",
        400,
        "The specified KeyPairName is wrongly formed.",
        "sdk:ImportKeyPairRequest.key_pair_name",
        "2-128 characters, starts with a letter, not http:// or https://; letters, digits,"
        " colons, underscores, periods, hyphens.",
    ),
    "key-pair-exists": Rule(
        "KeyPair.AlreadyExist",
        400,
        "The key pair already exist.",
        "api:ImportKeyPair",
    ),
    # ---- names
    "disk-name": Rule(
        "InvalidDiskName.Malformed",
        400,
        "The specified disk name is wrongly formed.",
        "sdk:CreateDiskRequest.disk_name",
        "2-128 characters, starts with a letter; letters, digits, colons, underscores,"
        " periods, hyphens.",
    ),
    "snapshot-name": Rule(
        "InvalidSnapshotName.Malformed",
        400,
        "The specified SnapshotName is wrongly formed.",
        "sdk:CreateSnapshotRequest.snapshot_name; api:CreateSnapshot",
        "2-128 characters, starts with a letter, not http:// or https://, and not `auto`"
        " (the prefix of automatic snapshots).",
    ),
    "instance-name": Rule(
        "InvalidInstanceName.Malformed",
        400,
        "The specified parameter InstanceName is not valid.",
        "sdk:RunInstancesRequest.instance_name",
        "2-128 characters; letters, digits, colons, underscores, periods, hyphens. Stricter"
        " than the text (which allows a digit first): starts with a letter.",
    ),
    "host-name": Rule(
        "InvalidHostName.Malformed",
        400,
        "The specified parameter HostName is not valid.",
        "sdk:RunInstancesRequest.host_name; api:RunInstances",
        "Linux: 2-64 characters, segments of letters, digits and hyphens between periods; no"
        " period or hyphen first, last or twice in a row.",
    ),
    "security-group-name": Rule(
        "InvalidSecurityGroupName.Malformed",
        400,
        "The specified SecurityGroupName is wrongly formed.",
        "sdk:CreateSecurityGroupRequest.security_group_name",
        "2-128 characters, starts with a letter, not http:// or https://.",
    ),
    # ---- disk categories and sizes
    "disk-category-family": Rule(
        "InvalidDiskCategory.NotSupported",
        403,
        "The specified disk category is not support the specified instance type.",
        "api:RunInstances; family:g7, family:c7, family:r7 ('Supports only ESSDs')",
        "A system disk (RunInstances) or a data disk (AttachDisk) of a category the instance"
        " family does not take.",
    ),
    "system-disk-size": Rule(
        "InvalidSystemDiskSize.ValueNotSupported",
        400,
        "The specified parameter SystemDisk.Size is not valid.",
        "sdk:RunInstancesRequestSystemDisk.size; api:RunInstances",
    ),
    "system-disk-image-size": Rule(
        "InvalidSystemDiskSize.LessThanImageSize",
        404,
        "The specified parameter SystemDisk.Size is less than the image size.",
        "sdk:RunInstancesRequestSystemDisk.size; api:RunInstances",
    ),
    "data-disk-size": Rule(
        "InvalidDataDiskSize.ValueNotSupported",
        400,
        "The specified parameter Size is beyond the permitted range.",
        "sdk:CreateDiskRequest.size; api:CreateDisk",
        "The range depends on the category and, for cloud_essd, the performance level.",
    ),
    "performance-level": Rule(
        "InvalidPerformanceLevel.Malformed",
        400,
        "The specified parameter PerformanceLevel is not valid.",
        "sdk:CreateDiskRequest.performance_level",
        "PL0..PL3, for cloud_essd only (stricter: the API ignores it elsewhere).",
    ),
    "image-exists": Rule(
        "InvalidImageId.NotFound",
        404,
        "The specified ImageId does not exist.",
        "api:RunInstances",
    ),
    "image-instance-type": Rule(
        "ImageNotSupportInstanceType",
        403,
        "The specified image does not support the specified InstanceType.",
        "api:RunInstances",
        "An arm64 image on an x86_64 type or the other way round.",
    ),
    "instance-type-exists": Rule(
        "InvalidInstanceType.ValueNotSupported",
        400,
        "The specified InstanceType does not exist or beyond the permitted range.",
        "api:RunInstances",
    ),
    # ---- snapshots
    "snapshot-never-attached": Rule(
        "IncorrectDiskStatus.NeverAttached",
        403,
        "The specified disk has never been attached to any instance.",
        "api:CreateSnapshot",
    ),
    "snapshot-in-progress": Rule(
        "IncorrectDiskStatus.CreatingSnapshot",
        403,
        "A previous snapshot creation is in process.",
        "api:CreateSnapshot",
    ),
    "snapshot-disk-status": Rule(
        "IncorrectDiskStatus",
        403,
        "The current disk status does not support this operation.",
        "api:CreateSnapshot",
        "The disk is being created, attached or detached.",
    ),
    "snapshot-instance-status": Rule(
        "IncorrectInstanceStatus",
        400,
        "The current status of the resource does not support this operation.",
        "api:CreateSnapshot",
        "The disk's instance is neither Running nor Stopped.",
    ),
    "snapshot-quota": Rule(
        "QuotaExceed.Snapshot",
        403,
        "The snapshot quota exceeds.",
        "api:CreateSnapshot",
        "At most 256 manual snapshots per disk.",
    ),
    "snapshot-created-disk": Rule(
        "SnapshotCreatedDisk",
        403,
        "The snapshot has been used to create disk(s).",
        "api:DeleteSnapshot",
        "Unless Force=true (the disk can then no longer be re-initialized).",
    ),
    "snapshot-not-ready": Rule(
        "InvalidSnapshot.NotReady",
        403,
        "The specified snapshot has not completed yet.",
        "api:CreateDisk",
        "A disk can only be made from an accomplished snapshot.",
    ),
    # ---- attach, detach, delete
    "attach-disk-status": Rule(
        "IncorrectDiskStatus",
        403,
        "The current disk status does not support this operation.",
        "api:AttachDisk",
        "The disk must be Available.",
    ),
    "attach-instance-status": Rule(
        "IncorrectInstanceStatus",
        403,
        "The current status of the resource does not support this operation.",
        "api:AttachDisk",
        "The instance must be Running or Stopped.",
    ),
    "attach-zone": Rule(
        "InvalidDiskId.NotInSameZone",
        403,
        "The specified disk and instance are not in the same zone.",
        "api:AttachDisk",
    ),
    "attach-portable": Rule(
        "InvalidDiskIds.NotPortable",
        404,
        "The specified DiskId is not portable.",
        "api:AttachDisk; api:RunInstances",
    ),
    "attach-disk-quota": Rule(
        "InstanceDiskNumber.LimitExceed",
        400,
        "The total number of specified disk in an instance exceeds.",
        "api:AttachDisk; api:RunInstances",
        "At most 16 data disks per instance (stricter than the 64 of some families).",
    ),
    "detach-disk-status": Rule(
        "IncorrectDiskStatus",
        403,
        "The current disk status does not support this operation.",
        "api:DetachDisk",
        "The disk must be In_use.",
    ),
    "detach-instance-status": Rule(
        "IncorrectInstanceStatus",
        403,
        "The current status of the resource does not support this operation.",
        "api:DetachDisk",
        "The instance must be Running or Stopped.",
    ),
    "delete-disk-status": Rule(
        "IncorrectDiskStatus",
        403,
        "The current disk status does not support this operation.",
        "api:DeleteDisk",
        "The disk must be Available.",
    ),
    "delete-instance-status": Rule(
        "IncorrectInstanceStatus",
        403,
        "The current status of the resource does not support this operation.",
        "api:DeleteInstance",
        "Only a Stopped instance, or a Running one with Force=true.",
    ),
    "delete-instance-initializing": Rule(
        "IncorrectInstanceStatus.Initializing",
        403,
        "The instance is initializing, please try again later.",
        "api:DeleteInstance",
        "An instance still Pending or Starting cannot be deleted.",
    ),
    # ---- network
    "vpc-has-vswitches": Rule(
        "DependencyViolation.VSwitch",
        400,
        "Specified VPC has vSwitches.",
        "api:DeleteVpc (VPC API)",
    ),
    "vswitch-in-use": Rule(
        "DependencyViolation",
        400,
        "Specified object has dependent resources.",
        "api:DeleteVSwitch (VPC API)",
    ),
    "security-group-in-use": Rule(
        "DependencyViolation",
        403,
        "There is still instance(s) in the specified security group.",
        "api:DeleteSecurityGroup",
    ),
}

# ---- the data the rules read

# ImportKeyPair: the OpenSSH key types ECS accepts (api:ImportKeyPair: rsa, dsa, ssh-rsa,
# ssh-dss, ecdsa).
KEY_TYPES = (
    "ssh-rsa",
    "ssh-dss",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
)

# The disk categories each instance family takes, system and data disks alike
# (family:<name>). g7, c7 and r7 "support only ESSDs": cloud_essd, and cloud_auto (ESSD
# AutoPL, an ESSD); the older g6 and gn6i take ultra disks and standard SSDs as well.
FAMILY_DISKS = {
    "ecs.g7": ("cloud_essd", "cloud_auto"),
    "ecs.c7": ("cloud_essd", "cloud_auto"),
    "ecs.r7": ("cloud_essd", "cloud_auto"),
    "ecs.g6": ("cloud_efficiency", "cloud_ssd", "cloud_essd"),
    "ecs.gn6i": ("cloud_efficiency", "cloud_ssd", "cloud_essd"),
}

# Instance types the double sells: family, vCPUs, memory (GiB), architecture.
INSTANCE_TYPES = {
    "ecs.g7.large": ("ecs.g7", 2, 8.0, "X86"),
    "ecs.g7.xlarge": ("ecs.g7", 4, 16.0, "X86"),
    "ecs.c7.large": ("ecs.c7", 2, 4.0, "X86"),
    "ecs.r7.large": ("ecs.r7", 2, 16.0, "X86"),
    "ecs.g6.large": ("ecs.g6", 2, 8.0, "X86"),
    "ecs.gn6i-c4g1.xlarge": ("ecs.gn6i", 4, 15.0, "X86"),
}

# Size limits in GiB, by category (and performance level for cloud_essd).
# Data disks: sdk:CreateDiskRequest.size. System disks: sdk:RunInstancesRequestSystemDisk.size.
DATA_DISK_SIZES = {
    ("cloud", ""): (5, 2000),
    ("cloud_efficiency", ""): (20, 32768),
    ("cloud_ssd", ""): (20, 32768),
    ("cloud_essd", "PL0"): (1, 65536),
    ("cloud_essd", "PL1"): (20, 65536),
    ("cloud_essd", "PL2"): (461, 65536),
    ("cloud_essd", "PL3"): (1261, 65536),
    ("cloud_auto", ""): (1, 65536),
    ("cloud_essd_entry", ""): (10, 32768),
}
SYSTEM_DISK_SIZES = {
    ("cloud", ""): (20, 500),
    ("cloud_essd", "PL0"): (1, 2048),
    ("cloud_essd", "PL1"): (20, 2048),
    ("cloud_essd", "PL2"): (461, 2048),
    ("cloud_essd", "PL3"): (1261, 2048),
    ("cloud_auto", ""): (1, 2048),
    ("cloud_efficiency", ""): (20, 2048),
    ("cloud_ssd", ""): (20, 2048),
    ("cloud_essd_entry", ""): (20, 2048),
}
PERFORMANCE_LEVELS = ("PL0", "PL1", "PL2", "PL3")
# Defaults when a parameter is left out: sdk:CreateDiskRequest.disk_category (cloud),
# .performance_level (PL1); sdk:RunInstancesRequestSystemDisk.category (cloud_efficiency,
# before the announced 2026 change for ESSD-only types, which the stricter reading keeps) and
# .size (max{40, image size}).
DEFAULT_DATA_CATEGORY = "cloud"
DEFAULT_SYSTEM_CATEGORY = "cloud_efficiency"
DEFAULT_PERFORMANCE_LEVEL = "PL1"
DEFAULT_SYSTEM_SIZE = 40

QUOTAS = {
    "snapshots_per_disk": 256,  # api:CreateSnapshot
    "data_disks_per_instance": 16,  # api:AttachDisk
}

_LETTER_NAME = r"[A-Za-z][A-Za-z0-9:_.\-]{1,127}"
NAMES = {
    "KeyPairName": re.compile(_LETTER_NAME),
    "DiskName": re.compile(_LETTER_NAME),
    "SnapshotName": re.compile(_LETTER_NAME),
    "InstanceName": re.compile(_LETTER_NAME),
    "SecurityGroupName": re.compile(_LETTER_NAME),
    "HostName": re.compile(r"(?=.{2,64}$)[A-Za-z0-9](?:[A-Za-z0-9]|[.\-](?=[A-Za-z0-9]))*"),
}
NAME_RULES = {
    "KeyPairName": "key-pair-name",
    "DiskName": "disk-name",
    "SnapshotName": "snapshot-name",
    "InstanceName": "instance-name",
    "SecurityGroupName": "security-group-name",
    "HostName": "host-name",
}


def name_ok(kind: str, value: str) -> bool:
    """Whether a name of that kind is one the API takes (NAMES; no http(s)://, no auto...)."""
    if value.startswith(("http://", "https://")):
        return False
    if kind == "SnapshotName" and value.lower().startswith("auto"):
        return False
    return NAMES[kind].fullmatch(value) is not None


# ---- the fault catalogue: refusals a test may inject (POST /_mlbox/faults), each as the
# API's error table states it. Codes in no source are not here, and cannot be injected.
@dataclass(frozen=True)
class Fault:
    status: int
    message: str
    source: str


FAULTS: dict[str, Fault] = {
    # Spot and capacity refusals of RunInstances (the role falls back to pay-as-you-go).
    "OperationDenied.NoStock": Fault(
        403,
        "The requested resource is sold out in the specified zone; try other types of"
        " resources or other regions and zones.",
        "api:RunInstances; gardener-codes",
    ),
    "Zone.NotOnSale": Fault(
        403,
        "The resource in the specified zone is no longer available for sale. Please try other"
        " regions and zones.",
        "api:RunInstances; gardener-codes",
    ),
    "ResourceNotAvailable": Fault(
        403,
        "Resource you requested is not available in this region or zone.",
        "gardener-codes",
    ),
    "InvalidResourceType.NotSupported": Fault(
        403,
        "This resource type is not supported; please try other resource types.",
        "gardener-codes (utils.go)",
    ),
    "InstanceType.Offline": Fault(
        403,
        "The specified instance type is offline or out of stock.",
        "api:RunInstances ('retired or available instances of this instance type are"
        " insufficient')",
    ),
    "OperationDenied": Fault(
        403,
        "The specified operation is denied.",
        "api:RunInstances (several causes share this code; the role treats it as a refusal"
        " of the spot launch and tries pay-as-you-go)",
    ),
    "InvalidSpotPriceLimit.LowerThanPublicPrice": Fault(
        400,
        'The specified parameter "spotPriceLimit" can\'t be lower than current public price.',
        "api:RunInstances",
    ),
    # Refusals no other market fixes: a clear error naming the fix.
    "InvalidInstanceType.ZoneNotSupported": Fault(
        403, "The specified zone does not support this instancetype.", "api:RunInstances"
    ),
    "Zone.NotOpen": Fault(
        403,
        "The specified zone is not granted to you to buy resources yet.",
        "api:RunInstances; gardener-codes",
    ),
    "OperationDenied.ZoneNotAllowed": Fault(
        403,
        "The creation of Instance to the specified Zone is not allowed.",
        "api:RunInstances; gardener-codes",
    ),
    "QuotaExceed.ElasticQuota": Fault(
        403,
        "The number of vCPUs assigned to the ECS instances has exceeded the quota in the zone."
        " Please sign-on to Alibaba Cloud Console, and submit a quota increase application.",
        "gardener-codes",
    ),
    "QuotaExceed.DiskCapacity": Fault(
        403,
        "The used capacity of disk type has exceeded the quota in the zone.",
        "gardener-codes",
    ),
    "QuotaExceed.PostPaidDisk": Fault(
        403, "Living postPaid disks quota exceeded.", "api:RunInstances; api:CreateDisk"
    ),
    "InvalidSpotAuthorized": Fault(
        400, "The specified Spot param is unauthorized.", "api:RunInstances"
    ),
    # The service's own troubles, any action.
    "Throttling": Fault(400, "Request was denied due to request throttling.", "api:common"),
    "ServiceUnavailable": Fault(
        503, "The request has failed due to a temporary failure of the server.", "api:common"
    ),
    "InternalError": Fault(
        500,
        "The request processing has failed due to some unknown error, exception or failure.",
        "api:RunInstances",
    ),
    "InvalidParameter": Fault(400, "The specified parameter is not valid.", "api:common"),
    # A RAM user without the action in its policy (a read-only price lookup refused).
    "Forbidden.RAM": Fault(
        403,
        "User not authorized to operate on the specified resource, or this API doesn't support"
        " RAM.",
        "api:common",
    ),
}
