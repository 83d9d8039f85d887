"""The one way a remote string reaches the screen (DESIGN §7).

Every label, annotation, event, log line or tag that came from a server is *data*: it is never parsed
as markup and it never carries terminal control sequences to the engineer's terminal.
"""

from __future__ import annotations

import re

from rich.text import Text

# Whole escape sequences first (CSI, OSC, DCS/APC/PM/SOS strings, other ESC x), in 7-bit and 8-bit form,
# then any remaining C0 (except tab and newline), DEL and C1 code point.
_SEQUENCES = re.compile(
    r"""
    (?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?                       # CSI ... final byte
  | (?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])                 # OSC, DCS, SOS, PM, APC ...
      .*?(?:\x07|\x1b\\|\x9c|$)                             # ... up to BEL or ST (or the end)
  | \x1b[ -/]*[0-~]?                                        # other ESC sequences (incl. a lone ESC)
    """,
    re.VERBOSE | re.DOTALL,
)
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")

TRUNCATION_MARKER = "…[truncated]"


def sanitize(value: object, *, max_len: int | None = None, single_line: bool = False) -> str:
    """Return `value` as a plain string with every terminal control sequence removed.

    `single_line` turns newlines and tabs into spaces (for table cells); `max_len` truncates with a
    visible marker so an enormous annotation cannot swamp a panel.
    """
    text = "" if value is None else str(value)
    text = _SEQUENCES.sub("", text)
    text = _CONTROLS.sub("", text)
    if single_line:
        text = text.replace("\r", " ").replace("\n", " ").replace("\t", " ")
    if max_len is not None and len(text) > max_len:
        keep = max(0, max_len - len(TRUNCATION_MARKER))
        text = text[:keep] + TRUNCATION_MARKER
    return text


def safe(value: object, style: str = "", *, max_len: int | None = None, single_line: bool = False) -> Text:
    """A rich `Text` holding the sanitized value literally: brackets are shown, never interpreted."""
    return Text(sanitize(value, max_len=max_len, single_line=single_line), style=style, end="")


def join(*parts: Text | str, sep: str = "") -> Text:
    """Join pieces into one Text. Plain `str` parts must be the program's own text, never remote."""
    out = Text(end="")
    for i, part in enumerate(parts):
        if i and sep:
            out.append(sep)
        out.append(part if isinstance(part, Text) else Text(part))
    return out


_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]*@")


def redact_url(url: str) -> str:
    """Drop `user:password@` from a URL so it can be shown or logged."""
    return _USERINFO.sub(r"\g<scheme>", url)
