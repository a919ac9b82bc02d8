#!/usr/bin/env python3
"""Time-to-notebook, side by side, on fresh containers from the local image.

    python bench/run.py [--reps 3] [--only baseline,floor,cold,warm,noop]

Each variant starts from nothing running and ends when the notebook answers an HTTPS login
with the password (polled all along: the roles, like the floor, start the notebook before
the everyday tools are all in, and say so; the end of the whole run is reported beside it):
  baseline  the seeds' way by hand (bench/baseline.sh: apt, venv, pip, openssl, start)
  floor     only the installers the roles use (bench/floor.sh: one apt transaction, uv)
  cold      playbooks/provision.yml -e cloud=local on a new, blank data disk
  warm      a new instance on the existing data disk (its environment and caches there)
  noop      provision.yml again on the running workbench (its notebook answers all along:
            its time is the run's)
The medians, ratios to the baseline, the gap to the floor, changed-task counts, the task
results (ok + skipped on every host) and the slowest tasks go to bench/results/<UTC time>.md
and bench/results/latest.md. Nothing here asserts on time: the benchmark reports.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import requests
import urllib3

urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
IMAGE = os.environ.get("MLBOX_IMAGE", "localhost/mlbox-debian:bookworm")
VARIANTS = ("baseline", "floor", "cold", "warm", "noop")
LOGIN_TIMEOUT = 900


def podman_settings() -> Any:
    """What podman needs on this machine (runtime, --ulimit), as cloud_local works it out:
    the collection's plugins/module_utils/local_podman.py, loaded by path."""
    path = ROOT / "plugins" / "module_utils" / "local_podman.py"
    spec = importlib.util.spec_from_file_location("mlbox_local_podman", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    # dataclasses look their module up in sys.modules while the class is made.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module.settings()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def login_answers(port: int, password: str) -> bool:
    http = requests.Session()
    http.trust_env = False
    http.verify = False
    try:
        http.get(f"https://127.0.0.1:{port}/login", timeout=5).raise_for_status()
        response = http.post(
            f"https://127.0.0.1:{port}/login",
            data={"password": password, "_xsrf": http.cookies.get("_xsrf", "")},
            allow_redirects=False,
            timeout=10,
        )
    except requests.RequestException:
        return False
    return response.status_code == 302


def wait_for_login(port: int, password: str, started: float) -> float:
    """Poll with backoff until the login works; seconds since `started`."""
    delay = 0.2
    while time.monotonic() - started < LOGIN_TIMEOUT:
        if login_answers(port, password):
            return time.monotonic() - started
        time.sleep(delay)
        delay = min(delay * 1.5, 2.0)
    raise RuntimeError(f"the notebook on port {port} never answered the login")


class LoginWatch:
    """Polls the login while a variant runs: when did the notebook first answer?

    The roles announce the notebook as soon as it answers and finish the everyday tools and
    the GitHub key after that, so the time to the notebook and the time to the end of the
    run are two numbers. Polls every 0.25 s: the measurement's own resolution.
    """

    def __init__(self, port: int, password: str, started: float) -> None:
        self.port, self.password, self.started = port, password, started
        self.first: float | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        while not self._stop.is_set():
            if login_answers(self.port, self.password):
                self.first = time.monotonic() - self.started
                return
            self._stop.wait(0.25)

    def finish(self) -> tuple[float, float]:
        """(first answer, end of the run verified by a login): seconds since the start.
        The caller stops the watch, also when the run failed."""
        done = wait_for_login(self.port, self.password, self.started)
        return (self.first if self.first is not None else done), done

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


class Shell:
    """baseline / floor: a script run in a fresh container of the image."""

    def __init__(self, script: str, password: str, env: dict[str, str]) -> None:
        self.script = script
        self.password = password
        self.env = env
        self.name = f"mlbox-bench-{script}-{secrets.token_hex(3)}"

    def run(self) -> dict[str, Any]:
        port = free_port()
        started = time.monotonic()
        watch = LoginWatch(port, self.password, started)
        subprocess.run(
            ["podman", "run", *podman_settings().run_args, "-d", "--name", self.name,
             "--systemd=always", "-p", f"127.0.0.1:{port}:{port}", IMAGE, "/lib/systemd/systemd"],
            check=True, capture_output=True, env=self.env,
        )  # fmt: skip
        try:
            for src, dst in (("common.sh", "bench-common.sh"), (f"{self.script}.sh", "bench.sh")):
                subprocess.run(
                    ["podman", "cp", str(BENCH / src), f"{self.name}:/root/{dst}"],
                    check=True, capture_output=True, env=self.env,
                )  # fmt: skip
            # The password reaches the container through the environment, never argv.
            env = dict(self.env, WB_PASSWORD=self.password)
            subprocess.run(
                ["podman", "exec", "-e", "WB_PASSWORD", "-e", f"WB_PORT={port}", self.name,
                 "bash", "/root/bench.sh"],
                check=True, capture_output=True, env=env, timeout=LOGIN_TIMEOUT,
            )  # fmt: skip
            notebook, done = watch.finish()
        finally:
            watch.stop()
            subprocess.run(
                ["podman", "rm", "-f", "-t", "2", self.name], capture_output=True, check=False
            )
        return {"seconds": notebook, "notebook": notebook, "done": done, "changed": None,
                "count": None, "tasks": []}  # fmt: skip


class Workbench:
    """cold / warm / noop: the real playbooks with cloud=local, in a HOME of their own."""

    def __init__(self, password: str, env: dict[str, str]) -> None:
        self.home = Path(tempfile.mkdtemp(prefix="mlbox-bench-"))
        self.password = password
        self.name = f"bench{secrets.token_hex(3)}"
        self.port = free_port()
        self.vars = {
            "cloud": "local",
            "workbench_name": self.name,
            "workbench_state_dir": str(self.home / "state"),
            "workbench_notebook_port": self.port,
            "workbench_local_ssh_port": free_port(),
        }
        self.env = {k: v for k, v in env.items() if not k.startswith(("ANSIBLE_", "XDG_"))}
        self.env.update(
            HOME=str(self.home),
            WORKBENCH_NOTEBOOK_PASSWORD=password,
            ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
            ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
            ANSIBLE_NOCOLOR="1",
        )

    def playbook(self, name: str, **extra: Any) -> dict[str, Any]:
        done = subprocess.run(
            [str(Path(sys.executable).parent / "ansible-playbook"), "-e",
             json.dumps({**self.vars, **extra}), str(ROOT / "playbooks" / name)],
            cwd=ROOT, env=self.env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        match = re.search(r"^\{$", done.stdout, flags=re.MULTILINE)
        report = {}
        if match:
            report, _end = json.JSONDecoder().raw_decode(done.stdout[match.start() :])
        if done.returncode != 0:
            raise RuntimeError(f"{name} failed (rc {done.returncode}): {done.stdout[-2000:]}")
        return report

    def timed(self, name: str, running: bool = False, **extra: Any) -> dict[str, Any]:
        """`running`: the notebook already answers (no-op): only the run's end counts."""
        started = time.monotonic()
        watch = None if running else LoginWatch(self.port, self.password, started)
        try:
            report = self.playbook(name, **extra)
            if watch:
                notebook, done = watch.finish()
            else:
                notebook, done = None, wait_for_login(self.port, self.password, started)
        finally:
            if watch:
                watch.stop()
        stats = report.get("stats", {})
        return {
            "seconds": done if notebook is None else notebook,
            "notebook": notebook,
            "done": done,
            "changed": sum(int(s.get("changed", 0)) for s in stats.values()),
            # Task results on every host, run or skipped: what Ansible's per-task cost pays for.
            "count": sum(int(s.get("ok", 0)) + int(s.get("skipped", 0)) for s in stats.values()),
            "tasks": slowest(report),
        }

    def disk(self) -> str:
        [meta] = (self.home / "state" / "local" / self.name / "disks").glob("*.json")
        return json.loads(meta.read_text())["id"]

    def close(self) -> None:
        try:
            self.playbook("teardown.yml", workbench_delete_disk=True)
            disk = next((self.home / "state" / "local" / self.name / "disks").glob("*.json"), None)
            if disk:
                self.playbook(
                    "teardown.yml", workbench_delete_disk=True, workbench_disk_id=disk.stem
                )
        finally:
            subprocess.run(
                ["podman", "rm", "-f", f"mlbox-{self.name}"], capture_output=True, check=False
            )
            shutil.rmtree(self.home, ignore_errors=True)


def slowest(report: dict[str, Any], count: int = 8) -> list[tuple[float, str]]:
    out = []
    for play in report.get("plays", []):
        for task in play.get("tasks", []):
            duration = task["task"].get("duration", {})
            try:
                start = datetime.fromisoformat(duration["start"].replace("Z", "+00:00"))
                end = datetime.fromisoformat(duration["end"].replace("Z", "+00:00"))
            except (KeyError, ValueError):
                continue
            out.append(((end - start).total_seconds(), task["task"]["name"]))
    return sorted(out, reverse=True)[:count]


def one_round(only: set[str], password: str, env: dict[str, str]) -> dict[str, dict[str, Any]]:
    results: dict[str, dict[str, Any]] = {}
    for script in ("baseline", "floor"):
        if script in only:
            results[script] = Shell(script, password, env).run()
    if only & {"cold", "warm", "noop"}:
        workbench = Workbench(password, env)
        try:
            results["cold"] = workbench.timed("provision.yml")
            if "noop" in only:
                results["noop"] = workbench.timed("provision.yml", running=True)
            if "warm" in only:
                workbench.playbook("teardown.yml")
                results["warm"] = workbench.timed(
                    "provision.yml", workbench_disk_source="existing",
                    workbench_disk_id=workbench.disk(),
                )  # fmt: skip
        finally:
            workbench.close()
        results = {k: v for k, v in results.items() if k in only}
    return results


def machine() -> str:
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")), platform.processor() or "?",
    )  # fmt: skip
    mem = int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30)
    podman = subprocess.run(
        ["podman", "--version"], capture_output=True, text=True, check=False
    ).stdout
    return (
        f"{os.cpu_count()} cores ({cpu}), {mem} GiB, {platform.platform()}, {podman.strip()}, "
        f"image {IMAGE}"
    )


def load() -> str:
    """The 1/5/15-minute load averages: other work on the machine skews every variant."""
    return " / ".join(f"{value:.1f}" for value in os.getloadavg())


def report(rounds: list[dict[str, dict[str, Any]]], reps: int, load_before: str) -> str:
    medians = {}
    for variant in VARIANTS:
        values = [r[variant]["seconds"] for r in rounds if variant in r]
        if values:
            medians[variant] = statistics.median(values)
    base, floor = medians.get("baseline"), medians.get("floor")
    lines = [
        f"# Time to notebook ({datetime.now(timezone.utc):%Y-%m-%d %H:%M UTC})",
        "",
        f"Machine: {machine()}. Medians of {reps} repetition(s), run side by side in one go; "
        "each from nothing running to an HTTPS login with the password, polled while the "
        "variant runs (the roles announce the notebook then, and finish the everyday tools and "
        "the GitHub key after it; the end of the run is the next column). Load average "
        f"(1/5/15 min) at the start {load_before}, at the end {load()}: on a quiet machine "
        "both are near 0; above that, other work shared the cores.",
        "",
        "| variant | to notebook s | runs s | x faster than baseline | above floor s "
        "| run done s | changed | tasks |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for variant, median in medians.items():
        runs = [r[variant] for r in rounds if variant in r]
        ratio = f"{base / median:.1f}x" if base else "-"
        gap = f"{median - floor:+.0f}" if floor is not None else "-"
        changed = "/".join(str(r["changed"]) for r in runs if r["changed"] is not None) or "-"
        times = ", ".join(f"{r['seconds']:.0f}" for r in runs)
        done = statistics.median(r["done"] for r in runs)
        count = "/".join(str(r["count"]) for r in runs if r.get("count") is not None) or "-"
        lines.append(
            f"| {variant} | {median:.0f} | {times} | {ratio} | {gap} | {done:.0f} | {changed} "
            f"| {count} |"
        )
    for variant in ("cold", "warm", "noop"):
        runs = [r[variant] for r in rounds if variant in r]
        if runs:
            median_run = sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]
            lines += ["", f"Slowest tasks, {variant} (its median run):", ""]
            lines += [f"- {seconds:.1f} s {name}" for seconds, name in median_run["tasks"]]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--only", default=",".join(VARIANTS))
    args = parser.parse_args()
    only = set(args.only.split(","))
    unknown = only - set(VARIANTS)
    if unknown:
        parser.error(f"unknown variant(s) {', '.join(sorted(unknown))}; known: {VARIANTS}")
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '')}"
    password = secrets.token_urlsafe(16)
    load_before = load()
    rounds = []
    for rep in range(args.reps):
        print(f"round {rep + 1}/{args.reps} ...", flush=True)
        rounds.append(one_round(only, password, env))
        print("  " + ", ".join(f"{k} {v['seconds']:.0f} s" for k, v in rounds[-1].items()))
    text = report(rounds, args.reps, load_before)
    out = BENCH / "results"
    out.mkdir(exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    (out / f"{stamp}.md").write_text(text)
    (out / "latest.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
