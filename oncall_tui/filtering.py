"""The `/` filter: free text and label matchers (`label=value`, `label!=value`, `label=~re`, `label!~re`);
`@cluster=eu-prod` (same operators) matches the cluster an alert came from, not a label."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from typing import Callable, Iterable

from .models import Alert, AlertGroup

_MATCHER = re.compile(r"^(?P<name>@cluster|[A-Za-z_][A-Za-z0-9_]*)(?P<op>=~|!~|!=|=)(?P<value>.*)$", re.DOTALL)


class FilterError(ValueError):
    """The filter text cannot be used; the message says why."""


@dataclass(frozen=True)
class Filter:
    text: str
    predicates: tuple[Callable[[Alert], bool], ...]

    def matches(self, alert: Alert) -> bool:
        return all(p(alert) for p in self.predicates)

    def apply(self, groups: Iterable[AlertGroup]) -> list[AlertGroup]:
        if not self.predicates:
            return list(groups)
        out = []
        for g in groups:
            kept = tuple(a for a in g.alerts if self.matches(a))
            if kept:
                out.append(g if len(kept) == len(g.alerts) else AlertGroup(g.key, g.name, g.key_labels, kept))
        return out


def _free_text(word: str) -> Callable[[Alert], bool]:
    needle = word.casefold()

    def match(alert: Alert) -> bool:
        if needle in alert.name.casefold() or needle in alert.summary.casefold():
            return True
        return any(needle in v.casefold() for v in alert.labels.values())

    return match


def _cluster(alert: Alert) -> str:
    return alert.cluster


def _matcher(name: str, op: str, value: str) -> Callable[[Alert], bool]:
    get: Callable[[Alert], str] = _cluster if name == "@cluster" else (lambda a: a.labels.get(name, ""))
    if op in ("=~", "!~"):
        try:
            pattern = re.compile(value)
        except re.error as exc:
            raise FilterError(f"bad regular expression for {name}: {exc}") from None
        want = op == "=~"
        return lambda a: bool(pattern.fullmatch(get(a))) is want
    if op == "=":
        return lambda a: get(a) == value
    return lambda a: get(a) != value


def parse(text: str) -> Filter:
    """Parse filter text. Words are ANDed; quotes group words (`summary text` or `model="a b"`)."""
    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise FilterError(f"cannot read filter: {exc}") from None
    predicates = []
    for word in words:
        m = _MATCHER.match(word)
        if m:
            predicates.append(_matcher(m["name"], m["op"], m["value"]))
        elif word:
            predicates.append(_free_text(word))
    return Filter(text=text, predicates=tuple(predicates))
