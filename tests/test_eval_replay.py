"""Record → replay through the real summarize task, prompt changes, compare, bless, exit codes,
ordering under concurrency, repeat statistics, reports, and no secrets in cassettes."""

from __future__ import annotations

import json
import random
import shutil
import sys
import time
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from pipeline.errors import BackendError
from pipeline.evals.results import read_samples
from pipeline.evals.runner import RunOptions, run_suites
from pipeline.evals.suite import load_suites
from pipeline.model.backends.cassette import CassetteBackend, CassetteMiss, CassetteStore
from pipeline.model.backends.fake import FakeBackend
from pipeline.model.types import ChatRequest, Message
from pipeline.paths import PROJECT_ROOT
from tests.openai_server import Reply

SUITE = """
name: sum
task: summarize
defaults:
  inputs: {method: llm, length: short}
  assertions:
    - {type: schema_valid}
    - {type: contains, value: 安全生产, field: output.gist}
cases:
  - id: c2
    inputs: {text: "同志们：\\n今天召开全县安全生产工作会议。\\n要压实安全生产责任，深入开展隐患排查整治。"}
  - id: c1
    inputs: {file: ../data/c1.txt}
"""
C1 = "各位代表：\n今年全县安全生产形势总体平稳。\n要坚持人民至上、生命至上，守牢安全底线。\n"


def summary_reply(request: ChatRequest) -> str:
    if request.messages[-1].role == "assistant" and request.messages[-1].content.startswith("分数"):
        return "7分"  # the rubric judge continues its "分数：" prefill
    return json.dumps(
        {"gist": "会议部署全县安全生产工作", "key_points": [{"text": "压实安全生产责任", "source": [2]}]},
        ensure_ascii=False,
    )


def no_backend(spec):  # replay must never build one
    raise AssertionError("replay built a real backend")


@pytest.fixture
def evals(tmp_path: Path) -> Path:
    root = tmp_path / "evals"
    (root / "suites").mkdir(parents=True)
    (root / "data").mkdir()
    (root / "data" / "c1.txt").write_text(C1, encoding="utf-8")
    (root / "suites" / "sum.yaml").write_text(SUITE, encoding="utf-8")
    prompts = tmp_path / "prompts"
    shutil.copytree(PROJECT_ROOT / "prompts" / "summarize", prompts / "summarize")
    return root


def record(root: Path, reply=summary_reply, **kw) -> list:
    opts = RunOptions(mode="record", backend_factory=lambda spec: FakeBackend(reply),
                      prompts_dir=root.parent / "prompts", **kw)
    return run_suites(load_suites([root / "suites"]), opts).samples


def cli(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    from pipeline.cli import main

    monkeypatch.setattr(sys, "argv", ["speechsmith", *args])
    with pytest.raises(SystemExit) as info:
        main()
    out = capsys.readouterr()
    return int(info.value.code or 0), out.out, out.err


def test_record_then_replay_roundtrip(evals: Path) -> None:
    recorded = record(evals)
    folder = evals / "cassettes" / "sum"
    files = sorted(p for p in folder.glob("*.json") if not p.name.startswith("_"))
    assert len(files) == 2  # one call per case
    raw = files[0].read_text(encoding="utf-8")
    assert "安全生产" in raw and '\n  "response": {' in raw  # UTF-8, pretty-printed
    data = json.loads(raw)
    assert data["key"].startswith(files[0].stem) and data["response"]["text"].startswith("{")
    meta = json.loads((folder / "_meta.json").read_text(encoding="utf-8"))
    assert meta["backend"] == "fake" and meta["model"] == "fake-1"

    opts = RunOptions(mode="replay", backend_factory=no_backend, prompts_dir=evals.parent / "prompts")
    replayed = run_suites(load_suites([evals / "suites"]), opts).samples
    assert [s.case for s in replayed] == ["c1", "c2"]
    for a, b in zip(recorded, replayed, strict=True):
        assert a.result["output"] == b.result["output"] and a.passed and b.passed
        assert b.cassettes["hits"] == 1 and b.cassettes["recorded"] == 0
        assert b.usage["prompt_tokens"] == a.usage["prompt_tokens"]  # usage comes back from the cassette


def test_replay_uses_recorded_token_counts_and_meta(tmp_path: Path) -> None:
    inner = FakeBackend(lambda r: "好", model="m-1", context_window=1234)
    store = CassetteStore(tmp_path, "record", inner)
    b = CassetteBackend(store)
    assert b.count_tokens("安全生产工作会议") == 8  # FakeBackend: one token per character
    b.complete(ChatRequest((Message("user", "你好"),)))
    store.finish()
    replay = CassetteStore(tmp_path, "replay")  # nothing real: no inner backend
    rb = CassetteBackend(replay)
    assert (rb.name, rb.model, rb.context_window) == ("fake", "m-1", 1234)
    assert rb.count_tokens("安全生产工作会议") == 8  # the recorded count, not an estimate
    assert rb.stats.token_approx == 0
    rb.count_tokens("从未见过的文本")
    assert rb.stats.token_approx == 1
    assert rb.complete(ChatRequest((Message("user", "你好"),))).text == "好"
    with pytest.raises(CassetteMiss) as miss:
        rb.complete(ChatRequest((Message("user", "你好！"),)))
    assert miss.value.exit_code == 2
    # each sample of `repeat` has its own key (sample_index) and seed
    with pytest.raises(CassetteMiss):
        CassetteBackend(replay, sample_index=1).complete(ChatRequest((Message("user", "你好"),)))
    with pytest.raises(CassetteMiss, match="no cassettes recorded"):
        CassetteBackend(CassetteStore(tmp_path / "empty", "replay")).complete(ChatRequest((Message("user", "x"),)))


def test_errors_are_never_recorded(tmp_path: Path) -> None:
    def fail(request: ChatRequest) -> str:
        raise BackendError("HTTP 500 from the endpoint")

    store = CassetteStore(tmp_path, "record", FakeBackend(fail))
    with pytest.raises(BackendError):
        CassetteBackend(store).complete(ChatRequest((Message("user", "你好"),)))
    store.finish()
    assert sorted(p.name for p in tmp_path.glob("*.json")) == ["_meta.json", "_tokens.json"]


def test_prompt_change_without_rerecording_fails_replay_listing_cases(evals: Path, monkeypatch, capsys) -> None:
    record(evals)
    prompts = evals.parent / "prompts"
    args = ["eval", "run", str(evals / "suites"), "--prompts", str(prompts), "-o", str(evals / "runs" / "r1")]
    code, out, err = cli(monkeypatch, capsys, *args)
    assert code == 0, err
    user = prompts / "summarize" / "user.md"
    user.write_text(user.read_text(encoding="utf-8") + "\n请特别注意表述准确。\n", encoding="utf-8")
    code, out, err = cli(monkeypatch, capsys, *args[:-1], str(evals / "runs" / "r2"))
    assert code == 2
    assert "replay miss in 2 case(s): sum/c1, sum/c2" in err and "re-record" in err
    assert "MISS" in out
    assert "closest recording differs in message" in out and "请特别注意表述准确" in out  # says what changed
    summary = json.loads((evals / "runs" / "r2" / "summary.json").read_text(encoding="utf-8"))
    assert [m["case"] for m in summary["misses"]] == ["c1", "c2"]
    # bless refuses a run with misses
    code, _, err = cli(monkeypatch, capsys, "eval", "bless", str(evals / "runs" / "r2"))
    assert code == 2 and "replay misses" in err


def test_compare_bless_score_and_exit_codes(evals: Path, monkeypatch, capsys) -> None:
    record(evals)
    prompts = str(evals.parent / "prompts")
    run1, run2 = evals / "runs" / "r1", evals / "runs" / "r2"
    code, _, err = cli(monkeypatch, capsys, "eval", "run", str(evals / "suites"), "--prompts", prompts, "-o", str(run1),
                       "--report", "md", "--report", "junit", "--report", "json")
    assert code == 0, err
    code, _, err = cli(monkeypatch, capsys, "eval", "bless", str(run1))
    assert code == 0 and (evals / "baselines" / "sum.jsonl").is_file()
    assert [s.case for s in read_samples(evals / "baselines")] == ["c1", "c2"]
    ET.parse(run1 / "junit.xml")
    assert "## speechsmith eval" in (run1 / "report.md").read_text(encoding="utf-8")
    assert json.loads((run1 / "report.json").read_text(encoding="utf-8"))["summary"]["totals"]["passed"] == 2

    # Make c1 fail: an assertion it cannot meet. Re-score the stored run: no model, exit 3 vs baseline.
    suite = evals / "suites" / "sum.yaml"
    suite.write_text(
        suite.read_text(encoding="utf-8").replace(
            "inputs: {file: ../data/c1.txt}",
            "inputs: {file: ../data/c1.txt}\n    assertions:\n      - {type: contains, value: 乡村振兴}",
        ),
        encoding="utf-8",
    )
    code, out, err = cli(monkeypatch, capsys, "eval", "score", str(run1), "-o", str(run2),
                         "--baseline", str(evals / "baselines"))
    assert code == 3, err
    assert "REGRESSION sum/c1#0" in out and "contains: pass→fail" in out
    code, out, _ = cli(monkeypatch, capsys, "eval", "compare", str(evals / "baselines"), str(run2))
    assert code == 3 and "regression" in out and "c1" in out and "-0.50" in out and "c2" not in out
    code, out, _ = cli(monkeypatch, capsys, "eval", "compare", str(run2), str(run1), "--format", "json")
    deltas = json.loads(out)["deltas"]
    assert code == 0 and [(d["case"], d["kind"]) for d in deltas] == [("c1", "improvement"), ("c2", "unchanged")]
    # Without a baseline a failed assertion is exit 1; blessing the new run updates the baseline.
    code, _, _ = cli(monkeypatch, capsys, "eval", "run", str(evals / "suites"), "--prompts", prompts, "-o", str(run2))
    assert code == 1
    cli(monkeypatch, capsys, "eval", "bless", str(run2))
    code, _, _ = cli(monkeypatch, capsys, "eval", "run", str(evals / "suites"), "--prompts", prompts,
                     "-o", str(evals / "runs" / "r3"), "--baseline", str(evals / "baselines"))
    assert code == 1  # still failing, but no longer a regression
    code, _, err = cli(monkeypatch, capsys, "eval", "run", str(evals / "nope.yaml"))
    assert code == 2 and "no such suite" in err


def test_results_ordered_by_case_id_under_concurrency(tmp_path: Path) -> None:
    ids = [f"k{i:02d}" for i in range(12)]
    random.Random(4).shuffle(ids)
    cases = "\n".join(f"  - id: {i}\n    inputs: {{text: '{i}：安全生产工作会议。'}}" for i in ids)
    folder = tmp_path / "suites"
    folder.mkdir()
    (folder / "s.yaml").write_text(
        "name: s\ntask: summarize\ndefaults:\n  inputs: {method: llm, length: short}\n  repeat: 2\n"
        f"  assertions:\n    - {{type: schema_valid}}\ncases:\n{cases}\n", encoding="utf-8"
    )
    finished: list[str] = []

    def slow_reply(request: ChatRequest) -> str:
        time.sleep(random.Random(request.messages[-1].content).random() * 0.05)
        finished.append(request.messages[-1].content)
        return summary_reply(request)

    opts = RunOptions(mode="record", concurrency=6, backend_factory=lambda spec: FakeBackend(slow_reply))
    opts.backend_factory = lambda spec: _Concurrent(slow_reply)
    samples = run_suites(load_suites([folder]), opts).samples
    assert [(s.case, s.sample) for s in samples] == [(i, n) for i in sorted(ids) for n in (0, 1)]
    assert all(s.passed for s in samples)


class _Concurrent(FakeBackend):
    """An endpoint that takes calls in parallel (not the local model, which is serialized)."""

    name = "openai"


def test_repeat_reports_flaky_pass_rate_and_pass_k(evals: Path) -> None:
    suite = evals / "suites" / "sum.yaml"
    suite.write_text(suite.read_text(encoding="utf-8").replace("length: short}", "length: short}\n  repeat: 3"),
                     encoding="utf-8")

    def sometimes(request: ChatRequest) -> str:
        gist = "会议部署全县安全生产工作" if request.sample_index == 1 else "会议部署全县工作"
        return json.dumps({"gist": gist, "key_points": []}, ensure_ascii=False)

    from pipeline.evals.results import summarize

    samples = record(evals, sometimes)
    summary = summarize(samples)
    c1 = next(c for c in summary["cases"] if c["case"] == "c1")
    assert (c1["samples"], c1["passes"], c1["pass_rate"], c1["pass_k"], c1["flaky"]) == (3, 1, 0.3333, 0.0, True)
    assert summary["suites"]["sum"]["flaky"] == ["c1", "c2"]
    assert len(list((evals / "cassettes" / "sum").glob("[!_]*.json"))) == 6  # one per case × sample


def test_rubric_judge_calls_are_recorded_and_replayed(evals: Path) -> None:
    suite = evals / "suites" / "sum.yaml"
    suite.write_text(suite.read_text(encoding="utf-8").replace(
        "    - {type: schema_valid}", "    - {type: schema_valid}\n    - {type: rubric, rubric: 要旨准确, threshold: 0.6}"
    ).replace("task: summarize\n", "task: summarize\njudge: {backend: openai, model: judge-1}\n"), encoding="utf-8")
    recorded = record(evals)
    assert all(a.passed for s in recorded for a in s.assertions if a.type == "rubric")
    # both cases got the same summary: one identical judge request, one cassette
    assert len(list((evals / "cassettes" / "sum" / "judge").glob("[!_]*.json"))) == 1
    opts = RunOptions(mode="replay", backend_factory=no_backend, prompts_dir=evals.parent / "prompts")
    replayed = run_suites(load_suites([evals / "suites"]), opts).samples
    assert [a.value for s in replayed for a in s.assertions if a.type == "rubric"] == [0.7, 0.7]
    shutil.rmtree(evals / "cassettes" / "sum" / "judge")
    missed = run_suites(load_suites([evals / "suites"]), opts)
    assert missed.summary["totals"]["misses"] == 2


def test_rubric_on_the_embedded_model_is_not_judged(evals: Path) -> None:
    """No endpoint judge: the rubric is reported as not judged — never a pass, nor a failure."""
    suite = evals / "suites" / "sum.yaml"
    suite.write_text(suite.read_text(encoding="utf-8").replace(
        "    - {type: schema_valid}", "    - {type: schema_valid}\n    - {type: rubric, rubric: 要旨准确, threshold: 0.6}"
    ).replace("task: summarize\n", "task: summarize\nbackend: {backend: local}\n"), encoding="utf-8")
    samples = record(evals)
    rubrics = [a for s in samples for a in s.assertions if a.type == "rubric"]
    assert len(rubrics) == 2 and not any(a.passed or a.judged for a in rubrics)
    assert all(a.detail.startswith("not judged") and a.weight == 0 for a in rubrics)
    assert all(s.passed for s in samples)  # the other assertions decide
    assert not (evals / "cassettes" / "sum" / "judge").exists()  # no judge call was made
    opts = RunOptions(mode="replay", backend_factory=no_backend, prompts_dir=evals.parent / "prompts")
    assert run_suites(load_suites([evals / "suites"]), opts).summary["totals"]["not_judged"] == 2


def test_cassettes_hold_no_secrets(evals: Path, openai_server, monkeypatch, capsys) -> None:
    secret = "sk-test-EVALSECRET-0123456789abcdef"
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    openai_server.responder = lambda body: summary_reply(ChatRequest((Message("user", "x"),)))
    run = evals / "runs" / "rec"
    code, out, err = cli(monkeypatch, capsys, "eval", "run", str(evals / "suites"), "--mode", "record",
                         "--backend", "openai", "--base-url", openai_server.url, "--model", "gpt-test",
                         "--prompts", str(evals.parent / "prompts"), "-o", str(run), "--report", "md")
    assert code == 0, err
    assert openai_server.chat_requests[0].headers["authorization"] == f"Bearer {secret}"  # the key was used
    written = list((evals / "cassettes").rglob("*.json")) + list(run.iterdir())
    assert len(written) >= 6
    for path in written:
        text = path.read_text(encoding="utf-8")
        assert secret not in text and "EVALSECRET" not in text, path
        assert "authorization" not in text.lower() and "Bearer" not in text, path
    meta = json.loads((evals / "cassettes" / "sum" / "_meta.json").read_text(encoding="utf-8"))
    assert meta["backend"] == "openai" and meta["model"] == "gpt-test"
    # every call that reached the model is in the run log, one run per case, without the key
    from pipeline.model.runlog import RunLog, default_path

    log = RunLog()
    runs = [r for r in log.runs(limit=100, command="eval") if r["model"] == "gpt-test"]
    assert len(runs) == 2 and all(r["attempts"] >= 1 and r["tokens_in"] > 0 for r in runs)
    assert secret.encode() not in default_path().read_bytes()
    logged = len(log.runs(limit=1000, command="eval"))
    monkeypatch.delenv("OPENAI_API_KEY")
    code, _, err = cli(monkeypatch, capsys, "eval", "run", str(evals / "suites"), "--prompts",
                       str(evals.parent / "prompts"), "-o", str(evals / "runs" / "replay"))
    assert code == 0, err  # replay needs neither the key nor the server
    assert len(log.runs(limit=1000, command="eval")) == logged  # replay reaches no model: nothing logged


def test_update_mode_records_only_what_changed_and_prunes(evals: Path) -> None:
    record(evals)
    folder = evals / "cassettes" / "sum"
    before = {p.name for p in folder.glob("[!_]*.json")}

    def must_not_call(request: ChatRequest) -> str:
        raise AssertionError("update called the model for a recorded request")

    suites = load_suites([evals / "suites"])
    opts = RunOptions(mode="update", backend_factory=lambda spec: FakeBackend(must_not_call),
                      prompts_dir=evals.parent / "prompts")
    same = run_suites(suites, opts)
    assert same.summary["totals"]["cache_hits"] == 2 and same.summary["totals"]["misses"] == 0
    # change c2's input: only c2 calls the model; the stale cassette is pruned
    suite = evals / "suites" / "sum.yaml"
    suite.write_text(suite.read_text(encoding="utf-8").replace("今天召开", "今天上午召开"), encoding="utf-8")
    opts.backend_factory = lambda spec: FakeBackend(summary_reply)
    changed = run_suites(load_suites([evals / "suites"]), opts)
    stats = {s.case: s.cassettes for s in changed.samples}
    assert (stats["c1"]["hits"], stats["c1"]["recorded"]) == (1, 0)
    assert (stats["c2"]["hits"], stats["c2"]["recorded"]) == (0, 1)
    after = {p.name for p in folder.glob("[!_]*.json")}
    assert len(after) == 2 and len(after & before) == 1


def test_interrupted_recording_keeps_what_was_recorded(evals: Path) -> None:
    calls = []

    def interrupt_second(request: ChatRequest) -> str:
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return summary_reply(request)

    with pytest.raises(KeyboardInterrupt):
        record(evals, interrupt_second, concurrency=1)
    folder = evals / "cassettes" / "sum"
    assert (folder / "_meta.json").is_file() and (folder / "_tokens.json").is_file()
    assert len(list(folder.glob("[!_]*.json"))) == 1  # c2 (first in the file) recorded, c1 not
    opts = RunOptions(mode="update", backend_factory=lambda spec: FakeBackend(summary_reply),
                      prompts_dir=evals.parent / "prompts")
    done = run_suites(load_suites([evals / "suites"]), opts)
    assert [(s.case, s.cassettes["hits"], s.cassettes["recorded"]) for s in done.samples] == [("c1", 0, 1), ("c2", 1, 0)]


def test_bless_refuses_a_run_whose_cases_errored(evals: Path, monkeypatch, capsys) -> None:
    (evals / "data" / "empty.txt").write_text("", encoding="utf-8")
    suite = evals / "suites" / "sum.yaml"
    suite.write_text(
        suite.read_text(encoding="utf-8") + "  - id: c3\n    inputs: {file: ../data/empty.txt}\n",
        encoding="utf-8",
    )
    record(evals)
    run = evals / "runs" / "err"
    code, _, _ = cli(monkeypatch, capsys, "eval", "run", str(evals / "suites"),
                     "--prompts", str(evals.parent / "prompts"), "-o", str(run))
    assert code == 2  # a case that could not run is the suite's problem, not a failed assertion
    assert any(s.status == "error" and s.case == "c3" for s in read_samples(run))
    code, _, err = cli(monkeypatch, capsys, "eval", "bless", str(run))
    assert code == 2 and "errored" in err and "sum/c3" in err
    assert not (evals / "baselines" / "sum.jsonl").exists()


def test_live_run_against_a_failing_endpoint_says_what_failed(evals: Path, openai_server, monkeypatch, capsys) -> None:
    monkeypatch.setenv("SPEECHSMITH_MAX_RETRIES", "0")
    openai_server.responder = lambda body: Reply.error(503, "model is loading")
    code, out, err = cli(monkeypatch, capsys, "eval", "run", str(evals / "suites"), "--mode", "live",
                         "--backend", "openai", "--base-url", openai_server.url, "--model", "gpt-test",
                         "--prompts", str(evals.parent / "prompts"), "-o", str(evals / "runs" / "live"))
    assert code == 2
    assert "replay miss" not in err
    assert "2 case(s) could not run (sum/c1, sum/c2)" in err and "HTTP 503" in err and "model is loading" in err


def test_live_run_against_a_llama_cpp_server_reaches_a_format_it_accepts(evals: Path, monkeypatch, capsys) -> None:
    from tests.openai_server import OpenAIServer

    with OpenAIServer.llama_cpp(n_ctx=8192) as server:
        server.responder = lambda body: summary_reply(ChatRequest((Message("user", "x"),)))
        code, out, err = cli(monkeypatch, capsys, "eval", "run", str(evals / "suites"), "--mode", "live",
                             "--backend", "openai", "--base-url", server.url, "--model", "gpt-test",
                             "--prompts", str(evals.parent / "prompts"), "-o", str(evals / "runs" / "live"), "-j", "1")
        assert code == 0, err
        calls = [r for r in server.chat_requests if r.json["max_tokens"] > 1]  # not the system probes
        kinds = [(r.json.get("response_format") or {}).get("type") for r in calls]
        assert kinds[0] == "json_schema" and kinds.count("json_schema") == 1  # refused with a 500 once
        assert len(calls) >= 3 and all("schema" in r.json["response_format"] for r in calls[1:])


def test_live_run_takes_the_runtime_options_of_every_model_command(evals: Path, openai_server, monkeypatch,
                                                                    capsys) -> None:
    openai_server.responder = lambda body: summary_reply(ChatRequest((Message("user", "x"),)))
    code, _, err = cli(monkeypatch, capsys, "eval", "run", str(evals / "suites"), "--mode", "live",
                       "--backend", "openai", "--base-url", openai_server.url, "--model", "gpt-test",
                       "--structured", "json_object", "--timeout", "30", "--context", "4096",
                       "--prompts", str(evals.parent / "prompts"), "-o", str(evals / "runs" / "live"), "-j", "1")
    assert code == 0, err
    calls = [r for r in openai_server.chat_requests if r.json["max_tokens"] > 1]
    assert calls and all(r.json["response_format"]["type"] == "json_object" for r in calls)
    code, _, err = cli(monkeypatch, capsys, "eval", "run", str(evals / "suites"), "--threads", "0")
    assert code == 2 and "--threads" in err
