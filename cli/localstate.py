"""The local demo stack, found through the state file `make demo DEMO_ARGS=--keep-running` writes."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from cli import ROOT
from cli.target import Target, TargetError
from infra.local.state import alive

STATE_ENV = "APPSTORE_ARCHIVE_STATE"  # overrides where the state file is looked for
RELATIVE = Path(".demo") / "stack.json"
START_HINT = "start one with `make demo DEMO_ARGS=--keep-running`"


def _git_root(start: Path) -> Path | None:
    """The root of the git work tree holding `start`, if any."""
    try:
        found = subprocess.run(  # noqa: S603 - fixed command, no shell
            ["git", "-C", str(start), "rev-parse", "--show-toplevel"],  # noqa: S607 - git from PATH
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return Path(found.stdout.strip()) if found.returncode == 0 and found.stdout.strip() else None


def candidates(explicit: Path | None = None, cwd: Path | None = None) -> list[Path]:
    """Where the state file may be, in order: explicit, $APPSTORE_ARCHIVE_STATE, the current git root, this checkout."""
    if explicit is not None:
        return [explicit]
    if os.environ.get(STATE_ENV):
        return [Path(os.environ[STATE_ENV])]
    roots = [_git_root(cwd or Path.cwd()), ROOT]
    return list(dict.fromkeys(root / RELATIVE for root in roots if root is not None))


def read_state(path: Path) -> dict[str, Any]:
    """The state file's JSON, checked for version and a live demo process."""
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise TargetError(f"cannot read the local stack's state file {path}: {exc}") from None
    if not isinstance(state, dict) or state.get("version") != 1:
        raise TargetError(f"{path} is not a version 1 local stack state file")
    pid = state.get("pid")
    if not isinstance(pid, int) or pid <= 0 or not alive(pid):
        raise TargetError(f"the local stack in {path} is not running any more (pid {state.get('pid')} has ended); {START_HINT}")
    missing = [k for k in ("endpoint_url", "bucket", "prefix", "database", "table") if not isinstance(state.get(k), str)]
    if missing:
        raise TargetError(f"{path} lacks {', '.join(missing)}")
    return state


def from_state_file(explicit: Path | None = None) -> Target:
    """The local stack's target, or a clear error when none is running."""
    paths = candidates(explicit)
    found = next((p for p in paths if p.is_file()), None)
    if found is None:
        raise TargetError(f"no local stack is running (no {' or '.join(str(p) for p in paths)}); {START_HINT}")
    state = read_state(found)
    env = state.get("function_env") or {}
    return Target(
        label=f"local stack at {state['endpoint_url']}",
        region=str(state.get("region") or "us-east-1"),
        bucket=state["bucket"],
        prefix=state["prefix"],
        database=state["database"],
        table=state["table"],
        workgroup=state.get("workgroup") or None,
        function=None,
        stack=None,
        endpoint_url=state["endpoint_url"],
        function_env={str(k): str(v) for k, v in env.items()},
    )
