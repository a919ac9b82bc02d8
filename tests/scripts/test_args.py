"""Argument parsing of both scripts and the disk-choice syntax."""

from __future__ import annotations

import argparse

import pytest
from mlbox_cli import delete, start
from mlbox_cli.choices import DiskChoice, parse_cidr, parse_disk, parse_name
from mlbox_cli.errors import UsageError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("new", DiskChoice("new")),
        ("NEW", DiskChoice("new")),
        ("existing", DiskChoice("existing")),
        ("existing:d-bp1abc", DiskChoice("existing", "d-bp1abc")),
        ("snapshot", DiskChoice("snapshot")),
        ("snapshot:latest", DiskChoice("snapshot", "latest")),
        ("snapshot:snap-0123abcd", DiskChoice("snapshot", "snap-0123abcd")),
        (
            "existing:/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/disks/d1",
            DiskChoice(
                "existing",
                "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/disks/d1",
            ),
        ),
    ],
)
def test_disk_choices_parse(text: str, expected: DiskChoice) -> None:
    assert parse_disk(text) == expected


@pytest.mark.parametrize(
    "text", ["", "old", "new:d-1", "existing:latest", "snapshot:has space", "disk:d-1"]
)
def test_bad_disk_choices_are_refused(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        parse_disk(text)


@pytest.mark.parametrize(
    ("choice", "variables"),
    [
        (DiskChoice("new"), {"workbench_disk_source": "new"}),
        (
            DiskChoice("existing", "d-1"),
            {"workbench_disk_source": "existing", "workbench_disk_id": "d-1"},
        ),
        (
            DiskChoice("snapshot", "latest"),
            {"workbench_disk_source": "snapshot", "workbench_snapshot_id": "latest"},
        ),
    ],
)
def test_disk_choice_becomes_contract_variables(choice: DiskChoice, variables: dict) -> None:
    assert choice.extravars() == variables
    assert choice.complete


def test_a_bare_source_is_incomplete() -> None:
    assert not DiskChoice("snapshot").complete
    assert not DiskChoice("existing").complete


@pytest.mark.parametrize("name", ["mlbox", "exp-2", "a1"])
def test_good_names(name: str) -> None:
    assert parse_name(name) == name


@pytest.mark.parametrize("name", ["m", "2box", "ML", "my_box", "x" * 32])
def test_bad_names(name: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        parse_name(name)


def test_cidr_is_normalised() -> None:
    assert parse_cidr("203.0.113.7") == "203.0.113.7/32"
    assert parse_cidr("10.1.2.3/8") == "10.0.0.0/8"
    with pytest.raises(argparse.ArgumentTypeError):
        parse_cidr("not-an-address")


def test_start_defaults() -> None:
    args = start.build_parser().parse_args([])
    assert args.cloud == "local"
    assert args.name == "mlbox"
    assert args.disk is None
    assert not args.yes and args.verbose == 0
    assert not args.no_spot and not args.no_spot_fallback and not args.no_configure


def test_start_takes_every_flag() -> None:
    args = start.build_parser().parse_args(
        [
            "--cloud=aliyun",
            "--name=exp2",
            "--disk=snapshot:latest",
            "--disk-size=50",
            "--instance-type=ecs.gn6i-c4g1.xlarge",
            "--region=cn-hongkong",
            "--zone=cn-hongkong-b",
            "--no-spot",
            "--no-spot-fallback",
            "--allowed-cidr=203.0.113.7",
            "--notebook-port=9999",
            "--no-configure",
            "--generate-password",
            "--state-dir=/tmp/s",
            "--yes",
            "-vv",
        ]
    )
    variables = start.provision_vars(args, args.disk, args.instance_type)
    assert variables == {
        "workbench_disk_source": "snapshot",
        "workbench_snapshot_id": "latest",
        "workbench_disk_size_gb": 50,
        "workbench_instance_type": "ecs.gn6i-c4g1.xlarge",
        "workbench_zone": "cn-hongkong-b",
        "workbench_allowed_cidr": "203.0.113.7/32",
        "workbench_notebook_port": 9999,
        "workbench_spot": False,
        "workbench_spot_fallback": False,
        "workbench_configure": False,
    }
    assert args.verbose == 2 and args.yes and args.generate_password


def test_start_passes_only_what_was_set() -> None:
    args = start.build_parser().parse_args(["--disk", "new"])
    assert start.provision_vars(args, args.disk, None) == {"workbench_disk_source": "new"}


@pytest.mark.parametrize(
    "argv",
    [
        ["--cloud", "gcp"],
        ["--disk", "old"],
        ["--disk-size", "0"],
        ["--name", "Bad_Name"],
        ["--notebook-port", "70000"],
    ],
)
def test_start_bad_usage_exits_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        start.build_parser().parse_args(argv)
    assert exited.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_world_open_cidr_needs_allow_world() -> None:
    args = start.build_parser().parse_args(["--allowed-cidr", "0.0.0.0/0"])
    with pytest.raises(UsageError, match="--allow-world"):
        start.check_args(args)
    args = start.build_parser().parse_args(["--allowed-cidr", "0.0.0.0/0", "--allow-world"])
    start.check_args(args)
    assert start.provision_vars(args, DiskChoice("new"), None)["workbench_allow_world"] is True


def test_disk_size_with_an_existing_disk_is_refused() -> None:
    args = start.build_parser().parse_args(["--disk", "existing:d-1", "--disk-size", "50"])
    with pytest.raises(UsageError):
        start.check_args(args)


def test_delete_flags() -> None:
    parser = delete.build_parser()
    args = parser.parse_args([])
    assert args.snapshot is None and args.delete_disk is None and args.keep_snapshots is None
    args = parser.parse_args(["--snapshot", "--delete-disk", "--keep-snapshots", "0", "--yes"])
    assert delete.teardown_vars(args, True, True) == {
        "workbench_snapshot_on_delete": True,
        "workbench_delete_disk": True,
        "workbench_keep_snapshots": 0,
    }
    args = parser.parse_args(["--no-snapshot", "--no-delete-disk"])
    assert args.snapshot is False and args.delete_disk is False


@pytest.mark.parametrize("module", [start, delete])
def test_help_documents_examples_credentials_and_exit_codes(
    module: object, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        module.build_parser().parse_args(["--help"])  # type: ignore[attr-defined]
    assert exited.value.code == 0
    text = capsys.readouterr().out
    for needle in (
        "examples:",
        "ALIYUN_ACCESS_KEY_ID",
        "ALICLOUD_ACCESS_KEY",
        "AWS_PROFILE",
        "AZURE_SUBSCRIPTION_ID",
        "exit codes:",
        "130",
        "--yes",
        "--state-dir",
    ):
        assert needle in text, needle
