"""Benchmarks of the archiver, each a ratio against a baseline measured in the same run (`python -m bench`)."""

import sys
from pathlib import Path

# The function's own layout: `app` and `archiver` are top-level modules of functions/archiver.
_FUNCTION_DIR = str(Path(__file__).resolve().parents[1] / "functions" / "archiver")
if _FUNCTION_DIR not in sys.path:
    sys.path.insert(0, _FUNCTION_DIR)
