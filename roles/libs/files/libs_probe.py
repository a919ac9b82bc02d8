#!/usr/bin/env python3
# Copyright: mlbox.workbench developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Look at the host before the libs role installs anything. Read-only.

The role runs this with ansible.builtin.script and the Python it builds the environment
from (roles inside a collection cannot carry their own modules):

    libs_probe.py '{"user": "ml", "venv": "/mnt/ml/.workbench/venv", "gpu": "auto", "uv": ">=0.11",
                    "packages": ["numpy", "xgboost"], "gpu_packages": [],
                    "cpu_variants": {"xgboost": "xgboost-cpu"}}'

An optional "root" (default "/") is prepended to /proc, /dev and /sys, so tests can point
the GPU detection at a fake tree.

It prints one JSON object:
- python: the version of the interpreter running this script (the one the role uses);
- missing: what the role needs from the OS but does not find: "ensurepip" (venv with pip,
  python3-venv on Debian), "setfacl" (for Ansible to become the unprivileged user);
- user: {exists, uid, gid, home} of the notebook user;
- gpu: {present, forced, evidence}: an NVIDIA GPU is present when the driver is loaded
  (/proc/driver/nvidia/version), a /dev/nvidiaN node exists, or a PCI function has vendor
  0x10de and class 0x0300xx (VGA) or 0x0302xx (3D controller); "gpu": "true"/"false"
  overrides the detection;
- venv: {exists, usable, reason, version, installed, uv, uv_ok}: usable means bin/python runs
  and is the same major.minor as both the environment was made with and this interpreter; an
  environment that is not usable has to be made again (a new OS on an old data disk); uv_ok
  means its uv is installed at a version the "uv" specifier (e.g. ">=0.11") accepts, so the
  pip bootstrap can be skipped;
- requirements: the packages to install from the package index, with every cpu_variants key
  replaced by its value when there is no GPU (xgboost -> xgboost-cpu: no 1.4 GB of CUDA
  libraries), and without the PyTorch packages;
- torch: {requirements, backend, index, cuda, driver, driver_cuda, error}: the PyTorch
  packages ("torch_packages" names them: torch, torchvision, ...) go to PyTorch's own index
  (https://download.pytorch.org/whl/BACKEND). With a GPU, torch is added ("torch_gpu") and the
  backend is cuXYZ, the highest of "torch_cuda_variants" not above the CUDA version the
  driver reports (`nvidia-smi -q -x`, <cuda_version>; the plain table's "CUDA Version" when
  the XML cannot be read); error says why there is none (no driver loaded, a driver too old
  for every variant). Without a GPU the backend is cpu, and torch only when it was asked for;
  reinstall names the installed PyTorch packages of another build (+cpu where cu130 is due);
- uninstall: the installed packages that clash with a chosen variant (both xgboost and
  xgboost-cpu ship the module `xgboost`), to remove before installing.
"""

from __future__ import annotations

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


def missing_prerequisites() -> list[str]:
    """What the role needs from the OS packages and this host does not have."""
    missing = []
    if importlib.util.find_spec("ensurepip") is None:
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
    python_version = ".".join(str(part) for part in sys.version_info[:3])
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
        "missing": missing_prerequisites(),
        "user": user,
        "gpu": gpu,
        "venv": venv,
        "requirements": requirements,
        "torch": torch,
        "uninstall": uninstall,
    }


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(json.dumps({"error": "usage: libs_probe.py '<JSON parameters>'"}))
        return 2
    try:
        result = run(json.loads(argv[1]))
    except (ValueError, KeyError) as exc:
        print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}))
        return 2
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
