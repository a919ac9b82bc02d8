#!/usr/bin/env python3
"""Start a workbench: see `start_instance.py --help`. Logic lives in scripts/mlbox_cli."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mlbox_cli.start import main

if __name__ == "__main__":
    sys.exit(main())
