"""POST /webhook: verify, parse, dedupe, route, queue, acknowledge.

Everything here is quick and bounded (an HMAC over the body, a JSON parse, a few dictionary
lookups), so GitHub gets its answer in milliseconds and the review runs in the background.
Status codes tell the delivery log what happened: 401 bad or missing signature, 413 body over
GitHub's 25 MB cap, 400 malformed JSON or a payload without the fields its event must have,
202 accepted (queued or deliberately ignored, with the reason), 200 for ping and for a delivery
id seen before, 503 when the queue is full (the delivery shows as failed and can be redelivered).
Bad input never produces a 500: the last handler turns any surprise into a logged 400.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from aiohttp import web
from gidgethub import ValidationFailure, sansio

from bot import routes
from bot.jobs import QueueFull

if TYPE_CHECKING:
    from bot.app import Service

log = logging.getLogger("ladder.webhook")

MAX_BODY = 25 * 1024 * 1024

# Events the App subscribes to or GitHub sends an App anyway; others are counted as "other".
KNOWN_EVENTS = frozenset(
    {
        "pull_request",
        "check_suite",
        "check_run",
        "issue_comment",
        "installation",
        "installation_repositories",
        "ping",
    }
)
# Bodies up to this size are verified and parsed on the event loop (GitHub's usual payloads
# are 10-60 KB: well under a millisecond); larger ones in a worker thread.
INLINE_BYTES = 512 * 1024
# Outcomes decided before the signature was verified.
_UNVERIFIED = frozenset({"too_large", "unsigned", "bad_signature"})


def _answer(http_status: int, **fields: Any) -> web.Response:
    return web.json_response(fields, status=http_status)


async def receive(request: web.Request) -> web.Response:
    from bot.app import SERVICE

    service: Service = request.app[SERVICE]
    started = time.perf_counter()
    event_name = request.headers.get("X-GitHub-Event", "")
    delivery = request.headers.get("X-GitHub-Delivery", "")
    facts: dict[str, Any] = {}
    status, outcome, response = await _handle(request, service, event_name, delivery, facts)
    elapsed = time.perf_counter() - started
    # Label values come from a fixed set: a header anyone can send must not mint series.
    verified = outcome not in _UNVERIFIED
    label = (event_name if event_name in KNOWN_EVENTS else "other") if verified else "unverified"
    service.metrics.webhooks.inc(event=label, outcome=outcome)
    service.metrics.webhook_seconds.observe(elapsed)
    log.info(
        "webhook",
        extra={
            "delivery_id": delivery,
            "event": event_name,
            "action": facts.get("action"),
            "status": status,
            "outcome": outcome,
            "ms": round(elapsed * 1000, 2),
        },
    )
    return response


async def _handle(
    request: web.Request,
    service: Service,
    event_name: str,
    delivery: str,
    facts: dict[str, Any],
) -> tuple[int, str, web.Response]:
    if request.content_length is not None and request.content_length > MAX_BODY:
        return 413, "too_large", _answer(413, error="payload over 25 MB")
    # The signature header is checked before the body is read: no one buffers 25 MB here
    # without at least claiming to be GitHub.
    signature = request.headers.get("X-Hub-Signature-256", "")
    if not signature:
        return 401, "unsigned", _answer(401, error="missing X-Hub-Signature-256 header")
    if not (signature.isascii() and signature.startswith("sha256=")):
        # Only SHA-256 is trusted; and the comparison below needs ASCII on both sides.
        return 401, "bad_signature", _answer(401, error="signature is not sha256=<hex>")
    secret = service.settings.webhook_secret.reveal()
    content_type = request.headers.get("Content-Type", "")
    small = request.content_length is not None and request.content_length <= INLINE_BYTES
    gate = contextlib.nullcontext() if small else service.large_bodies
    async with gate:  # a few large bodies at a time bound the memory they hold
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return 413, "too_large", _answer(413, error="payload over 25 MB")
        if len(body) <= INLINE_BYTES:
            valid = _verified(body, signature, secret)
        else:
            # Hashing megabytes takes tens of milliseconds: not on the event loop. (The JSON
            # parse below holds the GIL even in a thread, but at least runs beside I/O.)
            loop = asyncio.get_running_loop()
            valid = await loop.run_in_executor(None, _verified, body, signature, secret)
        if not valid:
            return 401, "bad_signature", _answer(401, error="signature does not match")
        if len(body) <= INLINE_BYTES:
            data = _payload(body, content_type)
        else:
            loop = asyncio.get_running_loop()
            data = await loop.run_in_executor(None, _payload, body, content_type)
    if not event_name or not delivery:
        return (
            400,
            "malformed",
            _answer(400, error="missing X-GitHub-Event or X-GitHub-Delivery header"),
        )
    if not isinstance(data, dict):
        return 400, "malformed", _answer(400, error="body is not a JSON object")
    action = data.get("action")
    facts["action"] = action
    if event_name == "ping":
        return 200, "pong", _answer(200, msg="pong", zen=data.get("zen"))
    if service.seen(delivery):
        return 200, "duplicate", _answer(200, status="duplicate delivery", delivery=delivery)
    event = sansio.Event(data, event=event_name, delivery_id=delivery)
    intake = routes.Intake()
    try:
        await routes.router.dispatch(event, intake)
    except routes.PayloadError as exc:
        return 400, "malformed", _answer(400, error=str(exc))
    except Exception as exc:  # never a 500 for a payload we did not expect
        log.exception("routing failed", extra={"delivery_id": delivery, "event": event_name})
        return 400, "malformed", _answer(400, error=f"unexpected payload ({type(exc).__name__})")
    for change, installation_id in intake.installation_changes:
        service.installation_changed(change, installation_id)
    queued: list[str] = []
    try:
        for work in intake.work:
            queued.append(service.submit(work))
    except QueueFull as exc:
        return 503, "saturated", _answer(503, error=f"busy: {exc}; redeliver later")
    service.remember(delivery)
    if not intake.work:
        handled = f"{event_name}.{action}" if action else event_name
        reason = "; ".join(intake.ignored) or f"{handled} is not handled"
        return 202, "ignored", _answer(202, status="ignored", reason=reason)
    outcome = "queued" if any(q != "duplicate" for q in queued) else "duplicate"
    return 202, outcome, _answer(202, status=outcome, jobs=queued)


def _verified(body: bytes, signature: str, secret: str) -> bool:
    try:
        sansio.validate_event(body, signature=signature, secret=secret)
    except ValidationFailure:
        return False
    return True


def _payload(body: bytes, content_type: str) -> Any:
    """JSON, or the form-encoded `payload=` GitHub sends when a hook is set to that type."""
    try:
        if content_type.startswith("application/x-www-form-urlencoded"):
            form = parse_qs(body.decode("utf-8"))
            return json.loads(form.get("payload", [""])[0])
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
