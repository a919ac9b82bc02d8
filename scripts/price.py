#!/usr/bin/env python3
"""Prices of one instance type by region and zone: see `price.py --help`.
Logic lives in scripts/mlbox_cli."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mlbox_cli.price import main

if __name__ == "__main__":
    sys.exit(main())
