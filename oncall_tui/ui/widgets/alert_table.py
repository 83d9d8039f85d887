"""The alerts table: one row per group, expandable into its alerts, updated in place."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable

from ...grouping import cluster_cell
from ...incidents import is_drill
from ...models import Alert, AlertGroup, utcnow
from ...safe_text import safe
from ..cells import age, severity_cell, state_cell
from ..keys import with_ids

COLUMNS = (("sev", "Sev", 6), ("name", "Alert", 28), ("component", "Component", 10), ("model", "Model", 16),
           ("state", "State", 11), ("count", "#", 4), ("age", "Age", 7), ("summary", "Summary", None))
CLUSTER_COLUMN = ("cluster", "Cluster", 14)  # second, only with several clusters
MAX_ROWS = 2000  # DataTable measures every cell: keep it small (groups, not thousands of alerts)


def group_row_key(group: AlertGroup) -> str:
    return f"g\x00{group.key}"


def alert_row_key(group: AlertGroup, alert: Alert) -> str:
    return f"a\x00{group.key}\x00{alert.fingerprint}"


class AlertTable(DataTable):
    """Shows groups; `enter` expands or collapses one. Posts `Highlighted` with the alert under the cursor."""

    BINDINGS = with_ids("alerts", [  # ids alerts.expand, alerts.cursor-down … (ui/keys.py)
        Binding("enter", "expand", "Expand/Zoom",
                tooltip="Expand or collapse a group of several alerts; zoom into a single alert's charts"),
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("g", "scroll_top", "Top", show=False),
        Binding("G", "scroll_bottom", "Bottom", show=False),
    ])

    class AlertHighlighted(Message):
        def __init__(self, alert: Alert | None, group: AlertGroup | None) -> None:
            self.alert = alert
            self.group = group
            super().__init__()

    def __init__(self, *, cluster_column: bool = False, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)
        self.cluster_column = cluster_column
        self.spec = (COLUMNS[0], CLUSTER_COLUMN, *COLUMNS[1:]) if cluster_column else COLUMNS
        self.groups: list[AlertGroup] = []
        self.expanded: set[str] = set()
        self.marked: set[str] = set()  # fingerprints
        self._rows: list[tuple[str, tuple]] = []
        self._targets: dict[str, tuple[AlertGroup, Alert | None]] = {}
        self.truncated = 0

    def on_mount(self) -> None:
        for key, label, width in self.spec:
            self.add_column(label, key=key, width=width)

    # -- building rows ---------------------------------------------------------------------------
    def _group_cells(self, g: AlertGroup) -> tuple:
        first = g.first
        fold = "▾" if g.key in self.expanded else ("▸" if g.count > 1 else " ")
        marked = bool(self.marked) and any(a.fingerprint in self.marked for a in g.alerts)
        name = Text(("✓" if marked else fold) + " ", end="")
        if any(is_drill(a.labels) for a in g.alerts):
            name.append("DRILL", style="bold reverse").append(" ")
        name.append_text(safe(g.name, single_line=True, max_len=60))
        cluster = (safe(cluster_cell(g, CLUSTER_COLUMN[2]), single_line=True, max_len=60),) if self.cluster_column else ()
        return (severity_cell(g.severity), *cluster, name, safe(first.component, single_line=True, max_len=20),
                safe(first.label("model"), single_line=True, max_len=40), state_cell(g.state),
                Text(str(g.count), justify="right", end=""), age(g.starts_at),
                safe(first.summary, single_line=True, max_len=200))

    def _alert_cells(self, a: Alert) -> tuple:
        extra = ", ".join(f"{k}={v}" for k, v in sorted(a.labels.items())
                          if k not in {"alertname", "severity", "component", "model"})
        name = Text("  ✓ " if a.fingerprint in self.marked else "  └ ", end="")
        if is_drill(a.labels):
            name.append("DRILL", style="bold reverse").append(" ")
        name.append_text(safe(extra or a.fingerprint, single_line=True, max_len=60))
        cluster = (safe(a.cluster, single_line=True, max_len=40),) if self.cluster_column else ()
        return (severity_cell(a.severity), *cluster, name, safe(a.component, single_line=True, max_len=20),
                safe(a.label("model"), single_line=True, max_len=40), state_cell(a.state), "",
                age(a.starts_at), safe(a.summary, single_line=True, max_len=200))

    def _build(self) -> list[tuple[str, tuple]]:
        rows: list[tuple[str, tuple]] = []
        self._targets = {}
        for g in self.groups:
            key = group_row_key(g)
            rows.append((key, self._group_cells(g)))
            self._targets[key] = (g, None)
            if g.key in self.expanded:
                for a in g.alerts:
                    akey = alert_row_key(g, a)
                    rows.append((akey, self._alert_cells(a)))
                    self._targets[akey] = (g, a)
            if len(rows) >= MAX_ROWS:
                break
        self.truncated = max(0, len(self.groups) - sum(1 for k, _ in rows if k.startswith("g\x00")))
        return rows

    def show(self, groups: list[AlertGroup]) -> None:
        """Replace the groups shown, touching only the cells that changed."""
        if groups == self.groups and self._rows:  # e.g. a filter keystroke that keeps every row
            return
        self.groups = groups
        self.refresh_rows()

    def refresh_rows(self) -> None:
        rows = self._build()
        old_keys = [k for k, _ in self._rows]
        new_keys = [k for k, _ in rows]
        if old_keys == new_keys:
            column_keys = [c[0] for c in self.spec]
            for (key, cells), (_, old_cells) in zip(rows, self._rows, strict=True):
                for col, new, old in zip(column_keys, cells, old_cells, strict=True):
                    if new != old:
                        self.update_cell(key, col, new)
            self._rows = rows
            self._post_highlight()  # the alert under the cursor may have new facts
            return
        current = self.current_key()
        self.clear(columns=False)
        for key, cells in rows:
            self.add_row(*cells, key=key)
        self._rows = rows
        if current in self._targets:
            self.move_cursor(row=self.get_row_index(current), animate=False)
        elif current and current.startswith("a\x00"):  # the alert vanished: stay on its group
            group_key = "g\x00" + current.split("\x00")[1]
            if group_key in self._targets:
                self.move_cursor(row=self.get_row_index(group_key), animate=False)
        self._post_highlight()

    # -- selection ----------------------------------------------------------------------------------
    def current_key(self) -> str | None:
        if not self._rows or self.cursor_row >= len(self._rows):
            return None
        return self._rows[self.cursor_row][0]

    def current(self) -> tuple[AlertGroup | None, Alert | None]:
        key = self.current_key()
        if key is None or key not in self._targets:
            return None, None
        group, alert = self._targets[key]
        return group, alert or group.first

    def _post_highlight(self) -> None:
        group, alert = self.current()
        self.post_message(self.AlertHighlighted(alert, group))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._post_highlight()

    class ZoomRequested(Message):
        """`enter` on an alert row or on a group of one alert: show its charts full-screen."""

        def __init__(self, alert: Alert | None) -> None:
            self.alert = alert
            super().__init__()

    def action_expand(self) -> None:
        group, alert = self.current()
        if group is not None and (group.count < 2 or (self.current_key() or "").startswith("a\x00")):
            self.post_message(self.ZoomRequested(alert))
        else:
            self.toggle_expand()

    def toggle_expand(self) -> None:
        group, _ = self.current()
        if group is None or group.count < 2:
            return
        self.expanded.symmetric_difference_update({group.key})
        self.refresh_rows()

    def toggle_mark(self) -> None:
        group, alert = self.current()
        if group is None:
            return
        key = self.current_key() or ""
        targets = [alert] if key.startswith("a\x00") and alert else list(group.alerts)
        fingerprints = {a.fingerprint for a in targets}
        if fingerprints <= self.marked:
            self.marked -= fingerprints
        else:
            self.marked |= fingerprints
        self.refresh_rows()

    def marked_alerts(self) -> list[Alert]:
        return [a for g in self.groups for a in g.alerts if a.fingerprint in self.marked]

    def refresh_ages(self) -> None:
        """Ages move with the clock: rewrite just the age cells whose text changed."""
        column = [c[0] for c in self.spec].index("age")
        now = utcnow()
        for i, (key, cells) in enumerate(self._rows):
            group, alert = self._targets[key]
            text = age(alert.starts_at if alert else group.starts_at, now)
            if text != cells[column]:
                self._rows[i] = (key, cells[:column] + (text,) + cells[column + 1:])
                self.update_cell(key, "age", text)
