"""The job queue over real HTTP: the embedded model runs one job at a time, others wait with a
position, concurrent requests all finish, progress streams as Server-Sent Events, and a result
can be fetched again by its link."""

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


def _stream(server: ServeProcess, job_id: str, headers: dict | None = None) -> list[tuple[str, dict]]:
    events: list[tuple[str, dict]] = []
    with httpx.stream("GET", f"{server.url}/api/jobs/{job_id}/events", headers=headers, timeout=1800) as resp:
        assert resp.headers["content-type"].startswith("text/event-stream")
        kind = ""
        for line in resp.iter_lines():
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                events.append((kind, json.loads(line[6:])))
                if kind == "end":
                    break
    return events


def test_two_concurrent_adapt_requests_both_finish_one_after_the_other(server):
    def submit(seed: int) -> dict:
        return httpx.post(server.url + "/api/adapt", json=BRIEF | {"seed": seed}, timeout=30).json()

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        first, second = pool.map(submit, (1, 2))
    # one is next (or running), the other knows it waits behind it
    assert sorted(j["position"] for j in (first, second)) == [0, 1]
    later = second if second["position"] == 1 else first
    # a check needs no model: it does not wait behind the drafts
    check = httpx.post(server.url + "/api/check?wait=20", json={"text": "同志们：\n今天开会。\n"}, timeout=30).json()
    assert check["status"] == "done" and "findings" in check["result"]["output"]

    events = _stream(server, later["id"])
    kinds = [k for k, _ in events]
    stages = [e["stage"] for k, e in events if k == "progress"]
    assert "queue" in kinds and {"position": 1} in [e for k, e in events if k == "queue"]
    assert stages[0] == "queue" and "start" in stages and stages[-1] == "done"
    drafted = [e for k, e in events if k == "progress" and e["stage"] == "draft" and e["text"]]
    assert drafted and all(e["part"] for e in drafted)  # the text appears part by part
    assert kinds[-1] == "end" and events[-1][1]["status"] == "done"

    done = [server.wait_job(j["id"]) for j in (first, second)]
    for job in done:
        assert job["status"] == "done", job.get("error")
        speech = job["result"]["output"]
        assert speech["sections"][0]["heading"] == "一、压实安全生产责任"
        assert speech["zishu"] > 40
    a, b = sorted(done, key=lambda j: j["started"])
    assert a["finished"] <= b["started"] + 0.05  # never both on the model at once

    # closed tab: the link fetches the same result again, as a page, JSON and a download
    again = httpx.get(f"{server.url}/api/jobs/{later['id']}").json()
    assert again["result"]["text"] == events[-1][1]["result"]["text"]
    page = httpx.get(f"{server.url}/jobs/{later['id']}", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == f"/adapt?job={later['id']}"
    md = httpx.get(f"{server.url}/api/jobs/{later['id']}/download?format=md")
    assert md.status_code == 200 and md.text.startswith("# 在全县安全生产工作会议上的讲话")
    # a browser that reconnects resumes after the last event it saw, without repeats
    last = sum(1 for k, _ in events if k == "progress") - 2
    resumed = _stream(server, later["id"], {"Last-Event-ID": str(last)})
    assert [k for k, _ in resumed] == ["progress", "end"]


def test_a_bad_brief_is_one_clear_message(server):
    resp = httpx.post(server.url + "/api/adapt", json={"occasion": "全县安全生产工作会议", "points": []})
    assert resp.status_code == 400 and "points" in resp.json()["error"]  # at once, not after the queue
    resp = httpx.post(server.url + "/api/adapt", json=BRIEF | {"lenght": 100})
    assert resp.status_code == 422 and "lenght" in resp.text
    resp = httpx.post(server.url + "/api/adapt", json=BRIEF | {"brief": "/etc/passwd"})
    assert resp.status_code == 422
    job = httpx.post(server.url + "/api/adapt?wait=600", json=BRIEF | {"examples": "no-such-speech"}, timeout=700).json()
    assert job["status"] == "failed" and "no-such-speech" in job["error"]
    assert httpx.get(server.url + "/api/jobs/" + "0" * 32).status_code == 404
