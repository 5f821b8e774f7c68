"""Deliberately broken archivers, loaded by soak.child only when SOAK_BROKEN names one (for the soak's own test)."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.awsrequest import AWSResponse, HTTPHeaders


def _skip_version_deletes(params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
    """Answer every DeleteObject of one version as done without sending it: no rollback ever happens."""
    if "versionId" in params.get("query_string", {}):
        return AWSResponse(params.get("url", ""), 204, HTTPHeaders(), None), {"ResponseMetadata": {"HTTPStatusCode": 204}}
    return None


def install(name: str) -> None:
    """Break the archiver in this process as `name` says: 'no-rollback' (a written version is never deleted)."""
    if name != "no-rollback":
        raise ValueError(f"unknown broken archiver {name!r}; expected 'no-rollback'")
    boto3.setup_default_session()  # app.clients() creates its clients from this session
    assert boto3.DEFAULT_SESSION is not None
    boto3.DEFAULT_SESSION.events.register("before-call.s3.DeleteObject", _skip_version_deletes)  # type: ignore[arg-type]
