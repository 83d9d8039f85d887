"""The poll loop: no overlap, timeouts below the interval, capped backoff, errors reported not raised."""

import asyncio

from oncall_tui.models import SourceHealth
from oncall_tui.polling import Poller
from oncall_tui.sources.base import SourceError


async def test_success_failure_and_timeout_are_reported():
    answers = [["a"], SourceError("connection refused", "http://x"), "hang", ["b"]]
    reports = []

    async def fetch():
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        if answer == "hang":
            await asyncio.Event().wait()
        return answer

    poller = Poller("AM", fetch, lambda status, data: reports.append((status, data)), interval=1.0, timeout=0.05)
    for _ in range(4):
        await poller.poll_once()
    health = [(s.health, d) for s, d in reports]
    assert health == [(SourceHealth.OK, ["a"]), (SourceHealth.STALE, None), (SourceHealth.STALE, None),
                      (SourceHealth.OK, ["b"])]
    assert "connection refused" in reports[1][0].error
    assert "timeout" in reports[2][0].error
    assert reports[2][0].last_success == reports[0][0].last_success  # the age of good data is kept


async def test_backoff_grows_and_is_capped():
    async def fail():
        raise SourceError("http 500")

    poller = Poller("P", fail, lambda *_: None, interval=2.0, timeout=1.0, max_backoff=10.0)
    delays = []
    for _ in range(5):
        await poller.poll_once()
        delays.append(poller.next_delay())
    assert delays == [2.0, 4.0, 8.0, 10.0, 10.0]
    assert poller.timeout < poller.interval


async def test_polls_never_overlap_and_refresh_now_wakes_the_loop():
    running = 0
    overlaps = 0
    calls = 0

    async def fetch():
        nonlocal running, overlaps, calls
        running += 1
        overlaps += running > 1
        calls += 1
        await asyncio.sleep(0.01)
        running -= 1
        return []

    poller = Poller("P", fetch, lambda *_: None, interval=60.0, timeout=5.0)
    task = asyncio.create_task(poller.run())
    for _ in range(200):
        if calls:
            break
        await asyncio.sleep(0.01)
    poller.refresh_now()
    for _ in range(200):
        if calls >= 2:
            break
        await asyncio.sleep(0.01)
    task.cancel()
    assert calls == 2 and overlaps == 0
