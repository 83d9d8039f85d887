"""The audit log: two-phase, append-only, fsynced JSON lines; an unwritable log refuses the action (R13)."""

from __future__ import annotations

import errno
import json
import os
import threading
from datetime import datetime, timezone

import pytest

from oncall_tui import __version__
from oncall_tui.actions.audit import AuditError, AuditLog


def lines(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_intent_then_result_with_every_field(tmp_path):
    log = AuditLog(tmp_path / "state" / "audit.jsonl", "alice@jump-1")
    audit_id = log.intent("silence.create", target={"alertmanager": ["http://127.0.0.1:9093"]},
                          reason="known drift", before=None)
    log.result(audit_id, "silence.create", "ok", after={"silence_id": "S1"})
    intent, result = lines(log.path)
    for record in (intent, result):
        assert record["id"] == audit_id and record["actor"] == "alice@jump-1"
        assert record["session_id"] == log.session_id and record["tool_version"] == __version__
        assert record["action"] == "silence.create"
        ts = datetime.fromisoformat(record["ts"])
        assert ts.utcoffset() == timezone.utc.utcoffset(None)
    assert intent["phase"] == "intent" and intent["reason"] == "known drift" and intent["before"] is None
    assert intent["target"] == {"alertmanager": ["http://127.0.0.1:9093"]}
    assert result["phase"] == "result" and result["result"] == "ok" and result["after"] == {"silence_id": "S1"}
    assert result["error"] == ""
    assert oct(os.stat(log.path).st_mode & 0o777) == "0o600"


def test_results_are_only_ok_failed_or_unknown(tmp_path):
    log = AuditLog(tmp_path / "audit.jsonl", "a")
    with pytest.raises(ValueError):
        log.result("x", "silence.create", "done")


def test_secrets_never_reach_the_log(tmp_path):
    log = AuditLog(tmp_path / "audit.jsonl", "a")
    log.intent("silence.create", reason="r", target={"url": "https://bob:s3cr3t-PASS@am.example:9093/",
                                                     "token": "s3cr3t-TOKEN", "headers": {"Authorization": "Bearer x"}})
    text = (tmp_path / "audit.jsonl").read_text()
    assert "s3cr3t" not in text and "Bearer" not in text and "https://am.example:9093/" in text


def test_a_log_whose_parent_is_a_file_refuses(tmp_path):
    (tmp_path / "a-file").write_text("x")
    log = AuditLog(tmp_path / "a-file" / "audit.jsonl", "a")
    with pytest.raises(AuditError, match="cannot write the audit log"):
        log.intent("silence.create", target={}, reason="r")


def test_a_full_disk_refuses(tmp_path, monkeypatch):
    log = AuditLog(tmp_path / "audit.jsonl", "a")

    def full(fd, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "write", full)
    with pytest.raises(AuditError, match="No space left on device"):
        log.intent("silence.create", target={}, reason="r")


def test_a_failed_fsync_refuses(tmp_path, monkeypatch):
    log = AuditLog(tmp_path / "audit.jsonl", "a")

    def broken(fd):
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(os, "fsync", broken)
    with pytest.raises(AuditError):
        log.intent("silence.create", target={}, reason="r")


def test_unfinished_intents_are_the_ones_without_a_result_and_a_torn_line_is_skipped(tmp_path):
    log = AuditLog(tmp_path / "audit.jsonl", "a")
    done = log.intent("silence.create", target={}, reason="r")
    log.result(done, "silence.create", "unknown", error="timeout")
    pending = log.intent("silence.expire", target={}, reason="r")
    with log.path.open("a") as f:
        f.write('{"phase": "result", "id": "torn')  # the process died mid-write
    assert [r["id"] for r in log.unfinished()] == [pending]
    assert len(list(log.records())) == 3


def test_concurrent_writers_never_interleave_lines(tmp_path):
    path = tmp_path / "audit.jsonl"
    logs = [AuditLog(path, f"user{i}") for i in range(4)]  # e.g. two terminals, same log

    def write(log):
        for _ in range(50):
            audit_id = log.intent("silence.create", target={"n": "x" * 500}, reason="r")
            log.result(audit_id, "silence.create", "ok")

    threads = [threading.Thread(target=write, args=(log,)) for log in logs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    records = lines(path)
    assert len(records) == 400 and AuditLog(path, "x").unfinished() == []
