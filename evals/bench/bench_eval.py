"""Benchmark: replay and score 1,000 eval cases (target: under 10 s on 2 cores).

Generates a suite of N cases in a temp dir, records their cassettes with FakeBackend (not
timed as the target), then times: replay + scoring of every case through the real summarize
task (method llm: one model call each, answered from cassettes), and re-scoring the stored run
(`eval score`). A second suite replays through a minimal one-call task to show what the harness
itself costs apart from the task. Assertions per case: schema, length, contains, not_contains,
regex, ROUGE-L (char), ROUGE-1 (jieba words), copy rate, facts preserved, no invented facts,
latency and token ceilings.

    python evals/bench/bench_eval.py [--cases 1000] [--concurrency 2]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from pipeline.evals.runner import RunOptions, rescore, run_suites  # noqa: E402
from pipeline.evals.suite import load_suites  # noqa: E402
from pipeline.model.backends.fake import FakeBackend  # noqa: E402
from pipeline.model.types import ChatRequest, Message  # noqa: E402
from pipeline.tasks import TaskResult  # noqa: E402

TOPICS = ["安全生产", "乡村振兴", "生态环境", "营商环境", "教育强国", "科技创新", "民生保障", "应急管理"]
ASSERTIONS = """
    - {type: schema_valid, schema: 'pipeline.summary:Summary'}
    - {type: length, min: 5, max: 400}
    - {type: contains, value: 工作, field: output.gist}
    - {type: not_contains, value: ['aa市', '20xx年', '系统提示']}
    - {type: regex, pattern: '[。！]'}
    - {type: rouge, metric: rougeL, level: char, threshold: 0.05}
    - {type: rouge, name: rouge-word, metric: rouge1, level: word, threshold: 0.05}
    - {type: copy_rate, source: input, max_lcs: 400, max_overlap: 1.0}
    - {type: facts_preserved, threshold: 0.0}
    - {type: no_invented_facts, max_added: 5}
    - {type: latency, max_seconds: 30}
    - {type: tokens, max_tokens: 100000}
"""


def source_text(i: int) -> str:
    topic = TOPICS[i % len(TOPICS)]
    return (
        f"同志们：\n今天召开全县{topic}工作会议，部署{2020 + i % 6}年重点任务。\n"
        f"一、压实{topic}责任。全县共完成项目{100 + i}个，投入资金{i % 90 + 10}亿元，完成率达到{80 + i % 20}%。\n"
        f"二、抓好{topic}重点。各乡镇、各部门要在{i % 12 + 1}月底前完成排查整治，确保工作落到实处。\n"
        "同志们，责任重于泰山。让我们坚定信心、真抓实干！\n"
    )


# Each task's own option names: suites refuse keys a task does not read.
_DEFAULTS = {"summarize": "{method: llm, length: short}", "restyle": "{length: 300}"}


def write_suite(folder: Path, name: str, task: str, n: int) -> None:
    cases = "\n".join(
        f"  - id: case-{i:04d}\n    inputs: {{text: {json.dumps(source_text(i), ensure_ascii=False)}}}\n"
        f"    reference: {json.dumps(f'会议部署{TOPICS[i % len(TOPICS)]}工作，要求压实责任、抓好重点。', ensure_ascii=False)}"
        for i in range(n)
    )
    (folder / f"{name}.yaml").write_text(
        f"name: {name}\ntask: {task}\ndefaults:\n  inputs: {_DEFAULTS[task]}\n"
        f"  assertions:{ASSERTIONS}cases:\n{cases}\n",
        encoding="utf-8",
    )


def reply(request: ChatRequest) -> str:
    text = request.messages[-1].content
    topic = next((t for t in TOPICS if t in text), "重点")
    return json.dumps(
        {"gist": f"会议部署全县{topic}工作，要求压实责任。", "key_points": [
            {"text": f"压实{topic}责任，抓好重点工作。", "source": [2]},
            {"text": "各乡镇、各部门要完成排查整治。", "source": [3]}]},
        ensure_ascii=False,
    )


def one_call_task(name: str, inputs: dict, ctx) -> TaskResult:
    """The smallest task: one model call, the reply as the output (harness cost only)."""
    response = ctx.client.chat(ChatRequest((Message("user", inputs["text"]),), max_tokens=200))
    data = json.loads(response.text)
    return TaskResult(task=name, output=data, text=data["gist"] + "\n" + "\n".join(p["text"] for p in data["key_points"]))


def bench_route(root: Path, label: str, task: str, runner, args: argparse.Namespace) -> tuple:
    folder = root / label.split()[0] / "suites"
    folder.mkdir(parents=True)
    write_suite(folder, "bench", task, args.cases)
    extra = {"task_runner": runner} if runner else {}
    t0 = time.perf_counter()
    rec = run_suites(load_suites([folder]), RunOptions(
        mode="record", concurrency=args.concurrency, backend_factory=lambda spec: FakeBackend(reply), **extra))
    t_rec = time.perf_counter() - t0
    assert rec.summary["totals"]["errors"] == 0, rec.samples[0].error
    replays, cpus = [], []
    for _ in range(args.repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        out = run_suites(load_suites([folder]), RunOptions(mode="replay", concurrency=args.concurrency, **extra))
        replays.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
        assert out.summary["totals"]["misses"] == 0 and out.summary["totals"]["cache_hits"] == args.cases
    t0 = time.perf_counter()
    rescore(load_suites([folder]), out.samples)
    t_score = time.perf_counter() - t0
    n_files = len(list((folder.parent / "cassettes" / "bench").glob("*.json")))
    return (label, args.cases, t_rec, statistics.median(replays), statistics.median(cpus), t_score, n_files,
            out.summary["totals"]["passed"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=1000)
    ap.add_argument("--concurrency", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3, help="timed replays per row (median reported)")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        rows = [
            bench_route(Path(tmp), "summarize task (llm, 1 call)", "summarize", None, args),
            bench_route(Path(tmp), "minimal one-call task", "restyle", one_call_task, args),
        ]

    print(f"bench_eval: {args.cases} cases × 12 assertions, concurrency {args.concurrency}, "
          f"{os.cpu_count()} CPU(s), load average {os.getloadavg()[0]:.1f}; "
          "replay = load suite + replay cassettes + run task + score")
    head = ("route", "cases", "record s", "replay+score s (median)", "CPU s", "re-score s", "cases/s",
            "cassette files", "passed")
    print(" | ".join(head))
    print(" | ".join("-" * len(h) for h in head))
    for label, n, t_rec, t_rep, cpu, t_score, files, passed in rows:
        print(f"{label} | {n} | {t_rec:.2f} | {t_rep:.2f} | {cpu:.2f} | {t_score:.2f} | {n / t_rep:.0f} | {files} | {passed}")
    target = rows[0][3]
    print(f"target: replay+score of {args.cases} cases under 10 s -> {'met' if target < 10 else 'NOT met'} ({target:.2f} s)")


if __name__ == "__main__":
    main()
