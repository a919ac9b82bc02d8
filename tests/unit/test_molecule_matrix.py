"""The Debian release matrix of the molecule scenarios: names, images, and what CI runs."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted(p.parent.name for p in (ROOT / "extensions/molecule").glob("*/molecule.yml"))
SUITES = ("bullseye", "bookworm", "trixie")
NAME = "mlbox-matrix-${MOLECULE_SCENARIO_NAME}-${MLBOX_DEBIAN_SUITE:-bookworm}"
IMAGE = "localhost/mlbox-debian:${MLBOX_DEBIAN_SUITE:-bookworm}"


def platforms(path: Path) -> list[dict]:
    return (yaml.safe_load(path.read_text()) or {}).get("platforms", [])


def test_the_shared_platform_names_the_suite_and_takes_its_image() -> None:
    config = yaml.safe_load((ROOT / ".config/molecule/config.yml").read_text())
    assert [(p["name"], p["image"]) for p in config["platforms"]] == [(NAME, IMAGE)]
    assert list(config["provisioner"]["inventory"]["host_vars"]) == [NAME]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_a_scenario_of_its_own_platforms_keeps_name_and_image(scenario: str) -> None:
    """A scenario's platforms replace the shared ones whole: they must repeat both."""
    for platform in platforms(ROOT / "extensions/molecule" / scenario / "molecule.yml"):
        assert (platform["name"], platform["image"]) == (NAME, IMAGE)


def test_every_role_has_a_scenario() -> None:
    assert set(SCENARIOS) == {"data_disk", "git_keys", "jupyter", "libs", "tools"}


def make_targets(*goals: str) -> list[tuple[str, str]]:
    """(scenario, suite) of each molecule run `make -n GOAL` would start."""
    out = subprocess.run(
        ["make", "-n", "--no-print-directory", *goals],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return re.findall(r"MLBOX_DEBIAN_SUITE=(\w+) molecule test -s (\w+)", out)


def test_ci_runs_every_role_on_bookworm_and_libs_and_jupyter_on_all_three() -> None:
    runs = {(scenario, suite) for suite, scenario in make_targets("molecule")}
    expected = {(s, "bookworm") for s in SCENARIOS}
    expected |= {(s, suite) for s in ("libs", "jupyter") for suite in SUITES}
    assert runs == expected


def test_the_nightly_matrix_runs_the_rest_and_nothing_twice() -> None:
    ci = make_targets("molecule")
    nightly = make_targets("molecule-matrix")
    assert len(nightly) == len(set(nightly))
    assert not set(ci) & set(nightly)
    assert {(s, suite) for suite, s in ci + nightly} == {
        (s, suite) for s in SCENARIOS for suite in SUITES
    }
