"""The OAuth token endpoint: POST /auth/o2/token, the client-credentials grant for the reporting scope."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

from infra.local.emulator.faults import common_fault
from infra.local.emulator.replies import Reply, json_reply, oauth_error

if TYPE_CHECKING:
    from infra.local.emulator.state import EmulatorState

REPORTING_SCOPE = "adx_reporting::appstore:marketer"


def token_reply(emu: EmulatorState, method: str, headers: dict[str, str], body: bytes) -> Reply:
    """POST /auth/o2/token: client-credentials grant for the reporting scope."""
    if method != "POST":
        return oauth_error(405, "invalid_request", "The token endpoint accepts POST only")
    fault = emu.take_fault("token")
    reply = common_fault("token", fault)
    if reply is not None:
        return reply
    name = fault.name if fault else ""
    if headers.get("content-type", "").split(";")[0].strip().lower() != "application/x-www-form-urlencoded":
        return oauth_error(400, "invalid_request", "Content-Type must be application/x-www-form-urlencoded")
    try:
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8"), keep_blank_values=True).items()}
    except UnicodeDecodeError:
        return oauth_error(400, "invalid_request", "The request body is not valid form data")
    grant = form.get("grant_type", "")
    if not grant:
        return oauth_error(400, "invalid_request", "The request is missing grant_type")
    if grant != "client_credentials":
        return oauth_error(400, "unsupported_grant_type", "The grant type is not supported")
    if not form.get("client_id") or not form.get("client_secret") or not form.get("scope"):
        return oauth_error(400, "invalid_request", "The request is missing client_id, client_secret or scope")
    authenticated = emu.authenticates(form["client_id"], form["client_secret"])
    if name == "invalid_client" or not authenticated:
        return oauth_error(401, "invalid_client", "Client authentication failed")
    if name == "invalid_scope" or form["scope"] != REPORTING_SCOPE:
        return oauth_error(400, "invalid_scope", "An unknown scope was requested")
    token = "Atc|" + secrets.token_urlsafe(96) if name == "invalid_token" else emu.issue_token()
    payload = {"access_token": token, "scope": form["scope"], "token_type": "bearer", "expires_in": emu.token_ttl}
    reply = json_reply(200, payload, **{"Cache-Control": "no-store"})
    reply.truncate = name == "truncate"
    return reply
