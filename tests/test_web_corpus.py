"""The 范文与素材 page's API over real HTTP: list and search the corpus, read a speech, correct its
labels (kept in the corpus file), add a speech by upload, refuse a duplicate."""

from __future__ import annotations

import httpx
import pytest

from tests.web_server import ServeProcess


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with ServeProcess(tmp_path_factory.mktemp("serve-corpus"), preload=False) as s:
        yield s


def test_list_search_and_read(server):
    data = httpx.get(server.url + "/api/corpus").json()
    assert data["total"] == 7 and {s["id"] for s in data["speeches"]} >= {"seed-01", "seed-07"}
    found = httpx.get(server.url + "/api/corpus", params={"q": "园林城市"}).json()["speeches"]
    assert [s["id"] for s in found] == ["seed-04"] and "园林" in found[0]["snippet"]
    record = httpx.get(server.url + "/api/corpus/seed-04").json()
    assert record["paragraphs"][0] and record["zishu"] > 500


def test_labels_are_corrected_in_the_corpus_file(server):
    resp = httpx.patch(server.url + "/api/corpus/seed-03", json={"genre": "欢迎词", "speaker": "市长"})
    assert resp.status_code == 200 and resp.json()["genre"] == "欢迎词"
    text = (server.corpus / "seed-03.md").read_text(encoding="utf-8")
    assert "genre: 欢迎词" in text and "speaker: 市长" in text
    assert httpx.patch(server.url + "/api/corpus/seed-03", json={"genre": ""}).status_code == 422
    assert httpx.patch(server.url + "/api/corpus/seed-03", json={"zishu": 1}).status_code == 422


def test_add_by_upload_and_refuse_a_duplicate(server):
    speech = ("同志们：\n今天，我们召开全镇秋季防火工作会议，主要任务是安排部署今冬明春森林防火工作。\n"
              "一、提高思想认识。森林防火事关人民群众生命财产安全，各村要切实把防火工作摆上重要位置。\n"
              "二、压实防火责任。各村主要负责同志是第一责任人，要层层签订责任书，把责任落实到山头地块。\n"
              "三、加强巡查值守。要落实二十四小时值班制度，严禁野外用火，发现火情及时报告。\n谢谢大家！\n")
    files = {"file": ("2024年秋季防火会议讲话.txt", speech.encode("utf-8"), "text/plain")}
    assert httpx.post(server.url + "/api/corpus", files=files).status_code == 403  # a form post needs the CSRF token
    csrf = {"X-CSRF-Token": httpx.get(server.url + "/api/csrf").json()["csrf"]}
    added = httpx.post(server.url + "/api/corpus", files=files, headers=csrf)
    assert added.status_code == 200, added.text
    new_id = added.json()["outcomes"][0]["id"]
    record = httpx.get(f"{server.url}/api/corpus/{new_id}").json()
    assert record["source"] == "2024年秋季防火会议讲话.txt"  # not the private upload folder
    assert (server.corpus / f"{new_id}.md").is_file()
    again = httpx.post(server.url + "/api/corpus", files=files, headers=csrf)
    assert again.status_code == 400 and "duplicate" in again.json()["error"]
    assert not list(server.data.glob("web/upload-*"))  # the upload folder is gone
