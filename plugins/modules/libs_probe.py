#!/usr/bin/python
# Copyright: mlbox.workbench developers
# Apache License 2.0 (see galaxy.yml)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: libs_probe
short_description: Look at a host before the libs role installs its Python environment, read-only
version_added: 0.1.0
description:
  - One look at the host for the C(mlbox.workbench.libs) role - the interpreter the
    environment is made from and what it lacks, the notebook user, whether the environment
    still runs on that Python and what it holds, whether there is an NVIDIA GPU and, on one,
    the CUDA version its driver supports and so PyTorch's index. Changes nothing.
  - An NVIDIA GPU is present when the driver is loaded (C(/proc/driver/nvidia/version)), a
    C(/dev/nvidiaN) node exists, or a PCI function has vendor C(0x10de) and class C(0x0300xx)
    (VGA) or C(0x0302xx) (3D controller); O(gpu) C(true) or C(false) overrides the detection.
  - The environment is usable when its C(bin/python) runs (as the notebook user when the
    module runs as root) and is the same major.minor as both the Python it was made with and
    O(python); one that is not usable has to be made again (a new OS on an old data disk).
  - Without a GPU, every O(cpu_variants) key is replaced by its value (C(xgboost) becomes
    C(xgboost-cpu), no 1.4 GB of CUDA libraries). The PyTorch packages go to PyTorch's own
    index - with a GPU the highest of O(torch_cuda_variants) not above the driver's CUDA
    (C(nvidia-smi -q -x), else the plain table), without one the CPU build, and only when
    asked for.
  - Fails, naming the fix, when the notebook user does not exist, when a GPU has no working
    driver or one too old for every PyTorch CUDA build.
  - With O(digest) and O(state_file) it also says whether the role's last full run still
    holds (RV(current)) - the recorded digest is this one, the environment is usable and the
    notebook user's, its uv satisfies O(uv), nothing is to be uninstalled or reinstalled and
    every requirement is installed (and satisfies its version specifier).
author:
  - mlbox.workbench developers (!UNKNOWN)
options:
  user:
    description: The notebook user who owns the environment; it must exist.
    type: str
    required: true
  venv:
    description: The environment's directory.
    type: path
    required: true
  python:
    description:
      - The interpreter the environment is made from.
      - Its version is what the environment must match.
    type: path
    default: /usr/bin/python3
  gpu:
    description: C(auto) looks for an NVIDIA GPU; C(true) or C(false) decides.
    type: str
    default: auto
  uv:
    description:
      - Version specifier (PEP 440) that uv in the environment must satisfy.
      - Then the pip bootstrap is skipped.
    type: str
    default: ""
  packages:
    description: The requirements to install (PyPI or the index the role sets).
    type: list
    elements: str
    default: []
  gpu_packages:
    description: Requirements added only when there is a GPU.
    type: list
    elements: str
    default: []
  cpu_variants:
    description: Packages whose full build drags in CUDA libraries, mapped to their CPU-only build.
    type: dict
    default: {}
  torch_packages:
    description: The requirements that come from PyTorch's index instead.
    type: list
    elements: str
    default: [torch]
  torch_gpu:
    description: Add torch on a GPU host even when it was not asked for.
    type: bool
    default: true
  torch_cuda_variants:
    description: The CUDA builds PyTorch publishes (C(12.6), C(13.0)).
    type: list
    elements: str
    default: []
  torch_index_base:
    description: PyTorch's index; BASE/cu130 and BASE/cpu are the per-build indexes.
    type: str
    default: https://download.pytorch.org/whl
  root:
    description:
      - Prepended to C(/proc), C(/dev) and C(/sys) for the GPU detection.
      - Tests point it at a fake tree.
    type: path
    default: /
  nvidia_smi:
    description: The nvidia-smi command.
    type: str
    default: nvidia-smi
extends_documentation_fragment:
  - mlbox.workbench.host_state
attributes:
  check_mode:
    description: Can run in check mode and return what a real run would change, changing nothing.
    support: full
    details:
      - The module only reads.
  diff_mode:
    description: Returns details on what has changed (or would change in check mode) in diff mode.
    support: none
seealso:
  - module: mlbox.workbench.data_disk_find
"""

EXAMPLES = r"""
- name: Look at the host before installing the stack
  mlbox.workbench.libs_probe:
    user: ml
    venv: /mnt/ml/.workbench/venv
    packages: [pip, numpy, xgboost]
    cpu_variants: {xgboost: xgboost-cpu}
    torch_cuda_variants: ["12.6", "13.0"]
  register: probe
"""

RETURN = r"""
python:
  description: The version of O(python).
  returned: success
  type: str
  sample: 3.11.2
missing:
  description:
    - What the role needs from the OS and does not find.
    - C(ensurepip) (python3-venv), C(setfacl) (acl).
  returned: success
  type: list
  elements: str
user:
  description: The notebook user's exists, uid, gid and home.
  returned: success
  type: dict
  sample: {exists: true, uid: 1000, gid: 1000, home: /home/ml}
gpu:
  description: present, forced (O(gpu) decided) and the evidence seen.
  returned: success
  type: dict
venv:
  description:
    - exists, usable, reason (why not), version, installed (names), uv (bin/uv exists)
      and uv_ok.
  returned: success
  type: dict
requirements:
  description:
    - The requirements to install from the package index, CPU variants chosen.
    - Without PyTorch's.
  returned: success
  type: list
  elements: str
torch:
  description:
    - requirements, backend, index, cuda, driver, driver_cuda, error and reinstall.
    - reinstall names installed PyTorch packages of another build.
  returned: success
  type: dict
uninstall:
  description: Installed packages that clash with a chosen variant, to remove first.
  returned: success
  type: list
  elements: str
current:
  description: Whether the role's last full run still holds (see the description).
  returned: success
  type: bool
why:
  description: Why RV(current) is false, for the log.
  returned: success
  type: str
"""

import glob
import importlib.util
import json
import os
import pwd
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from typing import Any, Callable

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.mlbox.workbench.plugins.module_utils.host_state import (
    HOST_STATE_ARGS,
    digest_matches,
    owner_mode,
)

NVIDIA_VENDOR = "0x10de"
# PCI class codes: 0x0300 VGA-compatible controller, 0x0302 3D controller (data-centre GPUs).
GPU_CLASS_PREFIXES = ("0x0300", "0x0302")
TRUE_WORDS = ("true", "yes", "on", "1")
FALSE_WORDS = ("false", "no", "off", "0")
# Printed by the environment's own Python: its version and its installed distributions.
VENV_REPORT = (
    "import json, sys, importlib.metadata as m;"
    "print(json.dumps({'version': '%d.%d.%d' % sys.version_info[:3],"
    " 'installed': sorted({d.metadata['Name'] for d in m.distributions() if d.metadata['Name']}),"
    " 'versions': {d.metadata['Name']: d.version for d in m.distributions() if d.metadata['Name']},"
    " 'uv': next((d.version for d in m.distributions()"
    " if (d.metadata['Name'] or '').lower() == 'uv'), ''),"
    " 'torch': {d.metadata['Name']: d.version for d in m.distributions()"
    " if (d.metadata['Name'] or '').lower().startswith('torch')}}))"
)
NAME_RE = re.compile(r"^\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)(.*)$", re.DOTALL)


def canonical(name: str) -> str:
    """PEP 503 normalized project name: XGBoost, xgboost_cpu -> xgboost, xgboost-cpu."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read().strip()
    except OSError:
        return ""


def detect_gpu(root: str = "/") -> list[str]:
    """Return what shows an NVIDIA GPU under root; empty when there is none."""
    evidence = []
    driver = _read(os.path.join(root, "proc/driver/nvidia/version"))
    if driver:
        evidence.append("driver: " + driver.splitlines()[0].strip())
    for node in sorted(glob.glob(os.path.join(root, "dev/nvidia[0-9]*"))):
        evidence.append("device node: /dev/" + os.path.basename(node))
    for device in sorted(glob.glob(os.path.join(root, "sys/bus/pci/devices/*"))):
        vendor = _read(os.path.join(device, "vendor")).lower()
        pci_class = _read(os.path.join(device, "class")).lower()
        if vendor == NVIDIA_VENDOR and pci_class.startswith(GPU_CLASS_PREFIXES):
            model = _read(os.path.join(device, "device")).lower()
            evidence.append(
                f"PCI {os.path.basename(device)}: vendor {vendor} device {model} class {pci_class}"
            )
    return evidence


def gpu_state(wanted: str, root: str = "/") -> dict[str, Any]:
    """Combine the role's libs_gpu (auto, true or false) with what the host shows."""
    word = str(wanted).strip().lower()
    evidence = detect_gpu(root)
    if word in TRUE_WORDS:
        return {"present": True, "forced": True, "evidence": evidence}
    if word in FALSE_WORDS:
        return {"present": False, "forced": True, "evidence": evidence}
    if word != "auto":
        raise ValueError(f"gpu must be auto, true or false, not {wanted!r}")
    return {"present": bool(evidence), "forced": False, "evidence": evidence}


# The driver's CUDA version in the plain table's header line.
SMI_TABLE_RE = re.compile(
    r"Driver Version:\s*(?P<driver>[0-9][0-9.]*)\s+CUDA Version:\s*(?P<cuda>[0-9]+\.[0-9]+)"
)


def parse_nvidia_smi_xml(text: str) -> dict[str, Any]:
    """driver, cuda and gpus (product names) from `nvidia-smi -q -x`; ValueError when absent."""
    # The output names a DTD (<!DOCTYPE nvidia_smi_log SYSTEM ...>): ElementTree never loads it.
    root = ET.fromstring(text)
    driver = (root.findtext("driver_version") or "").strip()
    cuda = (root.findtext("cuda_version") or "").strip()
    if not driver or not re.fullmatch(r"[0-9]+\.[0-9]+", cuda):
        raise ValueError("nvidia-smi -q -x shows no driver_version and cuda_version")
    gpus = [(gpu.findtext("product_name") or "").strip() for gpu in root.iter("gpu")]
    return {"driver": driver, "cuda": cuda, "gpus": gpus}


def parse_nvidia_smi_table(text: str) -> dict[str, Any]:
    """driver and cuda from the header of plain `nvidia-smi`; ValueError when absent."""
    match = SMI_TABLE_RE.search(text)
    if not match:
        first = text.strip().splitlines()[0] if text.strip() else "no output"
        raise ValueError(f"nvidia-smi shows no driver and CUDA version ({first})")
    return {"driver": match.group("driver"), "cuda": match.group("cuda"), "gpus": []}


def _run_smi(command: list[str]) -> str:
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=60, check=False, cwd="/"
    )
    if result.returncode != 0:
        lines = (result.stdout.strip() or result.stderr.strip() or "no output").splitlines()
        raise OSError(f"{' '.join(command)} exited {result.returncode}: {lines[0]}")
    return result.stdout


def query_driver(nvidia_smi: str = "nvidia-smi") -> dict[str, Any]:
    """The loaded driver's version and the CUDA version it supports, from nvidia-smi.

    Returns {driver, cuda, gpus} or {error}: no nvidia-smi, or it cannot reach a driver.
    """
    path = shutil.which(nvidia_smi, path=os.environ.get("PATH", "") + ":/usr/bin:/bin")
    if path is None:
        return {"error": f"{nvidia_smi} is not installed (no NVIDIA driver)"}
    try:
        return parse_nvidia_smi_xml(_run_smi([path, "-q", "-x"]))
    except (OSError, subprocess.SubprocessError, ValueError, ET.ParseError) as exc:
        xml_error = str(exc)
    try:
        return parse_nvidia_smi_table(_run_smi([path]))
    except (OSError, subprocess.SubprocessError, ValueError) as exc:
        return {"error": f"{exc} (and {xml_error})"}


def _cuda_tuple(version: str) -> tuple[int, int]:
    major, minor = str(version).strip().split(".")[:2]
    return int(major), int(minor)


def choose_cuda_variant(driver_cuda: str, variants: list[str]) -> str | None:
    """The highest of PyTorch's CUDA variants ("12.6", "13.0") not above the driver's CUDA."""
    have = _cuda_tuple(driver_cuda)
    fitting = [v for v in variants if _cuda_tuple(v) <= have]
    return max(fitting, key=_cuda_tuple) if fitting else None


def cuda_backend(variant: str) -> str:
    """12.6 -> cu126, 13.0 -> cu130: the name of PyTorch's index for that CUDA."""
    major, minor = _cuda_tuple(variant)
    return f"cu{major}{minor}"


def torch_plan(
    requirements: list[str],
    gpu: bool,
    params: dict[str, Any],
    driver: dict[str, Any] | None = None,
) -> tuple[list[str], dict[str, Any]]:
    """Split the PyTorch packages off the requirements and choose their index.

    Returns (the other requirements, the torch entry of the probe's result). driver is
    query_driver()'s answer (asked only on a GPU host with PyTorch packages to install).
    """
    names = {canonical(n) for n in params.get("torch_packages", ["torch"])}
    base = str(params.get("torch_index_base", "https://download.pytorch.org/whl")).rstrip("/")
    rest, wanted = [], []
    for requirement in requirements:
        match = NAME_RE.match(requirement)
        is_torch = bool(match) and canonical(match.group(1)) in names
        (wanted if is_torch else rest).append(requirement)
    plan: dict[str, Any] = {
        "requirements": [], "backend": "", "index": "", "cuda": "",
        "driver": "", "driver_cuda": "", "error": "",
    }  # fmt: skip
    if gpu and params.get("torch_gpu", True) and "torch" not in requested(wanted):
        wanted.insert(0, "torch")
    if not wanted:
        return rest, plan
    plan["requirements"] = wanted
    if not gpu:
        plan.update(backend="cpu", index=f"{base}/cpu")
        return rest, plan
    variants = [str(v) for v in params.get("torch_cuda_variants", [])]
    info = driver if driver is not None else query_driver(params.get("nvidia_smi", "nvidia-smi"))
    if info.get("error"):
        plan["error"] = (
            f"this host has an NVIDIA GPU but no working driver: {info['error']}. Install the "
            "driver (the mlbox.workbench.tools role does, tools_nvidia_driver) and reboot, or "
            "set libs_gpu: false for the CPU builds."
        )
        return rest, plan
    plan.update(driver=info["driver"], driver_cuda=info["cuda"])
    variant = choose_cuda_variant(info["cuda"], variants) if variants else None
    if variant is None:
        oldest = min(variants, key=_cuda_tuple) if variants else "(none given)"
        plan["error"] = (
            f"the NVIDIA driver {info['driver']} supports CUDA up to {info['cuda']}, older than "
            f"every PyTorch CUDA build in libs_torch_cuda_variants ({', '.join(variants)}): "
            f"upgrade the driver to one that supports CUDA {oldest} or newer, add an older "
            "variant PyTorch still publishes to libs_torch_cuda_variants, "
            "or set libs_gpu: false for the CPU builds."
        )
        return rest, plan
    backend = cuda_backend(variant)
    plan.update(backend=backend, index=f"{base}/{backend}", cuda=variant)
    return rest, plan


def torch_rebuilds(plan: dict[str, Any], versions: dict[str, str]) -> list[str]:
    """Installed PyTorch packages of another build than the plan's (2.9.1+cpu for cu130).

    PyTorch's indexes label each build (+cpu, +cu130); PyPI's Linux torch has no label. uv
    keeps any installed torch that satisfies the requirement, so a data disk moved from a CPU
    host to a GPU host (or to an older driver) must have these reinstalled.
    """
    if not plan["backend"]:
        return []
    wrong = []
    for name in sorted(requested(plan["requirements"])):
        version = versions.get(name)
        if version is not None and version.partition("+")[2] != plan["backend"]:
            wrong.append(name)
    return wrong


def _major_minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def read_pyvenv_cfg(venv: str) -> dict[str, str]:
    """The key = value lines of pyvenv.cfg (python -m venv writes version, uv version_info)."""
    values = {}
    for line in _read(os.path.join(venv, "pyvenv.cfg")).splitlines():
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip().lower()] = value.strip()
    return values


def _demote(uid: int, gid: int) -> Callable[[], None]:
    def switch() -> None:
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)

    return switch


def run_venv_python(venv: str, run_as: tuple[int, int] | None = None) -> dict[str, Any]:
    """Ask the environment's Python for its version and distributions; raise when it fails.

    The environment belongs to the notebook user, who could put anything at bin/python: when
    this probe runs as root, run_as (uid, gid) makes the child that user first.
    -I keeps the user's PYTHON* variables and site directory out, -B writes no bytecode.
    """
    python = os.path.join(venv, "bin", "python")
    result = subprocess.run(
        [python, "-I", "-B", "-c", VENV_REPORT],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd="/",
        preexec_fn=_demote(*run_as) if run_as else None,
    )
    if result.returncode != 0:
        lines = (result.stderr.strip() or f"exit code {result.returncode}").splitlines()
        raise OSError(lines[-1])
    return json.loads(result.stdout)


def _release(version: str) -> tuple[int, ...] | None:
    """1.2.3 -> (1, 2, 3); None for anything but a plain release (pre-releases, local tags)."""
    if not re.fullmatch(r"[0-9]+(\.[0-9]+)*", version.strip()):
        return None
    parts = [int(p) for p in version.strip().split(".")]
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


COMPARE = {
    ">=": lambda a, b: a >= b, "<=": lambda a, b: a <= b, "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b, ">": lambda a, b: a > b, "<": lambda a, b: a < b,
}  # fmt: skip


def satisfies(version: str, specifier: str) -> bool:
    """Whether version is accepted by a PEP 440 specifier; False when either cannot be read.

    With the packaging library (when the host has it) in full; without it, plain releases
    against comma-separated >=, <=, ==, !=, > and < clauses, which is what libs_uv_version
    takes. Anything else is False: the role then installs uv again, which is safe.
    """
    if not version:
        return False
    try:
        from packaging.specifiers import InvalidSpecifier, SpecifierSet
        from packaging.version import InvalidVersion, Version
    except ImportError:
        have = _release(version)
        if have is None:
            return False
        for clause in filter(None, (c.strip() for c in specifier.split(","))):
            match = re.fullmatch(r"(>=|<=|==|!=|>|<)\s*(.+)", clause)
            want = _release(match.group(2)) if match else None
            if want is None or not COMPARE[match.group(1)](have, want):
                return False
        return True
    try:
        return Version(version) in SpecifierSet(specifier)
    except (InvalidSpecifier, InvalidVersion):
        return False


def venv_state(
    venv: str,
    python_version: str,
    run_as: tuple[int, int] | None = None,
    uv_specifier: str = "",
) -> dict[str, Any]:
    """Whether the environment at venv can be used with python_version, and what it holds."""
    state: dict[str, Any] = {
        "exists": False,
        "usable": False,
        "reason": "",
        "version": "",
        "installed": [],
        "uv": os.access(os.path.join(venv, "bin", "uv"), os.X_OK),
        "uv_ok": False,
    }
    cfg = os.path.join(venv, "pyvenv.cfg")
    if not os.path.exists(cfg) and not os.path.lexists(os.path.join(venv, "bin", "python")):
        state["reason"] = "there is no environment yet"
        return state
    state["exists"] = True
    made_with = read_pyvenv_cfg(venv)
    made_version = made_with.get("version") or made_with.get("version_info") or ""
    try:
        report = run_venv_python(venv, run_as)
    except (OSError, ValueError, subprocess.SubprocessError) as exc:
        state["reason"] = f"its bin/python does not run ({exc})"
        return state
    state["version"] = report["version"]
    if made_version and _major_minor(made_version) != _major_minor(report["version"]):
        state["reason"] = (
            f"it was made with Python {made_version} but bin/python is now {report['version']}"
        )
        return state
    if _major_minor(report["version"]) != _major_minor(python_version):
        state["reason"] = (
            f"it runs Python {report['version']}, the role's Python is {python_version}"
        )
        return state
    state["usable"] = True
    state["installed"] = sorted(canonical(name) for name in report["installed"])
    state["versions"] = {canonical(k): v for k, v in report.get("versions", {}).items()}
    state["torch_versions"] = {canonical(k): v for k, v in report.get("torch", {}).items()}
    state["uv_ok"] = state["uv"] and satisfies(report.get("uv", ""), uv_specifier)
    return state


def choose_requirements(packages: list[str], gpu: bool, cpu_variants: dict[str, str]) -> list[str]:
    """Replace each package that has a CPU-only variant by that variant when there is no GPU.

    Extras, version specifiers and markers stay as written: "xgboost>=2" -> "xgboost-cpu>=2".
    """
    if gpu:
        return list(packages)
    variants = {canonical(k): v for k, v in cpu_variants.items()}
    chosen = []
    for requirement in packages:
        match = NAME_RE.match(requirement)
        if match and canonical(match.group(1)) in variants:
            requirement = variants[canonical(match.group(1))] + match.group(2)
        chosen.append(requirement)
    return chosen


def clashing(installed: list[str], gpu: bool, cpu_variants: dict[str, str]) -> list[str]:
    """Installed packages that are the other side of a variant pair from what is wanted.

    Without a GPU the full build (xgboost) goes; with one the CPU-only build (xgboost-cpu).
    """
    have = {canonical(name) for name in installed}
    unwanted = cpu_variants.values() if gpu else cpu_variants.keys()
    return sorted(name for name in map(canonical, unwanted) if name in have)


INTERPRETER_REPORT = (
    "import sys, importlib.util;"
    "print('%d.%d.%d' % sys.version_info[:3], importlib.util.find_spec('ensurepip') is not None)"
)


def interpreter(python: str) -> tuple[str, bool]:
    """(version, has ensurepip) of the interpreter the environment is made from.

    The one running this module answers itself; another is asked (one short process).
    """
    this = ".".join(str(part) for part in sys.version_info[:3])
    if not python or os.path.realpath(python) == os.path.realpath(sys.executable):
        return this, importlib.util.find_spec("ensurepip") is not None
    try:
        done = subprocess.run(
            [python, "-I", "-B", "-c", INTERPRETER_REPORT],
            capture_output=True, text=True, timeout=60, check=False, cwd="/",
        )  # fmt: skip
    except OSError as exc:
        raise ValueError(f"the Python {python} does not run: {exc}") from None
    words = done.stdout.split()
    if done.returncode != 0 or len(words) != 2:
        raise ValueError(f"the Python {python} does not run: {done.stderr.strip()[-300:]}")
    return words[0], words[1] == "True"


def missing_prerequisites(has_ensurepip: bool = True) -> list[str]:
    """What the role needs from the OS packages and this host does not have."""
    missing = []
    if not has_ensurepip:
        missing.append("ensurepip")
    if shutil.which("setfacl", path=os.environ.get("PATH", "") + ":/usr/bin:/bin") is None:
        missing.append("setfacl")
    return missing


def user_state(name: str) -> dict[str, Any]:
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        return {"exists": False, "uid": None, "gid": None, "home": None}
    return {"exists": True, "uid": entry.pw_uid, "gid": entry.pw_gid, "home": entry.pw_dir}


def requested(requirements: list[str]) -> set[str]:
    names = set()
    for requirement in requirements:
        match = NAME_RE.match(requirement)
        if match:
            names.add(canonical(match.group(1)))
    return names


def run(params: dict[str, Any]) -> dict[str, Any]:
    python_version, has_ensurepip = interpreter(params.get("python", ""))
    gpu = gpu_state(params.get("gpu", "auto"), params.get("root", "/"))
    variants = params.get("cpu_variants", {})
    packages = list(params.get("packages", []))
    if gpu["present"]:
        packages += list(params.get("gpu_packages", []))
    requirements, torch = torch_plan(
        choose_requirements(packages, gpu["present"], variants), gpu["present"], params
    )
    user = user_state(params["user"])
    demote = os.geteuid() == 0 and user["exists"] and user["uid"] != 0
    run_as = (user["uid"], user["gid"]) if demote else None
    venv = venv_state(params["venv"], python_version, run_as, params.get("uv", ""))
    torch["reinstall"] = torch_rebuilds(torch, venv.pop("torch_versions", {}))
    # Only what the variant choice displaced; a clash the user asked for stays theirs.
    uninstall = [
        name
        for name in clashing(venv["installed"], gpu["present"], variants)
        if name not in requested(requirements + torch["requirements"])
    ]
    return {
        "python": python_version,
        "missing": missing_prerequisites(has_ensurepip),
        "user": user,
        "gpu": gpu,
        "venv": venv,
        "requirements": requirements,
        "torch": torch,
        "uninstall": uninstall,
    }


def unsatisfied(requirements: list[str], versions: dict[str, str]) -> list[str]:
    """The requirements the installed distributions (canonical name -> version) do not meet.

    With the packaging library a requirement is read in full; without it (a minimal image has
    no python3-packaging) a bare name or plain release clauses, anything more counts as unmet
    (the full path then asks uv).
    """
    try:
        from packaging.requirements import InvalidRequirement, Requirement
    except ImportError:
        Requirement = None
    unmet = []
    for text in requirements:
        if Requirement is None:
            # Without packaging: NAME or NAME with plain release clauses (>=7, ==2.1,<3), read
            # by satisfies(); extras, markers, URLs and anything else count as unmet.
            match = NAME_RE.match(text)
            version = versions.get(canonical(match.group(1))) if match else None
            spec = match.group(2).strip() if match else ""
            if version is None or (spec and not (
                re.fullmatch(r"[<>=!0-9., ]+", spec) and satisfies(version, spec)
            )):  # fmt: skip
                unmet.append(text)
            continue
        try:
            requirement = Requirement(text)
        except InvalidRequirement:
            unmet.append(text)
            continue
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        version = versions.get(canonical(requirement.name))
        if version is None or not requirement.specifier.contains(version, prereleases=True):
            unmet.append(text)
    return unmet


def still_current(state: dict[str, Any], params: dict[str, Any]) -> str:
    """Why the role's last full run no longer holds, or "" when it does."""
    venv = state["venv"]
    if not digest_matches(params.get("state_file", ""), params.get("digest", "")):
        return "the recorded digest differs (or there is none)"
    if not venv["usable"]:
        return venv["reason"] or "the environment is not usable"
    if not venv["uv_ok"]:
        return "uv in the environment is missing or too old"
    owner = owner_mode(params["venv"])
    if owner is None or owner[0] != state["user"]["uid"]:
        return f"{params['venv']} is not the notebook user's"
    if state["uninstall"] or state["torch"]["reinstall"]:
        return "a package of the other build is installed"
    unmet = unsatisfied(state["requirements"] + state["torch"]["requirements"], venv["versions"])
    if unmet:
        return "not installed as asked: " + ", ".join(unmet)
    return ""


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "user": {"type": "str", "required": True},
            "venv": {"type": "path", "required": True},
            "python": {"type": "path", "default": "/usr/bin/python3"},
            "gpu": {"type": "str", "default": "auto"},
            "uv": {"type": "str", "default": ""},
            "packages": {"type": "list", "elements": "str", "default": []},
            "gpu_packages": {"type": "list", "elements": "str", "default": []},
            "cpu_variants": {"type": "dict", "default": {}},
            "torch_packages": {"type": "list", "elements": "str", "default": ["torch"]},
            "torch_gpu": {"type": "bool", "default": True},
            "torch_cuda_variants": {"type": "list", "elements": "str", "default": []},
            "torch_index_base": {"type": "str", "default": "https://download.pytorch.org/whl"},
            "root": {"type": "path", "default": "/"},
            "nvidia_smi": {"type": "str", "default": "nvidia-smi"},
            **HOST_STATE_ARGS,
        },
        supports_check_mode=True,
    )
    params = dict(module.params)
    try:
        state = run(params)
    except (ValueError, KeyError) as exc:
        module.fail_json(msg=f"{type(exc).__name__}: {exc}")
    if not state["user"]["exists"]:
        module.fail_json(
            msg=f"libs_user '{params['user']}' does not exist on this host: create it first "
            "(the mlbox.workbench.tools role does).",
            **state,
        )
    if state["torch"]["error"]:
        module.fail_json(msg=state["torch"]["error"], **state)
    why = still_current(state, params)
    state["venv"].pop("versions", None)
    module.exit_json(changed=False, current=not why, why=why, **state)


if __name__ == "__main__":
    main()
