"""Silencing through the UI (Pilot) against a real Alertmanager, and what the server holds afterwards.

Fault tests put a small proxy in front of the real Alertmanager: it forwards GETs and answers the POST
of a silence with a 500, or holds it past the client timeout (after forwarding it, or without).
"""

from __future__ import annotations

import json
import threading
import uuid
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from oncall_tui.actions.silence import token_of
from oncall_tui.ui.app import MlcallApp
from oncall_tui.ui.screens.silences import SilencesScreen
from tests.support.silencing import (
    USER,
    audit_records,
    fire,
    form,
    form_error,
    open_alert,
    settings,
    silence_via_form,
    silences_in,
)
from tests.support.ui import plain, status_text, table_rows, wait_for

pytestmark = pytest.mark.integration
SIZE = (120, 40)
async def test_s_reason_enter_makes_exactly_one_silence_shown_without_refresh_then_x_expires_it(bare_am, tmp_path):
    tag = uuid.uuid4().hex[:8]
    fire(bare_am, tag)
    audit = tmp_path / "audit.jsonl"
    app = MlcallApp(settings(bare_am, audit))
    async with app.run_test(size=SIZE) as pilot:
        await open_alert(pilot, app, tag)
        await pilot.press("s")
        await wait_for(pilot, lambda: form(app), what="the silence form")
        assert app.focused is not None and app.focused.id == "reason"  # the reason is focused on open
        labels = [plain(c.label) for c in app.screen.query("#matchers Checkbox")]
        assert f'model="m-{tag}"' in labels and 'alertname="DataDriftDetected"' in labels
        reason = f"known drift {tag}, retraining [JIRA-1]"
        await pilot.press(*reason, "enter")
        await wait_for(pilot, lambda: form(app) is None, what="the form to close")

        made = silences_in(bare_am, tag)
        assert len(made) == 1, made
        silence = made[0]
        assert reason in silence["comment"] and silence["createdBy"] == USER
        assert {"name": "model", "value": f"m-{tag}", "isRegex": False, "isEqual": True} in silence["matchers"]
        audit_id = token_of(silence["comment"])
        records = [r for r in audit_records(audit) if r["id"] == audit_id]
        assert [(r["phase"], r.get("result")) for r in records] == [("intent", None), ("result", "ok")]
        assert records[0]["actor"] == USER and records[0]["reason"] == reason and records[0]["session_id"]
        assert records[1]["after"]["silence_id"] == silence["id"]
        assert records[1]["after"]["visible"] == "1/1"

        # the next poll (no ctrl+r) shows the alert silenced, and who / why / until
        await wait_for(pilot, lambda: "silenced" in table_rows(app)[0][4], what="state silenced")
        info = app.alerts_screen.query_one("#silence-info")
        await wait_for(pilot, lambda: info.display and USER in plain(info.content), what="silence info")
        shown = plain(info.content)
        assert reason in shown and "until" in shown and ("in 59m" in shown or "in 1h" in shown)

        # S, filter to it, x, confirm: it expires on the server, audited
        await pilot.press("S")
        await wait_for(pilot, lambda: isinstance(app.screen, SilencesScreen), what="silences screen")
        await pilot.press("slash", *tag, "enter")
        screen = app.screen
        await wait_for(pilot, lambda: len(screen.rows) == 1, what="the one silence")
        assert screen.rows[0][0] == "active"
        cells = [plain(c) for c in screen.query_one("#silences").get_row_at(0)]
        assert cells[2].strip() == "1" and USER in cells[4] and reason in cells[5]  # matches 1 alert
        await pilot.press("x")
        await wait_for(pilot, lambda: app.screen.query("#confirm"), what="confirm dialog")
        assert app.focused is not None and app.focused.id == "cancel"
        await pilot.click("#confirm")
        await wait_for(pilot, lambda: silences_in(bare_am, tag)[0]["status"]["state"] == "expired",
                       what="expired on the server")
        expire = [r for r in audit_records(audit) if r["action"] == "silence.expire"]
        assert [(r["phase"], r.get("result")) for r in expire] == [("intent", None), ("result", "ok")]
        assert expire[0]["before"]["silence_id"] == silence["id"]
        await wait_for(pilot, lambda: screen.rows and screen.rows[0][0] == "expired", what="shown expired")


async def test_blank_reason_is_refused_locally_and_nothing_reaches_the_server(bare_am, tmp_path):
    tag = uuid.uuid4().hex[:8]
    fire(bare_am, tag)
    audit = tmp_path / "audit.jsonl"
    app = MlcallApp(settings(bare_am, audit))
    async with app.run_test(size=SIZE) as pilot:
        await open_alert(pilot, app, tag)
        await silence_via_form(pilot, app, "   ")
        await wait_for(pilot, lambda: "reason is required" in form_error(app), what="the local refusal")
        assert form(app) is not None and app.focused.id == "reason"
        await pilot.press("escape")
        await wait_for(pilot, lambda: form(app) is None, what="escape cancels")
    assert silences_in(bare_am, tag) == [] and audit_records(audit) == []


async def test_marked_alerts_get_one_silence_per_label_set_and_ack_has_its_prefix(bare_am, tmp_path):
    tag = uuid.uuid4().hex[:8]
    fire(bare_am, tag, feature="age")
    fire(bare_am, tag, feature="income")
    audit = tmp_path / "audit.jsonl"
    app = MlcallApp(settings(bare_am, audit))
    async with app.run_test(size=SIZE) as pilot:
        await open_alert(pilot, app, tag)
        await pilot.press("space")  # marks the whole group: both alerts
        await silence_via_form(pilot, app, f"two features {tag}")
        await wait_for(pilot, lambda: form(app) is None, what="the form to close")
        assert app.alerts_screen.table.marked == set()  # done with: unmarked
        made = silences_in(bare_am, f"two features {tag}")
        assert len(made) == 2 and len({token_of(s["comment"]) for s in made}) == 2
        assert sorted(m["value"] for s in made for m in s["matchers"] if m["name"] == "feature") == ["age", "income"]

        tag2 = uuid.uuid4().hex[:8]
        fire(bare_am, tag2)
        await pilot.press("escape")
        app.alerts_screen.query_one("#filter").value = f"model=m-{tag2}"
        await wait_for(pilot, lambda: len(table_rows(app)) == 1 and tag2 in table_rows(app)[0][3], what="2nd")
        app.alerts_screen.table.focus()
        await silence_via_form(pilot, app, "looking at it", key="a")
        await wait_for(pilot, lambda: form(app) is None, what="the ack form to close")
        (ack,) = silences_in(bare_am, tag2)
        assert ack["comment"].startswith("ACK: looking at it [mlcall:")
        length = datetime.fromisoformat(ack["endsAt"].replace("Z", "+00:00")) - datetime.fromisoformat(
            ack["startsAt"].replace("Z", "+00:00"))
        assert timedelta(minutes=14) < length <= timedelta(minutes=15)
    actions = [(r["action"], r["phase"], r.get("result")) for r in audit_records(audit)]
    assert actions.count(("silence.create", "result", "ok")) == 2 and ("silence.ack", "result", "ok") in actions
    assert len([a for a in actions if a[1] == "intent"]) == 3


async def test_read_only_has_no_way_to_silence(bare_am, tmp_path):
    tag = uuid.uuid4().hex[:8]
    fire(bare_am, tag)
    audit = tmp_path / "audit.jsonl"
    app = MlcallApp(settings(bare_am, audit, read_only=True))
    async with app.run_test(size=SIZE) as pilot:
        await open_alert(pilot, app, tag)
        bound = {b.binding.action for b in app.alerts_screen.active_bindings.values()}
        assert not bound & {"silence", "acknowledge"}
        footer = [k.description for k in app.screen.query("FooterKey")]
        assert "Silences" in footer and "Silence" not in footer and "Ack" not in footer
        commands = [c.title for c in app.get_system_commands(app.screen)]
        assert "Silence" not in commands and "Ack" not in commands
        await pilot.press("s", "a")
        await pilot.pause(0.3)
        assert form(app) is None
        await pilot.press("ctrl+p")
        await pilot.press(*"silence")
        await pilot.pause(0.5)
        options = app.screen.query("CommandList").first()
        shown = [plain(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        assert not any(s.split("\n")[0].strip() in ("Silence", "Ack") for s in shown), shown
        await pilot.press("escape")
        await pilot.press("S")  # viewing silences is fine, but nothing there mutates
        await wait_for(pilot, lambda: isinstance(app.screen, SilencesScreen), what="silences screen")
        assert not {b.binding.action for b in app.screen.active_bindings.values()} & {"expire", "extend", "recreate"}
    assert silences_in(bare_am, tag) == [] and audit_records(audit) == []


async def test_unwritable_audit_log_refuses_the_action(bare_am, tmp_path):
    tag = uuid.uuid4().hex[:8]
    fire(bare_am, tag)
    (tmp_path / "a-file").write_text("not a directory")
    app = MlcallApp(settings(bare_am, tmp_path / "a-file" / "audit.jsonl"))
    async with app.run_test(size=SIZE) as pilot:
        await open_alert(pilot, app, tag)
        await silence_via_form(pilot, app, f"should not happen {tag}")
        await wait_for(pilot, lambda: "cannot write the audit log" in form_error(app), what="the refusal")
        assert form(app) is not None and "not sent" in form_error(app).lower()
    assert silences_in(bare_am, tag) == []


# -- fault tests ------------------------------------------------------------------------------------
class FaultyAlertmanager:
    """A proxy to a real Alertmanager on 127.0.0.1; POST /api/v2/silences misbehaves per `mode`:
    `500` (a body with markup and an escape sequence), `hang` (never forwarded, held past the client
    timeout), `land-then-hang` (forwarded, the reply held past the client timeout), `forward`."""

    def __init__(self, upstream: str, mode: str):
        self.upstream, self.mode = upstream, mode
        self.release = threading.Event()
        self.posts = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def _reply(self, status: int, body: bytes, ctype: str = "application/json") -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:  # the client gave up (timeout): fine
                    pass

            def _forward(self, method: str, body: bytes | None = None) -> httpx.Response:
                return httpx.request(method, proxy.upstream + self.path, content=body, timeout=10, trust_env=False,
                                     headers={"Content-Type": "application/json"} if body else None)

            def do_GET(self):  # noqa: N802
                r = self._forward("GET")
                self._reply(r.status_code, r.content)

            def do_DELETE(self):  # noqa: N802
                r = self._forward("DELETE")
                self._reply(r.status_code, r.content)

            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if not self.path.startswith("/api/v2/silences"):
                    r = self._forward("POST", body)
                    return self._reply(r.status_code, r.content)
                proxy.posts += 1
                mode = proxy.mode
                if mode == "500":
                    return self._reply(500, json.dumps("boom [red]x[/] \x1b]52;c;QUJD\x07 failed").encode())
                if mode == "forward":
                    r = self._forward("POST", body)
                    return self._reply(r.status_code, r.content)
                r = self._forward("POST", body) if mode == "land-then-hang" else None
                proxy.release.wait(30)  # past the client's timeout
                if r is not None:
                    self._reply(r.status_code, r.content)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FaultyAlertmanager:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


async def test_a_500_keeps_the_form_shows_the_sanitized_message_and_records_failed(bare_am, tmp_path):
    tag = uuid.uuid4().hex[:8]
    fire(bare_am, tag)
    audit = tmp_path / "audit.jsonl"
    with FaultyAlertmanager(bare_am, "500") as proxy:
        app = MlcallApp(settings(proxy.url, audit))
        async with app.run_test(size=SIZE) as pilot:
            await open_alert(pilot, app, tag)
            await silence_via_form(pilot, app, f"during the 500 {tag}")
            await wait_for(pilot, lambda: "http 500" in form_error(app), what="the server's message")
            error = form_error(app)
            assert "boom [red]x[/]" in error and "\x1b" not in error and "\x07" not in error
            assert form(app) is not None and app.screen.query_one("#reason").value == f"during the 500 {tag}"
        assert proxy.posts == 1
    results = [r["result"] for r in audit_records(audit) if r["phase"] == "result"]
    assert results == ["failed"] and len(audit_records(audit)) == 2
    assert silences_in(bare_am, tag) == []


async def test_a_timed_out_post_that_never_landed_is_unknown_then_retried_once(bare_am, tmp_path):
    tag = uuid.uuid4().hex[:8]
    fire(bare_am, tag)
    audit = tmp_path / "audit.jsonl"
    with FaultyAlertmanager(bare_am, "hang") as proxy:
        app = MlcallApp(settings(proxy.url, audit))
        async with app.run_test(size=SIZE) as pilot:
            await open_alert(pilot, app, tag)
            await silence_via_form(pilot, app, f"slow server {tag}")
            await wait_for(pilot, lambda: "unknown" in form_error(app), what="outcome unknown")
            assert "no silence with audit id" in form_error(app) and form(app) is not None
            first = [r for r in audit_records(audit) if r["phase"] == "result"]
            assert [r["result"] for r in first] == ["unknown"]
            proxy.mode = "forward"  # the server recovers; enter retries after looking for the first attempt
            app.screen.query_one("#reason").focus()
            await pilot.press("enter")
            await wait_for(pilot, lambda: form(app) is None, what="the retry to succeed")
    assert len(silences_in(bare_am, tag)) == 1
    assert [r["result"] for r in audit_records(audit) if r["phase"] == "result"] == ["unknown", "ok"]


async def test_a_timed_out_post_that_landed_is_found_by_its_audit_id_and_not_duplicated(bare_am, tmp_path):
    tag = uuid.uuid4().hex[:8]
    fire(bare_am, tag)
    audit = tmp_path / "audit.jsonl"
    with FaultyAlertmanager(bare_am, "land-then-hang") as proxy:
        app = MlcallApp(settings(proxy.url, audit))
        async with app.run_test(size=SIZE) as pilot:
            await open_alert(pilot, app, tag)
            await silence_via_form(pilot, app, f"landed anyway {tag}")
            await wait_for(pilot, lambda: any(r["phase"] == "result" for r in audit_records(audit)), what="result")
            await pilot.press("enter")  # a second enter (or a retry after "unknown") must not duplicate it
            if form(app) is not None and "unknown" in form_error(app):
                await pilot.press("enter")
            await wait_for(pilot, lambda: form(app) is None, what="the form to close")
        assert proxy.posts == 1
    made = silences_in(bare_am, tag)
    assert len(made) == 1, made
    results = [r for r in audit_records(audit) if r["phase"] == "result"]
    assert results[-1]["result"] == "ok" and all(r["result"] in ("ok", "unknown") for r in results)
    assert results[-1]["after"]["silence_id"] == made[0]["id"] and results[-1]["after"]["found_by_audit_id"] is True
    assert len([r for r in audit_records(audit) if r["phase"] == "intent"]) == 1


# -- durability and reconciliation ---------------------------------------------------------------
async def test_a_silence_lost_in_a_crash_is_flagged_recreated_from_the_audit_log_and_extended(crash_am, tmp_path):
    url = crash_am.alertmanager_urls[0]
    tag = uuid.uuid4().hex[:8]
    fire(url, tag)
    audit = tmp_path / "audit.jsonl"
    app = MlcallApp(settings(url, audit))
    async with app.run_test(size=SIZE) as pilot:
        await open_alert(pilot, app, tag)
        reason = f"before the crash {tag}"
        await silence_via_form(pilot, app, reason)
        await wait_for(pilot, lambda: form(app) is None, what="the form to close")
        (lost,) = silences_in(url, tag)

        node = crash_am.alertmanager_peer(0)
        node.kill()  # SIGKILL: Alertmanager persists silences only every 15 min and at a clean shutdown
        node.start()
        fire(url, tag)  # Prometheus would re-send its alerts; the silence is gone for good
        assert silences_in(url, tag) == []
        await wait_for(pilot, lambda: "1 silence vanished" in status_text(app), what="vanished in the status bar")

        await pilot.press("S")
        await wait_for(pilot, lambda: isinstance(app.screen, SilencesScreen), what="silences screen")
        screen = app.screen
        await pilot.press("slash", *tag, "enter")
        await wait_for(pilot, lambda: [r[0] for r in screen.rows] == ["vanished"], what="flagged vanished")
        assert plain(screen.query_one("#silences").get_row_at(0)[0]) == "VANISHED"
        await pilot.press("r")
        await wait_for(pilot, lambda: app.screen.query("#confirm"), what="confirm dialog")
        await pilot.click("#confirm")
        await wait_for(pilot, lambda: len(silences_in(url, tag)) == 1, what="re-created on the server")
        (again,) = silences_in(url, tag)
        assert again["id"] != lost["id"] and reason in again["comment"] and again["matchers"] == lost["matchers"]
        recreate = [r for r in audit_records(audit) if r["action"] == "silence.recreate"]
        assert [(r["phase"], r.get("result")) for r in recreate] == [("intent", None), ("result", "ok")]
        assert recreate[0]["recreates"] == token_of(lost["comment"]) and recreate[0]["replaces"] == lost["id"]
        await wait_for(pilot, lambda: [r[0] for r in screen.rows] == ["active"], what="no longer vanished")

        ends = datetime.fromisoformat(again["endsAt"].replace("Z", "+00:00"))
        await pilot.press("e")
        await wait_for(pilot, lambda: app.screen.query("#extend-by"), what="extend dialog")
        await pilot.press("ctrl+a", "ctrl+k", *"2h", "enter")  # ctrl+a/k: replace the default duration

        def extended():
            active = [s for s in silences_in(url, tag) if s["status"]["state"] == "active"]
            return len(active) == 1 and datetime.fromisoformat(active[0]["endsAt"].replace("Z", "+00:00")) - ends

        grown = await wait_for(pilot, extended, what="extended on the server")
        assert timedelta(hours=2) - timedelta(seconds=5) < grown < timedelta(hours=2) + timedelta(seconds=5)
        extend = [r for r in audit_records(audit) if r["action"] == "silence.extend"]
        assert [(r["phase"], r.get("result")) for r in extend] == [("intent", None), ("result", "ok")]
    assert audit_records(audit) and not [r for r in audit_records(audit) if r.get("result") in ("failed", "unknown")]


async def test_intents_left_without_result_by_a_dead_session_are_reconciled_on_start(bare_am, tmp_path):
    tag = uuid.uuid4().hex[:8]
    landed, never_sent = uuid.uuid4().hex[:8], uuid.uuid4().hex[:8]
    now = datetime.now(timezone.utc)
    body = {"matchers": [{"name": "model", "value": f"m-{tag}", "isRegex": False, "isEqual": True}],
            "startsAt": now.isoformat(), "endsAt": (now + timedelta(hours=1)).isoformat(),
            "createdBy": USER, "comment": f"crashed session {tag} [mlcall:{landed}]"}
    silence_id = httpx.post(f"{bare_am}/api/v2/silences", json=body, timeout=10, trust_env=False).json()["silenceID"]
    audit = tmp_path / "audit.jsonl"
    old = (now - timedelta(minutes=10)).isoformat()
    with audit.open("w") as f:  # what a session killed between its POST and its result left behind
        for audit_id in (landed, never_sent):
            f.write(json.dumps({"ts": old, "phase": "intent", "id": audit_id, "action": "silence.create",
                                "actor": USER, "session_id": "dead0000", "tool_version": "0.1.0", "reason": "x",
                                "target": {}, "before": None}) + "\n")
    app = MlcallApp(settings(bare_am, audit))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: len([r for r in audit_records(audit) if r["phase"] == "result"]) == 2,
                       what="both intents reconciled")
        assert app.audit.unfinished() == []
    results = {r["id"]: r for r in audit_records(audit) if r["phase"] == "result"}
    assert results[landed]["result"] == "ok" and results[landed]["after"]["silence_id"] == silence_id
    assert results[never_sent]["result"] == "failed" and "reconciled" in results[never_sent]["note"]


async def test_matchers_toggle_custom_duration_and_regex_only_with_its_toggle(bare_am, tmp_path):
    tag = uuid.uuid4().hex[:8]
    fire(bare_am, tag, feature="age")
    audit = tmp_path / "audit.jsonl"
    app = MlcallApp(settings(bare_am, audit))
    async with app.run_test(size=SIZE) as pilot:
        await open_alert(pilot, app, tag)
        await pilot.press("s")
        screen = await wait_for(pilot, lambda: form(app), what="the silence form")
        boxes = {plain(c.label): c for c in screen.query("#matchers Checkbox")}
        boxes['severity="critical"'].value = False  # untick: not part of the silence
        boxes['feature="age"'].value = False
        screen.query_one("#extra").value = 'feature=~"a.*"'
        screen.query_one("#custom").value = "90m"
        screen.query_one("#reason").focus()
        await pilot.press(*f"toggles {tag}", "enter")
        await wait_for(pilot, lambda: "allow regex" in form_error(app), what="regex refused without the toggle")
        assert silences_in(bare_am, tag) == [] and audit_records(audit) == []
        screen.query_one("#allow-regex").value = True
        assert "matches 1 current alert" in plain(screen.query_one("#preview").content)
        screen.query_one("#reason").focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: form(app) is None, what="the form to close")
        await pilot.press("S")
        await wait_for(pilot, lambda: isinstance(app.screen, SilencesScreen), what="silences screen")
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is app.alerts_screen, what="escape goes back")
    (made,) = silences_in(bare_am, f"toggles {tag}")
    names = {(m["name"], m["value"], m["isRegex"]) for m in made["matchers"]}
    assert ("severity", "critical", False) not in names and ("feature", "age", False) not in names
    assert ("feature", "a.*", True) in names and ("model", f"m-{tag}", False) in names
    length = datetime.fromisoformat(made["endsAt"].replace("Z", "+00:00")) - datetime.fromisoformat(
        made["startsAt"].replace("Z", "+00:00"))
    assert timedelta(minutes=89) < length <= timedelta(minutes=90)
