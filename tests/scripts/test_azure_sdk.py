"""Azure's optional SDK: installed on demand for --cloud azure, or a clear way to do it."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from mlbox_cli.azure_sdk import ensure_azure_sdk
from mlbox_cli.errors import CliError
from mlbox_cli.progress import Output


def project(tmp_path: Path, script: str | None) -> Path:
    root = tmp_path / "project"
    (root / "tests" / "setup").mkdir(parents=True)
    if script is not None:
        (root / "tests" / "setup" / "azure.sh").write_text(script)
    return root


def test_runs_the_setup_script_and_says_so_once(tmp_path: Path) -> None:
    # The stand-in script makes the venv's python, as the real one does.
    root = project(tmp_path, "mkdir -p .venv-azure/bin && touch .venv-azure/bin/python\n")
    out = io.StringIO()
    ensure_azure_sdk(root, {}, Output(out))
    assert (root / ".venv-azure" / "bin" / "python").exists()
    assert "installing Azure's SDK" in out.getvalue()
    again = io.StringIO()
    ensure_azure_sdk(root, {}, Output(again))
    assert again.getvalue() == ""


def test_a_failed_install_names_the_command(tmp_path: Path) -> None:
    root = project(tmp_path, "echo 'no network' >&2; exit 1\n")
    with pytest.raises(CliError) as raised:
        ensure_azure_sdk(root, {}, Output(io.StringIO()))
    assert "make setup-azure" in str(raised.value)
    assert "no network" in str(raised.value)


def test_own_python_skips_the_install(tmp_path: Path) -> None:
    root = project(tmp_path, "exit 1\n")
    ensure_azure_sdk(root, {"MLBOX_AZURE_PYTHON": "/opt/az/bin/python"}, Output(io.StringIO()))


def test_no_script_and_no_venv(tmp_path: Path) -> None:
    root = project(tmp_path, None)
    with pytest.raises(CliError) as raised:
        ensure_azure_sdk(root, {}, Output(io.StringIO()))
    assert "MLBOX_AZURE_PYTHON" in str(raised.value)
