"""Keystroke → the highlighted alert's signal and health panels drawn, cache miss and cache hit.

Against a real local stack (Prometheus + the synthetic model service, scenario "all"), the real app
driven headless with Pilot at 160×40. A miss includes the 120 ms debounce and every range query of
the view (the alert's rule signal + six health queries, fetched concurrently); a hit is a view drawn
from the cache (per query, window and step, kept one refresh interval).
With change marks (issue 14): the same walk with this tool's audit log holding an alias move of every
model 5 minutes ago (written by the audit API, as the registry rollback writes it; no MLflow and no
cluster configured, so the marks come from the audit log alone): a row counts as drawn once its signal
panel shows the ▼ row and the Changes list for that alert.
Run: .venv/bin/python benchmarks/bench_panels.py [--rounds N]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from oncall_tui.config import Settings  # noqa: E402
from oncall_tui.stack import LocalStack  # noqa: E402
from oncall_tui.ui.app import MlcallApp  # noqa: E402
from oncall_tui.ui.widgets.signal_panel import SignalPanel  # noqa: E402


async def until(pilot, condition, timeout: float = 30.0) -> float:
    start = time.perf_counter()
    while not condition():
        if time.perf_counter() - start > timeout:
            raise TimeoutError("the panel was not drawn")
        await asyncio.sleep(0.002)
    return time.perf_counter()


def audit_with_moves(path: Path, models: list[str]) -> None:
    from oncall_tui.actions.audit import AuditLog
    from oncall_tui.changes import ROLLBACK_ACTION

    log = AuditLog(path, "bench")
    for model in models:
        target = {"system": "mlflow", "model": model, "alias": "champion"}
        audit_id = log.intent(ROLLBACK_ACTION, target=target, reason="bench", before={"alias": "champion", "version": "1"})
        log.result(audit_id, ROLLBACK_ACTION, "ok", after={"alias": "champion", "version": "2"}, target=target)


async def measure(prometheus_url: str, rounds: int, audit: Path | None = None) -> dict[str, list[float]]:
    settings = Settings(prometheus_url=prometheus_url, refresh=120.0, timeout=4.0,
                        audit_log=str(audit) if audit else "", kubeconfig="/nonexistent")
    app = MlcallApp(settings)
    out: dict[str, list[float]] = {"miss": [], "hit": [], "moved": [], "draw": []}
    async with app.run_test(size=(160, 40)) as pilot:
        table = app.alerts_screen.table
        panel = app.alerts_screen.query_one(SignalPanel)
        await until(pilot, lambda: table.row_count >= 4, timeout=120)

        def drawn_for_cursor() -> bool:
            _, alert = table.current()
            drawn = panel.view is not None and alert is not None and panel.view.fingerprint == alert.fingerprint
            if drawn and audit is not None:  # and its change marks: the ▼ row and the Changes list
                drawn = panel.changes is not None and panel.changes_for == alert.fingerprint and \
                    "\nChanges" in panel.content.plain
            return drawn

        await until(pilot, drawn_for_cursor)
        rows = table.row_count
        for _ in range(rounds):
            app.signals.service.querier.clear()  # every view is a miss on the way down
            if app.changes.service is not None:
                app.changes.service.clear()
            for key, kind in (("j", "miss"), ("k", "hit")):
                for _ in range(rows - 1):
                    start = time.perf_counter()
                    await pilot.press(key)
                    out["moved"].append((time.perf_counter() - start) * 1000)  # Pilot: key handled, screen idle
                    end = await until(pilot, drawn_for_cursor)
                    out[kind].append((end - start) * 1000)
        # The panel's own work on a hit: the cached view assembled and rendered into the widget.
        _, alert = table.current()
        for _ in range(50):
            start = time.perf_counter()
            view = app.signals.service.cached_view(alert, panel.spark_columns())
            panel.show_view(view)
            out["draw"].append((time.perf_counter() - start) * 1000)
    return out


def row(name: str, values: list[float]) -> str:
    values = sorted(values)
    p95 = values[min(len(values) - 1, int(len(values) * 0.95))]
    return f"{name:<50} {len(values):>4} {statistics.median(values):>9.1f} {p95:>9.1f} {max(values):>9.1f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    import tempfile

    with LocalStack(alertmanager_peers=0, progress=lambda line: print(f"  {line}", file=sys.stderr)) as stack, \
            tempfile.TemporaryDirectory() as tmp:
        stack.apply_scenario("all")
        stack.wait_for_alert("TrainingJobFailed", source="prometheus", timeout=120)
        results = asyncio.run(measure(stack.prometheus_url, args.rounds))
        audit = Path(tmp) / "audit.jsonl"
        audit_with_moves(audit, list(stack.model_service.models))
        marked = asyncio.run(measure(stack.prometheus_url, args.rounds, audit))
    print("\nkeystroke → highlighted alert's signal + health panels drawn (ms, headless Pilot, 160×40)")
    print(f"{'case':<50} {'n':>4} {'median':>9} {'p95':>9} {'max':>9}")
    print(row("cache miss (debounce 120 ms + 7 range queries)", results["miss"]))
    print(row("cache hit (drawn from the cache)", results["hit"]))
    print(row("  Pilot baseline: key press handled, screen idle", results["moved"]))
    print(row("  cache hit, panel work only (view + render)", results["draw"]))
    print(row("with change marks: cache miss (+ changes collected)", marked["miss"]))
    print(row("with change marks: cache hit (marks + list drawn)", marked["hit"]))
    print(row("  with change marks: panel work only", marked["draw"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
