"""The web page's safety, over real HTTP against a real `speechsmith serve` process.

Non-loopback without a token is refused at start; requests without the token get 401; a 60 MB
upload is refused with a clear message (before it is read); names that try to leave the data
dir or the corpus are refused; cross-site posts are refused; no API key reaches a page.
"""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest

from tests.web_server import ROOT, ServeProcess, free_port

TOKEN = "office-token-1234567890"
CSRF_PAGE = "/check"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with ServeProcess(tmp_path_factory.mktemp("serve-token"), token=TOKEN, preload=False) as s:
        yield s


def _csrf(server: ServeProcess) -> str:
    html = httpx.get(server.url + CSRF_PAGE, headers=server.auth).text
    return html.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]


def test_non_loopback_host_without_token_is_refused_at_start(tmp_path):
    port = free_port()
    proc = subprocess.run(
        [sys.executable, "-m", "pipeline", "serve", "--host", "0.0.0.0", "--port", str(port),
         "--data-dir", str(tmp_path), "--no-preload"],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "--token" in lines[0] and "Traceback" not in proc.stderr
    with pytest.raises(httpx.ConnectError):  # it never listened
        httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2)


def test_short_token_is_refused(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "pipeline", "serve", "--host", "0.0.0.0", "--token", "abc",
         "--port", str(free_port()), "--data-dir", str(tmp_path), "--no-preload"],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )
    assert proc.returncode == 2 and "12 characters" in proc.stderr


def test_request_without_token_is_401(server):
    for path in ("/api/health", "/adapt", "/api/corpus", "/docs", "/static/app.js"):
        resp = httpx.get(server.url + path)
        assert resp.status_code == 401, path
    assert "令牌" in httpx.get(server.url + "/api/health").json()["error"]
    assert httpx.get(server.url + "/api/health", headers={"Authorization": "Bearer wrong-token-xxxxxx"}).status_code == 401
    assert httpx.get(server.url + "/api/health", headers=server.auth).status_code == 200
    assert httpx.get(server.url + "/api/health", headers={"X-Speechsmith-Token": TOKEN}).status_code == 200


def test_token_link_sets_a_cookie_once(server):
    with httpx.Client(base_url=server.url) as browser:
        first = browser.get(f"/summarize?token={TOKEN}", follow_redirects=False)
        assert first.status_code == 303
        assert first.headers["location"] == "/summarize"  # the token leaves the address bar
        assert "HttpOnly" in first.headers["set-cookie"]
        page = browser.get("/summarize")
        assert page.status_code == 200 and "摘要" in page.text
    assert httpx.get(f"{server.url}/adapt?token=wrong-token-xxxxxx", follow_redirects=False).status_code == 401


def test_60mb_upload_is_refused_with_a_clear_message(server):
    csrf = {"X-CSRF-Token": _csrf(server)} | server.auth
    big = b"\xe5\x90\x8c" * (20 * 1024 * 1024)  # 60 MB of 同
    resp = httpx.post(server.url + "/api/upload", files={"file": ("报告.txt", big, "text/plain")},
                      headers=csrf, timeout=120)
    assert resp.status_code == 413
    message = resp.json()["error"]
    assert "太大" in message and "60.0 MB" in message and "50.0 MB" in message

    def chunks():  # no Content-Length: the server counts as it reads and stops at the limit
        yield (b'--zzz\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n'
               b"Content-Type: text/plain\r\n\r\n")
        for _ in range(60):
            yield b"x" * (1024 * 1024)
        yield b"\r\n--zzz--\r\n"

    resp = httpx.post(server.url + "/api/upload", content=chunks(), timeout=120,
                      headers=csrf | {"Content-Type": "multipart/form-data; boundary=zzz"})
    assert resp.status_code == 413 and "太大" in resp.json()["error"]
    assert httpx.get(server.url + "/api/health", headers=server.auth).status_code == 200  # still serving


def test_upload_type_and_content_are_checked(server):
    csrf = {"X-CSRF-Token": _csrf(server)} | server.auth
    resp = httpx.post(server.url + "/api/upload", files={"file": ("报告.pdf", b"%PDF-1.4 ...", "application/pdf")}, headers=csrf)
    assert resp.status_code == 415 and ".docx" in resp.json()["error"]
    resp = httpx.post(server.url + "/api/upload", files={"file": ("讲话.txt", "同志们：\n今天开会。\n".encode("gb18030"), "text/plain")}, headers=csrf)
    assert resp.status_code == 200 and resp.json()["text"].startswith("同志们")


def test_path_traversal_names_are_refused(server, tmp_path):
    csrf = {"X-CSRF-Token": _csrf(server)} | server.auth
    before = sorted(p.name for p in server.corpus.iterdir())
    for name in ("../../evil.txt", "..\\evil.txt", "/etc/passwd", "a/../../b.txt"):
        for route in ("/api/upload", "/api/corpus"):
            resp = httpx.post(server.url + route, files={"file": (name, "同志们：今天开会。".encode(), "text/plain")}, headers=csrf)
            assert resp.status_code == 400, (route, name)
            assert "路径" in resp.json()["error"]
    assert sorted(p.name for p in server.corpus.iterdir()) == before
    assert not (server.base / "evil.txt").exists() and not (server.data / "evil.txt").exists()
    for path in ("/api/corpus/..", "/api/corpus/..%2F..%2Fetc%2Fpasswd", "/api/corpus/%2e%2e",
                 "/api/jobs/..%2F..%2Fetc%2Fpasswd", "/api/jobs/../../etc/passwd/download",
                 "/static/..%2F..%2Fpipeline%2Fweb%2Fapp.py", "/static/../web/app.py"):
        resp = httpx.get(server.url + path, headers=server.auth)
        assert resp.status_code in (400, 404), path
        assert "root:" not in resp.text and "import" not in resp.text
    for name in ("%2e%2e", "..%2Fseed-01", "Seed-01"):
        resp = httpx.patch(f"{server.url}/api/corpus/{name}", json={"title": "x"}, headers=csrf)
        assert resp.status_code in (400, 404), name


def test_cross_site_posts_are_refused(server):
    body = {"text": "同志们：今天开会。"}
    evil = server.auth | {"Origin": "http://evil.example"}
    assert httpx.post(server.url + "/api/check", json=body, headers=evil).status_code == 403
    # a form-encoded or multipart post (what a foreign page can send) needs the page's CSRF token
    cookie_only = {"Cookie": f"speechsmith_token={TOKEN}"}
    resp = httpx.post(server.url + "/api/upload", files={"file": ("a.txt", "同志们：开会。".encode())}, headers=cookie_only)
    assert resp.status_code == 403 and "令牌" in resp.json()["error"]
    resp = httpx.post(server.url + "/api/upload", files={"file": ("a.txt", "同志们：开会。".encode())},
                      headers=cookie_only | {"X-CSRF-Token": _csrf(server)})
    assert resp.status_code == 200


def test_loopback_server_refuses_foreign_host_names(tmp_path):
    with ServeProcess(tmp_path, preload=False) as server:
        assert httpx.get(server.url + "/api/health").status_code == 200
        rebinding = httpx.get(server.url + "/api/health", headers={"Host": "evil.example"})
        assert rebinding.status_code == 421


def test_api_keys_never_reach_the_page(tmp_path, monkeypatch):
    secret = "sk-test-SECRET-never-shown-0123456789"
    monkeypatch.setenv("SPEECHSMITH_API_KEY", secret)
    monkeypatch.setenv("SPEECHSMITH_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("SPEECHSMITH_MAX_RETRIES", "0")
    with ServeProcess(tmp_path, preload=False) as server:
        seen = "".join(httpx.get(server.url + p).text for p in
                       ("/adapt", "/summarize", "/restyle", "/check", "/corpus", "/api/health", "/openapi.json"))
        assert "openai" in httpx.get(server.url + "/api/health").json()["backend"]
        # a job that fails on the (dead) endpoint reports the failure, not the key
        job = httpx.post(server.url + "/api/summarize?wait=60", json={"text": "同志们：\n今天开会，部署安全生产工作。\n", "method": "llm"}, timeout=90).json()
        seen += str(job)
        assert job["status"] == "failed" and job["error"]
    assert secret not in seen and secret[-12:] not in seen


def test_serve_takes_the_runtime_options_of_every_model_command(tmp_path):
    from pipeline.cli.common import model_options
    from pipeline.web import ServeConfig, create_app

    options = model_options("local", threads=1, context=4096, timeout=30, structured="json_object")
    app = create_app(ServeConfig(data_dir=tmp_path, model_options=options, preload=False))
    settings = app.service.settings
    assert (settings.threads, settings.context, settings.timeout, settings.structured) == (1, 4096, 30, "json_object")
    proc = subprocess.run(
        [sys.executable, "-m", "pipeline", "serve", "--threads", "0", "--data-dir", str(tmp_path), "--no-preload"],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )
    assert proc.returncode == 2 and "--threads" in proc.stderr and "Traceback" not in proc.stderr
