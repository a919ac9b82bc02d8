#!/usr/bin/env python3
"""Every workbench this controller knows and what it costs: see `status.py --help`."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mlbox_cli.status import main

if __name__ == "__main__":
    sys.exit(main())
