"""appstore-archive: the operator command line of the Appstore sales archive (status, verify, run, query).

The CLI runs from a checkout of this repository: it imports the function's own modules
(`archiver.*` under functions/archiver) and the local stack's (`infra.local`), never copies of
them. When they are not importable yet (an editable install only maps `cli`), their folders are
appended to sys.path here.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FUNCTION_DIR = ROOT / "functions" / "archiver"

for _folder in (FUNCTION_DIR, ROOT):
    if str(_folder) not in sys.path:
        sys.path.append(str(_folder))
