"""Just enough PromQL for the signal sparklines: split an alert rule's top-level comparison from its
expression (`<signal> > 2` → signal, `>`, 2), quote label values, fill query templates.

No full parser: a scanner that skips strings, comments and bracketed parts, and finds binary operators
at nesting depth 0. Anything it cannot split safely (set operators at the top, no comparison, a
comparison against a series) is reported as such and the whole expression is plotted without a
threshold — never a guessed one.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

COMPARISONS = ("==", "!=", ">=", "<=", ">", "<")
_FLIP = {">": "<", "<": ">", ">=": "<=", "<=": ">=", "==": "==", "!=": "!="}
_SET_OPS = {"and", "or", "unless"}
_MODIFIERS = {"on", "ignoring", "group_left", "group_right"}
_WORD = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")
_NUMBER = re.compile(r"[+-]?(?:0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[iI][nN][fF]|[nN][aA][nN])")


@dataclass(frozen=True)
class Comparison:
    """An expression split at its top-level comparison. `threshold` is None when it is not a number."""

    signal: str
    op: str = ""
    threshold: float | None = None
    note: str = ""

    def breached(self, value: float) -> bool:
        return breaches(value, self.op, self.threshold)


def breaches(value: float, op: str, threshold: float | None) -> bool:
    """Whether `value` satisfies the alert's comparison (NaN never does, as in Prometheus)."""
    if threshold is None or not op or math.isnan(value):
        return False
    return {">": value > threshold, "<": value < threshold, ">=": value >= threshold,
            "<=": value <= threshold, "==": value == threshold, "!=": value != threshold}[op]


def _skip_string(expr: str, i: int) -> int:
    """Index just past the string literal starting at `i` (backslash escapes, except in `raw`)."""
    quote_char, j, n = expr[i], i + 1, len(expr)
    while j < n and expr[j] != quote_char:
        j += 2 if (expr[j] == "\\" and quote_char != "`") else 1
    return j + 1


def strip_comments(expr: str) -> str:
    """`expr` without its `# …` comments (a `#` inside a string literal stays)."""
    out, i, n = [], 0, len(expr)
    while i < n:
        c = expr[i]
        if c in "\"'`":
            j = _skip_string(expr, i)
            out.append(expr[i:j])
            i = j
        elif c == "#":
            j = expr.find("\n", i)
            i = n if j < 0 else j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _top_level_tokens(expr: str):
    """Yield (position, token) of operators and words found at nesting depth 0."""
    depth = 0
    i, n = 0, len(expr)
    while i < n:
        c = expr[i]
        if c in "\"'`":
            i = _skip_string(expr, i)
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth = max(0, depth - 1)
        elif depth == 0:
            two = expr[i:i + 2]
            if two in ("==", "!=", ">=", "<="):
                yield i, two
                i += 2
                continue
            if c in "<>":
                yield i, c
            elif c.isalpha() or c == "_":
                m = _WORD.match(expr, i)
                if m:
                    yield i, m.group(0)
                    i = m.end()
                    continue
        i += 1


def _strip_parens(text: str) -> str:
    text = text.strip()
    while text.startswith("(") and text.endswith(")"):
        depth = 0
        for i, c in enumerate(text):  # the outer pair must enclose everything
            depth += c == "("
            depth -= c == ")"
            if depth == 0 and i < len(text) - 1:
                return text
        text = text[1:-1].strip()
    return text


def parse_number(text: str) -> float | None:
    text = _strip_parens(text)
    if not _NUMBER.fullmatch(text):
        return None
    try:
        return float(int(text, 16)) if text.lower().lstrip("+-").startswith("0x") else float(text)
    except ValueError:
        return None


def _skip_modifiers(rhs: str) -> tuple[str, bool]:
    """Drop `bool` and `on(...)`/`ignoring(...)`/`group_left(...)` from the start of the right side."""
    had_bool = False
    text = rhs.lstrip()
    while True:
        m = _WORD.match(text)
        if not m or m.group(0).lower() not in _MODIFIERS | {"bool"}:
            return text, had_bool
        word = m.group(0).lower()
        had_bool = had_bool or word == "bool"
        text = text[m.end():].lstrip()
        if word != "bool" and text.startswith("("):
            depth = 0
            for i, c in enumerate(text):
                depth += c == "("
                depth -= c == ")"
                if depth == 0:
                    text = text[i + 1:].lstrip()
                    break


def split_comparison(expr: str) -> Comparison:
    """The signal of an alert expression and its threshold, when the top of the expression is
    `<signal> <op> <number>` (or `<number> <op> <signal>`)."""
    expr = _strip_parens(strip_comments(expr))
    last: tuple[int, str] | None = None
    for pos, token in _top_level_tokens(expr):
        if token.lower() in _SET_OPS:
            return Comparison(expr, note=f"the expression combines series with `{token}`: no single threshold")
        if token in COMPARISONS:
            last = (pos, token)  # comparisons are left-associative: the last one is at the top
    if last is None:
        return Comparison(_strip_parens(expr), note="the expression has no comparison: no threshold")
    pos, op = last
    lhs, rhs = expr[:pos].strip(), expr[pos + len(op):]
    rhs, had_bool = _skip_modifiers(rhs)
    note = "the comparison uses `bool`" if had_bool else ""
    number = parse_number(rhs)
    if number is not None and lhs:
        return Comparison(_strip_parens(lhs), op, number, note)
    number = parse_number(lhs)
    if number is not None and rhs.strip():
        return Comparison(_strip_parens(rhs), _FLIP[op], number, note)
    return Comparison(_strip_parens(lhs) or expr, op, None,
                      note or "the threshold is itself a series: not drawn as a number")


def escape(value: str) -> str:
    """`value` made safe to sit between the double quotes of a PromQL string literal."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")


def quote(value: str) -> str:
    """A PromQL double-quoted string literal holding `value` exactly."""
    return f'"{escape(value)}"'


def duration(seconds: float) -> str:
    """A PromQL duration for a whole number of seconds, e.g. 300 → `5m`, 1800 → `30m`, 90 → `90s`."""
    s = max(1, int(math.ceil(seconds)))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if s % size == 0:
            return f"{s // size}{unit}"
    return f"{s}s"


def fill(template: str, values: dict[str, str]) -> str:
    """Replace `$name` placeholders (longest names first). Values must already be PromQL-safe: a label
    value passes through `escape` and the template writes it between double quotes, `{model="$model"}`."""
    for name in sorted(values, key=len, reverse=True):
        template = template.replace(f"${name}", values[name])
    return template
