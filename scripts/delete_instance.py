#!/usr/bin/env python3
"""Delete a workbench: see `delete_instance.py --help`. Logic lives in scripts/mlbox_cli."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mlbox_cli.delete import main

if __name__ == "__main__":
    sys.exit(main())
