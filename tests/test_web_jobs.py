"""The job queue over real HTTP: the embedded model runs one job at a time, others wait with a
position, concurrent requests all finish, and a result can be fetched again by its link."""

from __future__ import annotations

import concurrent.futures
import json

import httpx
import pytest

from tests.web_server import ServeProcess

pytestmark = pytest.mark.model

BRIEF = {"occasion": "全县安全生产工作会议", "speaker": "县长", "audience": "各乡镇负责同志",
         "points": ["压实安全生产责任"], "length": 100, "examples": "1"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with ServeProcess(tmp_path_factory.mktemp("serve-jobs")) as s:
        yield s


def test_two_concurrent_adapt_requests_both_finish(server):
    def submit(seed: int) -> dict:
        return httpx.post(server.url + "/api/adapt", json=BRIEF | {"seed": seed}, timeout=30).json()

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        first, second = pool.map(submit, (1, 2))
    assert first["status"] in ("queued", "running") and second["status"] in ("queued", "running")
    # one runs, the other waits its turn and knows its place
    assert sorted(j["position"] for j in (first, second)) == [0, 1]
    waiting = httpx.get(f"{server.url}/api/jobs/{second['id']}").json()
    if waiting["status"] == "queued":
        assert waiting["position"] >= 1
    # a check needs no model: it does not wait behind the drafts
    check = httpx.post(server.url + "/api/check?wait=20", json={"text": "同志们：\n今天开会。\n"}, timeout=30).json()
    assert check["status"] == "done" and "findings" in check["result"]["output"]
    done = [server.wait_job(j["id"]) for j in (first, second)]
    for job in done:
        assert job["status"] == "done", job.get("error")
        speech = job["result"]["output"]
        assert speech["sections"][0]["heading"].endswith("压实安全生产责任")
        assert speech["zishu"] > 50
    a, b = sorted(done, key=lambda j: j["started"])
    assert a["finished"] <= b["started"] + 0.05  # one after the other, never both on the model at once


def test_progress_events_stream_and_result_comes_back_by_link(server):
    job = httpx.post(server.url + "/api/adapt", json=BRIEF | {"seed": 3}, timeout=30).json()
    events = []
    with httpx.stream("GET", f"{server.url}/api/jobs/{job['id']}/events", timeout=600) as resp:
        assert resp.headers["content-type"].startswith("text/event-stream")
        kind = None
        for line in resp.iter_lines():
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                events.append((kind, json.loads(line[6:])))
                if kind == "end":
                    break
    stages = [e["stage"] for k, e in events if k == "progress"]
    assert stages[0] == "queue" and "start" in stages and stages[-1] == "done"
    assert events[-1][0] == "end" and events[-1][1]["status"] == "done"
    # closed tab: the link fetches the same result again, also as a page and a download
    again = httpx.get(f"{server.url}/api/jobs/{job['id']}").json()
    assert again["result"]["text"] == events[-1][1]["result"]["text"]
    page = httpx.get(f"{server.url}/jobs/{job['id']}", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == f"/adapt?job={job['id']}"
    md = httpx.get(f"{server.url}/api/jobs/{job['id']}/download?format=md")
    assert md.status_code == 200 and md.text.startswith("# ")
    # a stream resumed after the last event seen (a reconnecting browser) does not repeat events
    resumed = httpx.get(f"{server.url}/api/jobs/{job['id']}/events", headers={"Last-Event-ID": str(len(stages) - 2)}, timeout=30).text
    assert resumed.count("event: progress") == 1


def test_a_bad_brief_is_one_clear_message(server):
    resp = httpx.post(server.url + "/api/adapt", json={"occasion": "会", "points": []})
    assert resp.status_code == 422
    job = httpx.post(server.url + "/api/adapt?wait=60", json=BRIEF | {"examples": "no-such-speech"}, timeout=90).json()
    assert job["status"] == "failed" and "no-such-speech" in job["error"]
