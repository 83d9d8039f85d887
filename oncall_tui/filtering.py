"""The `/` filter: free text and label matchers (`label=value`, `label!=value`, `label=~re`, `label!~re`);
`@cluster=eu-prod` (same operators) matches the cluster an alert came from, not a label."""

from __future__ import annotations

import re
import shlex
from bisect import bisect_right
from dataclasses import dataclass
from typing import Callable, Iterable

from .models import Alert, AlertGroup

_INCOMPLETE = re.compile(r"^@(c(l(u(s(t(er?)?)?)?)?)?)?(!|=|!=|=~|!~)?$")  # a prefix of `@cluster<op>`
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
        """The groups with only their matching alerts. A keystroke over 50,000 alerts: a term on the group's
        own labels (alertname, key labels) is decided once per group, free text reads each alert's
        pre-folded search text, and other terms test alerts with no generator frame per alert."""
        if not self.predicates:
            return list(groups)
        out = []
        for g in groups:
            kept: list[int] | None = None  # indexes of the alerts kept so far; None: all of them
            for p in self.predicates:
                verdict = p.on_group(g) if isinstance(p, _Term) else None
                if verdict is True:
                    continue
                if verdict is False:
                    kept = []
                    break
                candidates = range(len(g.alerts)) if kept is None else kept
                if isinstance(p, _Text):
                    hits = _text_hits(g, p.needle)
                    if kept is None:
                        kept = hits
                    else:
                        wanted = set(hits)
                        kept = [i for i in kept if i in wanted]
                elif isinstance(p, _Match) and p.name == "@cluster":  # per cluster of the group, not per alert
                    hits = [i for name, ids in g.cluster_index.items() if p.test(name) for i in ids]
                    if kept is None:
                        kept = hits
                    else:
                        wanted = set(hits)
                        kept = [i for i in kept if i in wanted]
                else:
                    alerts = g.alerts
                    kept = [i for i in candidates if p(alerts[i])]
                if not kept:
                    break
            if kept is None or len(kept) == len(g.alerts):
                out.append(g)
            elif kept:
                out.append(AlertGroup(g.key, g.name, g.key_labels, tuple(g.alerts[i] for i in kept)))
        return out


def _text_hits(g: AlertGroup, needle: str) -> list[int]:
    """Indexes of the group's alerts whose search text holds `needle`, by find() over the joined texts."""
    if "\n" in needle:  # would match across two alerts' texts: one by one
        return [i for i, hay in enumerate(g.search_texts) if needle in hay]
    blob, starts = g.search_blob
    hits: list[int] = []
    last = len(starts) - 1
    pos = blob.find(needle)
    while pos != -1:
        i = bisect_right(starts, pos) - 1
        hits.append(i)
        if i == last:
            break
        pos = blob.find(needle, starts[i + 1])
    return hits


class _Term:
    """A filter term; `on_group` decides for a whole group when it can (True/False), else None."""

    def on_group(self, g: AlertGroup) -> bool | None:
        return None


class _Text(_Term):
    def __init__(self, word: str) -> None:
        self.needle = word.casefold()

    def __call__(self, alert: Alert) -> bool:
        needle = self.needle
        if needle in alert.name.casefold() or needle in alert.summary.casefold():
            return True
        return any(needle in v.casefold() for v in alert.labels.values())

    def on_group(self, g: AlertGroup) -> bool | None:
        # every alert of a group carries its name and key labels: found there, it is found in all
        if self.needle in g.name.casefold() or any(self.needle in v.casefold() for v in g.key_labels.values()):
            return True
        return None


class _Match(_Term):
    def __init__(self, name: str, test: Callable[[str], bool]) -> None:
        self.name, self.test = name, test

    def __call__(self, alert: Alert) -> bool:
        return self.test(alert.cluster if self.name == "@cluster" else alert.labels.get(self.name, ""))

    def on_group(self, g: AlertGroup) -> bool | None:
        if self.name == "alertname":
            return self.test(g.name)
        if self.name in g.key_labels:  # the same value in every alert of the group
            return self.test(g.key_labels[self.name])
        return None


def _free_text(word: str) -> Callable[[Alert], bool]:
    return _Text(word)


def _matcher(name: str, op: str, value: str) -> Callable[[Alert], bool]:
    if op in ("=~", "!~"):
        try:
            pattern = re.compile(value)
        except re.error as exc:
            raise FilterError(f"bad regular expression for {name}: {exc}") from None
        want = op == "=~"
        return _Match(name, lambda v: bool(pattern.fullmatch(v)) is want)
    if op == "=":
        return _Match(name, lambda v: v == value)
    return _Match(name, lambda v: v != value)


def parse(text: str) -> Filter:
    """Parse filter text. Words are ANDed; quotes group words (`summary text` or `model="a b"`)."""
    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise FilterError(f"cannot read filter: {exc}") from None
    predicates = []
    for word in words:
        m = _MATCHER.match(word)
        if word.startswith("@") and (_INCOMPLETE.match(word) or (m and not m["value"])):
            continue  # `@clu`, `@cluster=`: still being typed; neither matches nothing nor empties the table
        if m:
            predicates.append(_matcher(m["name"], m["op"], m["value"]))
        elif word:
            predicates.append(_free_text(word))
    return Filter(text=text, predicates=tuple(predicates))
