"""What `y` copies: an alert's labels as a matcher string, `{alertname="…",model="…"}`.

The result pastes into PromQL (`ALERTS{…}`), `amtool silence add '…'` / `amtool alert query '…'` and
Alertmanager's UI. Values are quoted Go/PromQL style: backslash, double quote and newline are escaped
(`\\\\`, `\\"`, `\\n`), every other control character becomes `\\u00XX`, so a hostile label can neither
break out of its quotes nor put a control sequence on the clipboard. Label names that are not classic
identifiers are quoted the same way (Prometheus 3 UTF-8 names).
"""

from __future__ import annotations

import re
from typing import Mapping

_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*\Z")
_SIMPLE = {"\\": "\\\\", '"': '\\"', "\n": "\\n"}


def quote(value: str) -> str:
    out = []
    for ch in value:
        if ch in _SIMPLE:
            out.append(_SIMPLE[ch])
        elif ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F or ch in "\u2028\u2029":
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def matcher_string(labels: Mapping[str, str]) -> str:
    """`{alertname="…",other="…"}`: alertname first, then the other labels sorted by name."""
    names = sorted(labels, key=lambda n: (n != "alertname", n))
    parts = [f"{n if _NAME.match(n) else quote(n)}={quote(labels[n])}" for n in names]
    return "{" + ",".join(parts) + "}"
