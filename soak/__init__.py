"""Randomized fault soak of the archiver: real processes, real HTTP, random faults and kills, invariants after every run."""

import sys
from pathlib import Path

FUNCTION_DIR = Path(__file__).resolve().parents[1] / "functions" / "archiver"
if str(FUNCTION_DIR) not in sys.path:  # the function's modules, as at the root of the Lambda package
    sys.path.insert(0, str(FUNCTION_DIR))
