"""The libs_probe module (the libs role's look at the host): GPU, environment, fast path."""

from __future__ import annotations

import os
import pwd
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ansible_collections.mlbox.workbench.plugins.modules import libs_probe as probe

ROOT = Path(__file__).resolve().parents[4]
H100_FACTS = ROOT / "tests/data/gpu/h100/gpu-facts.txt"
GPU_DATA = ROOT / "tests/data/gpu"
# PyTorch's CUDA builds of its current releases (the role's default libs_torch_cuda_variants).
CUDA_VARIANTS = ["12.6", "13.0", "13.2"]
VARIANTS = {"xgboost": "xgboost-cpu"}


def sections(text: str) -> dict[str, list[str]]:
    """The '## name' sections of a gpu-facts.txt capture."""
    found: dict[str, list[str]] = {}
    current = None
    for line in text.splitlines():
        if line.startswith("## "):
            current = found.setdefault(line[3:].strip(), [])
        elif current is not None:
            current.append(line)
    return found


def write_pci(root: Path, slot: str, vendor: str, device: str, pci_class: str) -> None:
    path = root / "sys/bus/pci/devices" / slot
    path.mkdir(parents=True)
    for name, value in (("vendor", vendor), ("device", device), ("class", pci_class)):
        (path / name).write_text(value + "\n")


def h100_tree(root: Path, *, driver: bool = True, dev: bool = True, pci: bool = True) -> Path:
    """A /proc, /dev and /sys tree as the captured H100 host shows them."""
    facts = sections(H100_FACTS.read_text())
    if driver:
        version = root / "proc/driver/nvidia/version"
        version.parent.mkdir(parents=True)
        version.write_text("\n".join(facts["driver"]) + "\n")
    if dev:
        (root / "dev").mkdir()
        for line in facts["dev"]:
            match = re.search(r"\s(/dev/nvidia[^/\s]*)$", line)
            if match:
                (root / match.group(1).lstrip("/")).touch()
    if pci:
        for line in facts["sys class"]:
            match = re.match(
                r"/sys/bus/pci/devices/(\S+) vendor=(\S+) device=(\S+) class=(\S+)", line
            )
            if match:
                write_pci(root, *match.groups())
    return root


def cpu_tree(root: Path) -> Path:
    """A cloud VM without a GPU: an Intel host bridge and virtio devices."""
    write_pci(root, "0000:00:00.0", "0x8086", "0x1237", "0x060000")
    for slot, device, pci_class in (("03", "0x1000", "0x020000"), ("04", "0x1001", "0x010000")):
        write_pci(root, f"0000:00:{slot}.0", "0x1af4", device, pci_class)
    (root / "dev").mkdir()
    (root / "dev/null").touch()
    return root


# --- GPU detection -------------------------------------------------------------------


def test_the_captured_h100_host_has_a_gpu(tmp_path: Path) -> None:
    evidence = probe.detect_gpu(str(h100_tree(tmp_path)))
    assert evidence == [
        "driver: NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  580.159.04  "
        "Release Build  (nixbld@)",
        "device node: /dev/nvidia0",
        "PCI 0000:00:06.0: vendor 0x10de device 0x2330 class 0x030200",
    ]


@pytest.mark.parametrize(
    "shown",
    [
        {"driver": False, "dev": False},  # a fresh image: the card is there, no driver yet
        {"pci": False, "dev": False},  # PCI hidden (a container), driver loaded
        {"pci": False, "driver": False},  # only the device node passed into a container
    ],
)
def test_any_one_sign_is_enough(tmp_path: Path, shown: dict[str, bool]) -> None:
    evidence = probe.detect_gpu(str(h100_tree(tmp_path, **shown)))
    assert len(evidence) == 1, evidence


def test_nvidiactl_and_uvm_alone_are_no_gpu(tmp_path: Path) -> None:
    (tmp_path / "dev").mkdir()
    for name in ("nvidiactl", "nvidia-uvm", "nvidia-uvm-tools"):
        (tmp_path / "dev" / name).touch()
    assert probe.detect_gpu(str(tmp_path)) == []


def test_a_cloud_vm_without_gpu(tmp_path: Path) -> None:
    assert probe.detect_gpu(str(cpu_tree(tmp_path))) == []


@pytest.mark.parametrize(
    ("pci_class", "is_gpu"),
    [
        ("0x030000", True),  # VGA controller (workstation cards)
        ("0x030200", True),  # 3D controller (data-centre cards)
        ("0x040300", False),  # the HDMI audio function of a graphics card
        ("0x068000", False),  # NVSwitch bridge
        ("0x0c0330", False),  # the USB-C controller of a Turing card
    ],
)
def test_only_nvidia_display_controllers_count(
    tmp_path: Path, pci_class: str, is_gpu: bool
) -> None:
    write_pci(tmp_path, "0000:41:00.1", "0x10de", "0x22ba", pci_class)
    assert bool(probe.detect_gpu(str(tmp_path))) is is_gpu


def test_a_display_controller_of_another_vendor_is_no_nvidia_gpu(tmp_path: Path) -> None:
    write_pci(tmp_path, "0000:00:02.0", "0x1234", "0x1111", "0x030000")  # QEMU stdvga
    assert probe.detect_gpu(str(tmp_path)) == []


@pytest.mark.parametrize(
    ("wanted", "tree", "present", "forced"),
    [
        ("auto", "h100", True, False),
        ("auto", "cpu", False, False),
        ("true", "cpu", True, True),
        ("false", "h100", False, True),
        ("True", "cpu", True, True),  # a YAML boolean arrives as "True"
        ("no", "h100", False, True),
    ],
)
def test_libs_gpu_overrides_detection(
    tmp_path: Path, wanted: str, tree: str, present: bool, forced: bool
) -> None:
    root = h100_tree(tmp_path) if tree == "h100" else cpu_tree(tmp_path)
    state = probe.gpu_state(wanted, str(root))
    assert (state["present"], state["forced"]) == (present, forced)


def test_an_unknown_gpu_setting_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="auto, true or false"):
        probe.gpu_state("maybe", str(tmp_path))


# --- package choice ------------------------------------------------------------------


def test_without_gpu_xgboost_becomes_xgboost_cpu_keeping_the_rest() -> None:
    packages = ["numpy", "xgboost>=2", "XGBoost[dask] ; python_version >= '3.10'", "xgboost-ray"]
    assert probe.choose_requirements(packages, gpu=False, cpu_variants=VARIANTS) == [
        "numpy",
        "xgboost-cpu>=2",
        "xgboost-cpu[dask] ; python_version >= '3.10'",
        "xgboost-ray",
    ]


def test_with_gpu_the_list_is_left_as_written() -> None:
    packages = ["numpy", "xgboost"]
    assert probe.choose_requirements(packages, gpu=True, cpu_variants=VARIANTS) == packages


@pytest.mark.parametrize(
    ("installed", "gpu", "clash"),
    [
        (["numpy", "xgboost"], False, ["xgboost"]),
        (["numpy", "xgboost-cpu"], False, []),
        (["numpy", "xgboost_cpu"], True, ["xgboost-cpu"]),
        (["numpy", "xgboost"], True, []),
        ([], True, []),
    ],
)
def test_the_other_build_clashes(installed: list[str], gpu: bool, clash: list[str]) -> None:
    assert probe.clashing(installed, gpu, VARIANTS) == clash


# --- the environment -----------------------------------------------------------------

PY = ".".join(str(part) for part in sys.version_info[:3])


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("env") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    return path


def test_no_environment_yet(tmp_path: Path) -> None:
    state = probe.venv_state(str(tmp_path / "venv"), PY)
    assert (state["exists"], state["usable"]) == (False, False)


def test_an_empty_directory_is_no_environment(tmp_path: Path) -> None:
    assert probe.venv_state(str(tmp_path), PY)["exists"] is False


def test_a_working_environment_is_usable(venv: Path) -> None:
    state = probe.venv_state(str(venv), PY)
    assert state["usable"], state
    assert state["version"] == PY


def test_an_environment_made_by_another_python_is_not(venv: Path, tmp_path: Path) -> None:
    copy = tmp_path / "venv"
    copy.mkdir()
    (copy / "bin").mkdir()
    (copy / "bin/python").symlink_to(venv / "bin/python")
    cfg = (venv / "pyvenv.cfg").read_text()
    (copy / "pyvenv.cfg").write_text(re.sub(r"(?m)^version\s*=.*$", "version = 3.9.18", cfg))
    state = probe.venv_state(str(copy), PY)
    assert (state["exists"], state["usable"]) == (True, False)
    assert "made with Python 3.9.18" in state["reason"]


def test_an_environment_for_another_role_python_is_not(venv: Path) -> None:
    state = probe.venv_state(str(venv), "2.7.18")
    assert not state["usable"]
    assert "the role's Python is 2.7.18" in state["reason"]


def test_an_environment_whose_python_is_gone_is_not(tmp_path: Path) -> None:
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin/python").symlink_to("/usr/bin/python3.4-gone")
    (tmp_path / "pyvenv.cfg").write_text("home = /usr/bin\nversion = 3.4.10\n")
    state = probe.venv_state(str(tmp_path), PY)
    assert (state["exists"], state["usable"]) == (True, False)
    assert "does not run" in state["reason"]


def fake_uv(venv: Path, tmp_path: Path, version: str, binary: bool = True) -> Path:
    """A copy of venv with a uv distribution of that version (and its bin/uv, if binary)."""
    copy = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(copy)], check=True)
    [site] = (copy / "lib").glob("python*/site-packages")
    info = site / f"uv-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: uv\nVersion: {version}\n")
    if binary:
        (copy / "bin/uv").write_text("#!/bin/sh\n")
        (copy / "bin/uv").chmod(0o755)
    return copy


@pytest.mark.parametrize(
    ("version", "specifier", "binary", "ok"),
    [
        ("0.11.3", ">=0.11", True, True),
        ("0.10.9", ">=0.11", True, False),
        ("0.11.3", ">=0.11", False, False),
        ("0.11.3", "not a specifier", True, False),
    ],
)
def test_a_uv_that_satisfies_the_specifier_skips_the_bootstrap(
    venv: Path, tmp_path: Path, version: str, specifier: str, binary: bool, ok: bool
) -> None:
    state = probe.venv_state(str(fake_uv(venv, tmp_path, version, binary)), PY, None, specifier)
    assert state["usable"], state
    assert state["uv_ok"] is ok


def test_no_uv_distribution_is_not_ok(venv: Path) -> None:
    assert probe.venv_state(str(venv), PY, None, ">=0.11")["uv_ok"] is False


# --- the script as the role runs it --------------------------------------------------


MODULE_DEFAULTS = {"torch_cuda_variants": [], "gpu_packages": [], "cpu_variants": {}}


def run_probe(run_module, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """The module as the role runs it: (0, result) or (1, the failure)."""
    params = {"python": sys.executable, **MODULE_DEFAULTS, **params}
    exited = run_module(probe.main, params)
    return (1 if exited.failed else 0), exited.result


def test_the_module_on_the_h100_tree(run_module, tmp_path: Path) -> None:
    root = h100_tree(tmp_path / "root")
    code, out = run_probe(
        run_module,
        {
            "user": "root",
            "venv": str(tmp_path / "venv"),
            "gpu": "auto",
            "packages": ["numpy", "xgboost"],
            "gpu_packages": ["cupy-cuda12x"],
            "cpu_variants": VARIANTS,
            "root": str(root),
            "nvidia_smi": str(fake_nvidia_smi(tmp_path, GPU_DATA / "h100")),
            "torch_cuda_variants": CUDA_VARIANTS,
        },
    )
    assert code == 0, out
    assert out["gpu"]["present"] is True
    assert out["requirements"] == ["numpy", "xgboost", "cupy-cuda12x"]
    assert out["torch"] == {
        "requirements": ["torch"],
        "backend": "cu130",
        "index": "https://download.pytorch.org/whl/cu130",
        "cuda": "13.0",
        "driver": "580.159.04",
        "driver_cuda": "13.0",
        "error": "",
        "reinstall": [],
    }
    assert out["uninstall"] == []
    assert out["user"] == {"exists": True, "uid": 0, "gid": 0, "home": "/root"}
    assert out["venv"]["exists"] is False
    assert out["python"] == PY
    assert (out["current"], out["changed"]) == (False, False)


def test_the_module_swaps_the_build_in_a_cpu_environment(
    run_module, venv: Path, tmp_path: Path
) -> None:
    code, out = run_probe(
        run_module,
        {
            "user": pwd.getpwuid(os.getuid()).pw_name,
            "venv": str(venv),
            "gpu": "auto",
            "packages": ["xgboost"],
            "gpu_packages": ["cupy-cuda12x"],
            "cpu_variants": VARIANTS,
            "root": str(cpu_tree(tmp_path)),
        },
    )
    assert code == 0, out
    assert out["requirements"] == ["xgboost-cpu"]
    assert out["venv"]["usable"] is True


def test_a_missing_notebook_user_fails_naming_the_fix(run_module, venv: Path) -> None:
    code, out = run_probe(run_module, {"user": "no-such-user-here", "venv": str(venv)})
    assert code == 1
    assert "libs_user 'no-such-user-here' does not exist" in out["msg"]
    assert "mlbox.workbench.tools" in out["msg"]


def test_a_gpu_without_a_driver_fails_naming_the_fix(run_module, tmp_path: Path) -> None:
    code, out = run_probe(
        run_module,
        {"user": "root", "venv": str(tmp_path / "v"), "gpu": "true",
         "nvidia_smi": str(tmp_path / "no-nvidia-smi"), "torch_cuda_variants": CUDA_VARIANTS},
    )  # fmt: skip
    assert code == 1
    assert "no working driver" in out["msg"]
    assert "libs_gpu: false" in out["msg"]


def test_the_module_refuses_bad_input(run_module) -> None:
    code, out = run_probe(run_module, {"venv": "/x", "user": "root", "gpu": "sometimes"})
    assert code == 1
    assert "auto, true or false" in out["msg"]


def test_another_python_is_asked_for_its_version(tmp_path: Path) -> None:
    fake = tmp_path / "python3"
    fake.write_text("#!/bin/sh\necho 3.8.18 False\n")
    fake.chmod(0o755)
    assert probe.interpreter(str(fake)) == ("3.8.18", False)
    assert probe.interpreter(sys.executable)[0] == PY
    with pytest.raises(ValueError, match="does not run"):
        probe.interpreter(str(tmp_path / "gone"))


# --- the fast path -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("requirements", "unmet"),
    [
        (["numpy", "xgboost-cpu>=2"], []),
        (["numpy>=3"], ["numpy>=3"]),
        (["scipy"], ["scipy"]),
        (["Xgboost_CPU"], []),
        (["numpy; python_version < '3'"], []),
        (["not a requirement !!"], ["not a requirement !!"]),
    ],
)
def test_unsatisfied_requirements(requirements: list[str], unmet: list[str]) -> None:
    versions = {"numpy": "2.1.0", "xgboost-cpu": "2.1.4"}
    assert probe.unsatisfied(requirements, versions) == unmet


def test_without_packaging_plain_clauses_are_still_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """A minimal image has no python3-packaging: "notebook>=7" must still be confirmed."""
    for name in (
        "packaging",
        "packaging.requirements",
        "packaging.specifiers",
        "packaging.version",
    ):
        monkeypatch.setitem(sys.modules, name, None)
    versions = {"numpy": "2.1.0", "notebook": "7.2.2"}
    given = ["numpy", "numpy>=2", "notebook>=7,<8", "numpy>=3", "scipy", "numpy[x]>=1"]
    assert probe.unsatisfied(given, versions) == ["numpy>=3", "scipy", "numpy[x]>=1"]


def fast_state(path: Path, **change: Any) -> dict[str, Any]:
    state = {
        "venv": {"usable": True, "reason": "", "uv_ok": True, "versions": {"numpy": "2.1.0"}},
        "user": {"uid": os.stat(path).st_uid},
        "uninstall": [],
        "torch": {"reinstall": [], "requirements": []},
        "requirements": ["numpy"],
    }
    for key, value in change.items():
        state[key] = value
    return state


def test_the_last_run_holds_only_when_everything_agrees(venv: Path, tmp_path: Path) -> None:
    digest = tmp_path / "libs.digest"
    digest.write_text("d1\n")
    params = {"venv": str(venv), "state_file": str(digest), "digest": "d1"}
    assert probe.still_current(fast_state(venv), params) == ""
    assert "digest" in probe.still_current(fast_state(venv), dict(params, digest="d2"))
    unusable = {"usable": False, "reason": "its bin/python does not run (x)"}
    assert "does not run" in probe.still_current(fast_state(venv, venv=unusable), params)
    old_uv = dict(fast_state(venv)["venv"], uv_ok=False)
    assert "uv" in probe.still_current(fast_state(venv, venv=old_uv), params)
    assert "other build" in probe.still_current(fast_state(venv, uninstall=["xgboost"]), params)
    other = fast_state(venv, user={"uid": os.stat(venv).st_uid + 1})
    assert "not the notebook user's" in probe.still_current(other, params)
    more = fast_state(venv, requirements=["numpy", "tqdm"])
    assert "not installed as asked: tqdm" in probe.still_current(more, params)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to switch users")
def test_as_root_the_environment_python_runs_as_the_notebook_user(run_module, venv: Path) -> None:
    """Root never runs the user's bin/python: here 'nobody' may not even enter pytest's
    private temporary directory, so the environment's Python cannot start."""
    code, out = run_probe(run_module, {"user": "nobody", "venv": str(venv), "gpu": "false"})
    assert code == 0, out
    assert out["venv"]["usable"] is False
    assert "does not run" in out["venv"]["reason"], out["venv"]


@pytest.mark.parametrize(
    ("version", "specifier", "ok"),
    [("0.11.3", ">=0.11", True), ("0.10.9", ">=0.11", False), ("0.11", "==0.11.0", True),
     ("0.11.3", ">=0.11,<0.12", True), ("0.12.0", ">=0.11, <0.12", False),
     ("0.11.3", "!=0.11.3", False), ("0.11.3rc1", ">=0.11", False), ("0.11.3", "~=0.11", False),
     ("", ">=0.11", False), ("1.0", "", True)],
)  # fmt: skip
def test_without_the_packaging_library_plain_specifiers_are_still_read(
    monkeypatch: pytest.MonkeyPatch, version: str, specifier: str, ok: bool
) -> None:
    """A host without python3-packaging: what libs_uv_version takes, no new OS package."""
    for name in ("packaging", "packaging.specifiers", "packaging.version"):
        monkeypatch.setitem(sys.modules, name, None)
    assert probe.satisfies(version, specifier) is ok


# --- The driver's CUDA version (nvidia-smi) and PyTorch's CUDA build ---------------------


def fake_nvidia_smi(tmp_path: Path, captured: Path, xml: bool = True) -> Path:
    """An nvidia-smi that prints a capture: the XML for -q -x (or fails), else the table."""
    script = tmp_path / "nvidia-smi"
    xml_part = f'cat "{captured}/nvidia-smi-q.xml"' if xml else "echo 'Invalid combination'; exit 2"
    script.write_text(
        f'#!/bin/sh\nif [ "$1" = -q ]; then {xml_part}; exit; fi\ncat "{captured}/nvidia-smi.txt"\n'
    )
    script.chmod(0o755)
    return script


def test_the_h100_xml_gives_driver_cuda_and_gpu() -> None:
    info = probe.parse_nvidia_smi_xml((GPU_DATA / "h100/nvidia-smi-q.xml").read_text())
    assert info == {"driver": "580.159.04", "cuda": "13.0", "gpus": ["NVIDIA H100 80GB HBM3"]}


def test_the_h100_table_gives_driver_and_cuda() -> None:
    info = probe.parse_nvidia_smi_table((GPU_DATA / "h100/nvidia-smi.txt").read_text())
    assert info == {"driver": "580.159.04", "cuda": "13.0", "gpus": []}


def test_the_captured_facts_agree_with_nvidia_smi() -> None:
    """The --query-gpu line of gpu-facts.txt names the same driver the XML reports."""
    query = sections(H100_FACTS.read_text())["query"][1].split(", ")
    info = probe.parse_nvidia_smi_xml((GPU_DATA / "h100/nvidia-smi-q.xml").read_text())
    assert query[3] == info["driver"]
    assert query[1] == info["gpus"][0]


@pytest.mark.parametrize(
    ("capture", "driver", "cuda"),
    [
        ("derived/driver-570", "570.195.03", "12.8"),
        ("derived/driver-560", "560.35.05", "12.6"),
        ("derived/driver-535", "535.274.02", "12.2"),
    ],
)
def test_the_derived_outputs_read_alike(capture: str, driver: str, cuda: str) -> None:
    xml = probe.parse_nvidia_smi_xml((GPU_DATA / capture / "nvidia-smi-q.xml").read_text())
    table = probe.parse_nvidia_smi_table((GPU_DATA / capture / "nvidia-smi.txt").read_text())
    assert (xml["driver"], xml["cuda"]) == (table["driver"], table["cuda"]) == (driver, cuda)


def test_nvidia_smi_without_a_driver_is_no_version() -> None:
    text = (GPU_DATA / "derived/no-driver-nvidia-smi.txt").read_text()
    with pytest.raises(ValueError, match="couldn't communicate with the NVIDIA driver"):
        probe.parse_nvidia_smi_table(text)


@pytest.mark.parametrize(
    ("driver_cuda", "variant"),
    [
        ("13.0", "13.0"),
        ("13.1", "13.0"),
        ("13.2", "13.2"),
        ("14.0", "13.2"),
        ("12.9", "12.6"),
        ("12.8", "12.6"),
        ("12.6", "12.6"),
        ("12.5", None),
        ("12.2", None),
        ("11.8", None),
    ],
)
def test_the_highest_variant_not_above_the_driver(driver_cuda: str, variant: str | None) -> None:
    assert probe.choose_cuda_variant(driver_cuda, CUDA_VARIANTS) == variant


def test_variants_compare_as_numbers_not_text() -> None:
    assert probe.choose_cuda_variant("12.10", ["12.9", "12.10", "11.8"]) == "12.10"
    assert probe.cuda_backend("12.10") == "cu1210"
    assert probe.cuda_backend("13.0") == "cu130"


def gpu_params(tmp_path: Path, capture: str, **extra: Any) -> dict[str, Any]:
    return {
        "nvidia_smi": str(fake_nvidia_smi(tmp_path, GPU_DATA / capture)),
        "torch_cuda_variants": CUDA_VARIANTS,
        **extra,
    }


@pytest.mark.parametrize(
    ("capture", "backend"),
    [("h100", "cu130"), ("derived/driver-570", "cu126"), ("derived/driver-560", "cu126")],
)
def test_a_gpu_host_gets_torch_from_the_index_its_driver_can_run(
    tmp_path: Path, capture: str, backend: str
) -> None:
    rest, plan = probe.torch_plan(["numpy", "xgboost"], True, gpu_params(tmp_path, capture))
    assert rest == ["numpy", "xgboost"]
    assert plan["requirements"] == ["torch"]
    assert plan["backend"] == backend
    assert plan["index"] == f"https://download.pytorch.org/whl/{backend}"
    assert plan["error"] == ""


def test_the_table_is_read_when_the_xml_is_not_offered(tmp_path: Path) -> None:
    smi = fake_nvidia_smi(tmp_path, GPU_DATA / "derived/driver-570", xml=False)
    assert probe.query_driver(str(smi)) == {"driver": "570.195.03", "cuda": "12.8", "gpus": []}


def test_a_driver_too_old_for_every_build_is_refused_with_the_fix(tmp_path: Path) -> None:
    rest, plan = probe.torch_plan(["numpy"], True, gpu_params(tmp_path, "derived/driver-535"))
    assert rest == ["numpy"]
    assert plan["backend"] == "" and plan["index"] == ""
    assert plan["driver"] == "535.274.02" and plan["driver_cuda"] == "12.2"
    assert "535.274.02 supports CUDA up to 12.2" in plan["error"]
    assert "supports CUDA 12.6 or newer" in plan["error"]
    assert "libs_torch_cuda_variants" in plan["error"] and "libs_gpu: false" in plan["error"]


def test_an_older_variant_the_user_adds_fits_an_old_driver(tmp_path: Path) -> None:
    params = gpu_params(tmp_path, "derived/driver-535")
    params["torch_cuda_variants"] = [*CUDA_VARIANTS, "11.8"]
    _others, plan = probe.torch_plan([], True, params)
    assert (plan["backend"], plan["error"]) == ("cu118", "")


def test_a_gpu_without_a_loaded_driver_is_refused(tmp_path: Path) -> None:
    failing = tmp_path / "nvidia-smi"
    no_driver = GPU_DATA / "derived/no-driver-nvidia-smi.txt"
    failing.write_text(f'#!/bin/sh\ncat "{no_driver}"\nexit 9\n')
    failing.chmod(0o755)
    _others, plan = probe.torch_plan([], True, {"nvidia_smi": str(failing)})
    assert "no working driver" in plan["error"]
    assert "couldn't communicate with the NVIDIA driver" in plan["error"]
    assert "tools_nvidia_driver" in plan["error"]


def test_a_gpu_without_nvidia_smi_is_refused(tmp_path: Path) -> None:
    _others, plan = probe.torch_plan([], True, {"nvidia_smi": str(tmp_path / "absent")})
    assert "is not installed" in plan["error"]


def test_listed_torch_packages_keep_their_specifiers_on_a_gpu(tmp_path: Path) -> None:
    params = gpu_params(tmp_path, "h100", torch_packages=["torch", "torchvision"])
    rest, plan = probe.torch_plan(["numpy", "Torch>=2.8", "torchvision"], True, params)
    assert rest == ["numpy"]
    assert plan["requirements"] == ["Torch>=2.8", "torchvision"]


def test_torch_gpu_off_adds_nothing(tmp_path: Path) -> None:
    params = gpu_params(tmp_path, "h100", torch_gpu=False)
    rest, plan = probe.torch_plan(["numpy"], True, params)
    assert rest == ["numpy"] and plan["requirements"] == [] and plan["backend"] == ""


def test_a_cpu_host_gets_no_torch_unless_asked() -> None:
    rest, plan = probe.torch_plan(["numpy", "xgboost-cpu"], False, {"nvidia_smi": "/absent"})
    assert rest == ["numpy", "xgboost-cpu"]
    assert plan == {
        "requirements": [], "backend": "", "index": "", "cuda": "",
        "driver": "", "driver_cuda": "", "error": "",
    }  # fmt: skip


def test_torch_asked_for_on_a_cpu_host_comes_from_the_cpu_index() -> None:
    params = {"nvidia_smi": "/absent", "torch_index_base": "https://mirror.example/whl/"}
    rest, plan = probe.torch_plan(["numpy", "torch==2.9.1"], False, params)
    assert rest == ["numpy"]
    assert plan["requirements"] == ["torch==2.9.1"]
    assert (plan["backend"], plan["index"]) == ("cpu", "https://mirror.example/whl/cpu")
    assert plan["error"] == ""


def test_the_module_on_a_cpu_tree_plans_no_torch(run_module, tmp_path: Path) -> None:
    code, out = run_probe(
        run_module,
        {
            "user": "root",
            "venv": str(tmp_path / "venv"),
            "gpu": "auto",
            "packages": ["numpy", "xgboost"],
            "gpu_packages": ["cupy-cuda12x"],
            "cpu_variants": VARIANTS,
            "root": str(cpu_tree(tmp_path / "root")),
            "nvidia_smi": str(fake_nvidia_smi(tmp_path, GPU_DATA / "h100")),
            "torch_cuda_variants": CUDA_VARIANTS,
        },
    )
    assert code == 0, out
    assert out["requirements"] == ["numpy", "xgboost-cpu"]
    assert out["torch"]["requirements"] == [] and out["torch"]["backend"] == ""


@pytest.mark.parametrize(
    ("installed", "backend", "reinstall"),
    [
        ({"torch": "2.9.1+cpu"}, "cu130", ["torch"]),
        ({"torch": "2.9.1+cu130", "torchvision": "0.24.1+cu126"}, "cu130", ["torchvision"]),
        ({"torch": "2.9.1"}, "cu130", ["torch"]),  # PyPI's build
        ({"torch": "2.9.1+cu130"}, "cu130", []),
        ({"torch": "2.9.1+cu130"}, "cpu", ["torch"]),
        ({}, "cu130", []),
    ],
)
def test_a_torch_of_another_build_is_reinstalled(
    installed: dict[str, str], backend: str, reinstall: list[str]
) -> None:
    plan = {"requirements": ["torch>=2.8", "torchvision"], "backend": backend}
    assert probe.torch_rebuilds(plan, installed) == reinstall


def test_no_backend_no_reinstall() -> None:
    assert probe.torch_rebuilds({"requirements": [], "backend": ""}, {"torch": "2.9.1"}) == []


def test_the_environment_reports_its_torch_builds(venv: Path) -> None:
    """The environment's own Python names its torch* distributions with their versions."""
    dist = next((venv / "lib").glob("python3*/site-packages"))
    info = dist / "torch-2.9.1+cpu.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: torch\nVersion: 2.9.1+cpu\n")
    state = probe.venv_state(str(venv), PY)
    assert state["torch_versions"] == {"torch": "2.9.1+cpu"}
    assert "torch" in state["installed"]
