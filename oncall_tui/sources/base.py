"""What every HTTP source shares: errors that say what went wrong, and JSON decoding that never crashes."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from ..safe_text import redact_url, sanitize

if TYPE_CHECKING:  # httpx costs ~0.2 s to import: keep it off the path to the first frame
    import httpx


class SourceError(Exception):
    """A backend could not answer usefully. `kind` is short (timeout, refused, http 500, bad json…)."""

    def __init__(self, kind: str, message: str = ""):
        self.kind = kind
        self.message = sanitize(message, max_len=300, single_line=True)
        super().__init__(f"{kind}: {self.message}" if self.message else kind)


def describe_http_error(exc: Exception, url: str) -> SourceError:
    """Turn an httpx exception into a SourceError an engineer can act on (no credentials in it)."""
    import httpx

    where = redact_url(url)
    if isinstance(exc, httpx.TimeoutException):
        return SourceError("timeout", f"no answer from {where}")
    if isinstance(exc, httpx.ConnectError):
        text = str(exc)
        kind = "connection refused" if "refused" in text.lower() else "cannot connect"
        return SourceError(kind, where)
    if isinstance(exc, httpx.HTTPStatusError):
        body = exc.response.text[:300]
        return SourceError(f"http {exc.response.status_code}", f"{where}: {body}")
    return SourceError(type(exc).__name__, f"{where}: {exc}")


_FRACTION = re.compile(r"\.\d+")


def parse_time(value: Any) -> datetime | None:
    """RFC 3339 as Alertmanager and Prometheus write it (nanoseconds, `Z`), or None."""
    if not value or not isinstance(value, str):
        return None
    text = _FRACTION.sub(lambda m: m[0][:7], value.strip().replace("Z", "+00:00"))  # at most µs
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    if parsed.year <= 1:  # Go's zero time: "0001-01-01T00:00:00Z"
        return None
    return parsed


def json_body(response: httpx.Response, url: str) -> Any:
    """The response's JSON, or a SourceError naming the problem."""
    import httpx

    try:
        response.raise_for_status()
    except httpx.HTTPStatusError as exc:
        raise describe_http_error(exc, url) from None
    try:
        return response.json()
    except ValueError:
        snippet = response.text[:120]
        raise SourceError("bad json", f"{redact_url(url)} answered something that is not JSON: {snippet!r}") from None


def str_map(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        raise TypeError("expected an object of strings")
    return {str(k): str(v) for k, v in value.items()}
