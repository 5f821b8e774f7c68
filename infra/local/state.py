"""`.demo/stack.json`: where a running `make demo DEMO_ARGS=--keep-running` stack can be reached (read by other tools)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
STATE_FILE = REPO / ".demo" / "stack.json"
VERSION = 1


def write_state(state: dict[str, Any], path: Path = STATE_FILE) -> Path:
    """Write the state atomically (a reader never sees half a file), with this process's pid."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    partial.write_text(json.dumps({"version": VERSION, "pid": os.getpid(), **state}, indent=2) + "\n", encoding="utf-8")
    partial.replace(path)
    return path


def remove_state(path: Path = STATE_FILE) -> None:
    """Remove the state file if this process wrote it."""
    try:
        if json.loads(path.read_text(encoding="utf-8")).get("pid") == os.getpid():
            path.unlink()
    except (OSError, ValueError):
        pass


def alive(pid: int) -> bool:
    """Whether a process with this pid exists."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_state(path: Path = STATE_FILE) -> dict[str, Any] | None:
    """The running stack's state, or None when there is none or its process is gone (a stale file)."""
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(state, dict) or state.get("version") != VERSION or not isinstance(state.get("pid"), int):
        return None
    return state if alive(state["pid"]) else None
