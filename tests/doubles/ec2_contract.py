"""What the real EC2 does and moto does not: the rules the AWS double (moto_server.py) adds,
as data, one row per rule, each with its source.

Sources:

- ERRORS: "Error codes for the Amazon EC2 API",
  https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html (client errors
  come with a 400-series HTTP status, server errors with a 500-series one).
- MODEL: botocore's EC2 service model (botocore/data/ec2/2016-11-15/service-2.json), the
  documentation of the operation or member named in the row; checked against botocore 1.44.
- The wording of the messages is what users reported EC2 to answer (the issue cited in the
  row); the role never parses a message, it only passes it on.

Settling: real resources pass through transitional states (a volume is ``creating``, an
instance ``pending``, a snapshot ``pending``, an attachment ``attaching``) before they can be
used. The double makes each take SETTLE_POLLS reads of its Describe call, counted in polls,
never in seconds, so that a caller that does not wait is caught and one that does costs no
time (tests/integration/aws/waiter_pause skips botocore's waiter sleeps in the tests).
"""

from __future__ import annotations

from dataclasses import dataclass

ERRORS = "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html"
MODEL = "botocore EC2 model (service-2.json, 2016-11-15)"


@dataclass(frozen=True)
class Refusal:
    """An error RunInstances answers with, as the real EC2 sends it."""

    code: str
    status: int  # the HTTP status
    message: str  # {type}, {zone}, {subnet} are filled in
    source: str


# RunInstances' spot, capacity and quota refusals. The injected fault names the code; the
# double answers with the status and message here.
REFUSALS: dict[str, Refusal] = {
    r.code: r
    for r in (
        Refusal(
            "InsufficientInstanceCapacity",
            500,
            "We currently do not have sufficient {type} capacity in the Availability Zone you "
            "requested ({zone}). Our system will be working on provisioning additional "
            "capacity. You can currently get {type} capacity by not specifying an Availability "
            "Zone in your request or choosing {others}.",
            f"{ERRORS} (server error codes); message and HTTP 500: "
            "github.com/ansible-collections/amazon.aws/issues/1038, "
            "github.com/nib-health-funds/hammertime/issues/29",
        ),
        Refusal(
            "MaxSpotInstanceCountExceeded",
            400,
            "Max spot instance count exceeded",
            f"{ERRORS} (client error codes for specific actions)",
        ),
        Refusal(
            "SpotMaxPriceTooLow",
            400,
            "Your Spot request price of 0.001 is lower than the minimum required Spot request "
            "fulfillment price of 0.0208.",
            f"{ERRORS} (client error codes for specific actions)",
        ),
        Refusal(
            "UnfulfillableCapacity",
            400,
            "There is not enough spare capacity to fulfill your request for Spot Instances.",
            f"{ERRORS} (client error codes for specific actions)",
        ),
        Refusal(
            "InstanceLimitExceeded",
            400,
            "Your quota allows for 0 more running instance(s). You requested at least 1.",
            f"{ERRORS} (client error codes for specific actions)",
        ),
        Refusal(
            "VcpuLimitExceeded",
            400,
            "You have requested more vCPU capacity than your current vCPU limit of 0 allows for "
            "the instance bucket that the specified instance type belongs to. Please visit "
            "http://aws.amazon.com/contact-us/ec2-request to request an adjustment to this limit.",
            f"{ERRORS} (client error codes for specific actions)",
        ),
        Refusal(
            "Unsupported",
            400,
            "Your requested instance type ({type}) is not supported in your requested "
            "Availability Zone ({zone}). Please retry your request by not specifying an "
            "Availability Zone or choosing {others}.",
            f"{ERRORS} (client error codes for specific actions); message: "
            "github.com/fedora-copr/copr/issues/2840",
        ),
        Refusal(
            "InsufficientFreeAddressesInSubnet",
            400,
            "There are not enough free addresses in subnet '{subnet}' to satisfy the requested "
            "number of instances.",
            f"{ERRORS} (client error codes for specific actions)",
        ),
    )
}


@dataclass(frozen=True)
class Rule:
    """A documented precondition the double enforces; code is what EC2 answers."""

    name: str
    code: str
    source: str


RULES: dict[str, Rule] = {
    r.name: r
    for r in (
        Rule(
            "gp3 size",
            "InvalidParameterValue",
            f"{MODEL}, CreateVolumeRequest.Size: gp3 1 - 65,536 GiB",
        ),
        Rule(
            "gp3 iops",
            "InvalidParameterValue",
            f"{MODEL}, CreateVolumeRequest.Iops: gp3 3,000 (default) - 80,000",
        ),
        Rule(
            "gp3 throughput",
            "InvalidParameterValue",
            f"{MODEL}, CreateVolumeRequest.Throughput: 125 - 2000 MiB/s",
        ),
        Rule(
            "restored size",
            "InvalidParameterValue",
            f"{MODEL}, CreateVolumeRequest.Size: with a snapshot, a size equal to or larger "
            "than the snapshot's",
        ),
        Rule(
            "attach an available volume",
            "IncorrectState",
            f"{ERRORS} (IncorrectState: the resource is in an incorrect state for the request); "
            "a volume in state creating cannot be attached yet",
        ),
        Rule(
            "attach to a running or stopped instance",
            "IncorrectInstanceState",
            f"{MODEL}, AttachVolume: attaches a volume to a running or stopped instance",
        ),
        Rule(
            "restore from a completed snapshot",
            "IncorrectState",
            f"{ERRORS} (IncorrectState); a pending snapshot is not yet usable",
        ),
        # Not a refusal: DeleteSnapshot refuses only a snapshot of a registered AMI's root
        # device, so deleting the snapshot a kept volume was restored from is allowed (moto
        # agrees; tests/unit/test_ec2_double.py holds it to that).
        Rule(
            "delete a snapshot a volume was restored from",
            "",
            f"{MODEL}, DeleteSnapshot: 'You cannot delete a snapshot of the root device of an "
            "EBS volume used by a registered AMI'; nothing else refuses",
        ),
    )
}

GP3_SIZE_GIB = (1, 65536)
GP3_IOPS = (3000, 80000)
GP3_THROUGHPUT_MIBS = (125, 2000)

# How many reads of its Describe call a new resource takes to settle (1: the first read).
SETTLE_POLLS = 3
# Which Describe calls count as a read of which kind of resource.
SETTLE_READS: dict[str, tuple[str, ...]] = {
    "instances": ("DescribeInstances", "DescribeInstanceStatus"),
    "volumes": ("DescribeVolumes",),
    "attachments": ("DescribeVolumes",),
    "snapshots": ("DescribeSnapshots",),
}
