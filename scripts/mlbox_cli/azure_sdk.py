"""Azure's SDK is an optional install (~60 packages): made on demand for --cloud azure.

The cloud_azure role runs azure.azcollection's modules with the collection root's
.venv-azure (or MLBOX_AZURE_PYTHON); tests/setup/azure.sh makes that venv, and is a no-op
(under a second) when it is up to date.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

from .errors import CliError
from .progress import Output

PYTHON_ENV = "MLBOX_AZURE_PYTHON"
SETUP = Path("tests") / "setup" / "azure.sh"
COMMAND = "make setup-azure"


def ensure_azure_sdk(project: Path, environ: Mapping[str, str], output: Output) -> None:
    """Install the SDK into project/.venv-azure unless the user points at their own."""
    if environ.get(PYTHON_ENV):
        return
    venv_python = project / ".venv-azure" / "bin" / "python"
    script = project / SETUP
    if not script.is_file():
        if venv_python.exists():
            return
        raise CliError(
            f"Azure's SDK is not installed and {script} is missing: install "
            "azure.azcollection's requirements.txt into a Python and set "
            f"{PYTHON_ENV} to it"
        )
    if not venv_python.exists():
        output.text("installing Azure's SDK into .venv-azure (once; about a minute)")
    result = subprocess.run(
        ["bash", str(script)], cwd=project, env=dict(os.environ), capture_output=True, text=True,
        check=False,
    )  # fmt: skip
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
        raise CliError(
            f"installing Azure's SDK failed ({detail[0]}); run `{COMMAND}` "
            f"(bash {SETUP}) in {project} and try again"
        )
