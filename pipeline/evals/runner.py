"""Run suites: every case × sample through its task, every model call through cassettes.

Cases run concurrently in a thread pool; calls into a real backend are bounded per backend
(the local model: one at a time, it is one llama.cpp context). Results are sorted by suite,
case id and sample index, never by completion order, so two runs diff line by line.

Replay builds no real backend at all: the cassette folder's recorded meta and token counts stand
in for it, so CI needs neither the model file nor llama-cpp.
"""

from __future__ import annotations

import fnmatch
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeline.errors import SpeechsmithError
from pipeline.evals.assertions import CaseData, score_sample
from pipeline.evals.results import SampleResult, sort_samples, summarize
from pipeline.evals.suite import BackendSpec, Case, Rubric, Suite
from pipeline.model.backends.cassette import (
    CassetteBackend,
    CassetteMiss,
    CassetteStats,
    CassetteStore,
    Mode,
)
from pipeline.model.types import Backend
from pipeline.tasks import TaskContext, TaskInput, TaskResult, run_task

TaskRunner = Callable[[str, dict[str, Any] | TaskInput, TaskContext], TaskResult]
BackendFactory = Callable[[BackendSpec], Backend]

JUDGE_DIR = "judge"  # judge cassettes live in <suite>/judge/, with their own meta


@dataclass
class Progress:
    done: int = 0
    total: int = 0
    hits: int = 0
    recorded: int = 0
    misses: int = 0
    retries: int = 0
    errors: int = 0
    failed: int = 0
    started: float = field(default_factory=time.perf_counter)


@dataclass
class RunOptions:
    mode: Mode = "replay"
    cassettes_dir: Path | None = None  # default: <suite folder>/../cassettes
    concurrency: int | None = None
    corpus_dir: Path | None = None
    prompts_dir: Path | None = None
    cases: list[str] = field(default_factory=list)  # glob patterns on "suite/case" or "case"
    overrides: dict[str, Any] = field(default_factory=dict)  # --backend/--model/--base-url/--threads/…
    on_progress: Callable[[Progress], None] | None = None
    task_runner: TaskRunner = run_task
    backend_factory: BackendFactory | None = None  # tests inject FakeBackend; default: connect
    # Where the calls are logged (pipeline.model.runlog.RunLog), one run per case; the CLI passes
    # one for the modes that reach a model, not for replay (it would log cassettes, not calls).
    runlog: Any = None
    judge_model: str | None = None  # --judge-model: an endpoint model for rubric assertions


@dataclass
class RunOutcome:
    samples: list[SampleResult]
    summary: dict[str, Any]
    stores: dict[str, CassetteStore]


def default_backend_factory(spec: BackendSpec) -> Backend:
    """The real backend for a suite's settings (the local model loads on its first call)."""
    from pipeline.config import ModelOptions, resolve
    from pipeline.model.connect import open_backend

    options = ModelOptions(
        backend=spec.backend, model=spec.model, base_url=spec.base_url,
        context=spec.context, threads=spec.threads, timeout=spec.timeout, structured=spec.structured,
    )
    return open_backend(resolve(options))


def cassette_root(suite: Suite, options: RunOptions) -> Path:
    if options.cassettes_dir is not None:
        return Path(options.cassettes_dir)
    return suite.folder.parent / "cassettes"


def _selected(suite: Suite, case: Case, patterns: list[str]) -> bool:
    if not patterns:
        return True
    names = (case.id, f"{suite.name}/{case.id}")
    return any(fnmatch.fnmatchcase(n, p) for p in patterns for n in names)


def prepare_inputs(suite: Suite, case: Case, corpus_dir: Path | None) -> dict[str, Any]:
    """The case's inputs as a task takes them: paths made absolute, corpus ids made text."""
    inputs = suite.inputs(case)
    for name in ("file", "brief"):
        if isinstance(inputs.get(name), str):
            inputs[name] = str(suite.resolve(inputs[name]))
    corpus_id = inputs.pop("corpus_id", None)
    if corpus_id is not None and "text" not in inputs:
        from pipeline.evals.assertions import load_corpus_texts

        texts = load_corpus_texts(corpus_dir)
        if corpus_id not in texts:
            raise SpeechsmithError(f"case {case.id}: corpus id {corpus_id!r} not in the corpus")
        inputs["text"] = texts[corpus_id]
    return inputs


def _compact(inputs: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in inputs.items():
        if isinstance(v, str) and len(v) > 120:
            v = f"{v[:60]}…({len(v)} chars)"
        out[k] = v
    return out


class _Judges:
    """Rubric judges per suite: structured calls through the suite's judge cassettes."""

    def __init__(self, store: CassetteStore, overrides: dict[str, Any], runlog: Any = None) -> None:
        self.store = store
        self.overrides = overrides
        self.runlog = runlog
        self.stats = CassetteStats()
        self._lock = threading.Lock()

    def __call__(self, rubric: str, text: str, label: str) -> float:
        from pipeline.evals.judge import judge_score
        from pipeline.model.client import Client

        backend = CassetteBackend(self.store, overrides=self.overrides, label=label)
        try:
            client = Client(backend, command="eval-judge", max_reasks=1, runlog=self.runlog)
            try:
                return judge_score(client, rubric, text)
            finally:
                client.finish()
        finally:
            with self._lock:
                self.stats.add(backend.stats)


class _SuiteRun:
    def __init__(self, suite: Suite, options: RunOptions, inner: Backend | None, judge_inner: Backend | None) -> None:
        self.suite = suite
        self.options = options
        root = cassette_root(suite, options) / suite.name
        spec = suite.backend
        limit = 1 if inner is None or inner.name == "local" else (spec.limit or 4)
        self.store = CassetteStore(root, options.mode, inner, limit=limit)
        self.judges: _Judges | None = None
        if any(isinstance(a, Rubric) for c in suite.cases for a in suite.assertions(c)) and can_judge(
                judge_spec(suite, options), options):
            jspec = judge_spec(suite, options)
            jlimit = 1 if judge_inner is None or judge_inner.name == "local" else (jspec.limit or 4)
            if judge_inner is not None and inner is not None and judge_inner is inner:
                jlimit = limit
            jstore = CassetteStore(root / JUDGE_DIR, options.mode, judge_inner, limit=jlimit)
            self.judges = _Judges(jstore, {"temperature": 0.0, **jspec.params}, options.runlog)

    def run_one(self, case: Case, sample: int) -> SampleResult:
        from pipeline.model.client import Client

        suite, options = self.suite, self.options
        backend = CassetteBackend(
            self.store, sample_index=sample, overrides=suite.backend.params, label=f"{case.id}#{sample}"
        )
        client = Client(backend, command="eval", runlog=options.runlog)
        ctx = TaskContext(
            client=client, corpus_dir=options.corpus_dir, prompts_dir=options.prompts_dir,
        )
        task = suite.task_of(case)
        out = SampleResult(suite=suite.name, task=task, case=case.id, sample=sample)
        start = time.perf_counter()
        inputs: dict[str, Any] = {}
        try:
            inputs = prepare_inputs(suite, case, options.corpus_dir)
            result = options.task_runner(task, inputs, ctx)
            out.result = result.model_dump(mode="json")
        except CassetteMiss as exc:
            out.status, out.error, out.error_type = "miss", str(exc), "CassetteMiss"
            out.misses = [exc.key]
        except SpeechsmithError as exc:
            out.status, out.error, out.error_type = "error", str(exc), type(exc).__name__
        except Exception as exc:  # a bug in a task must not take the whole run down
            out.status, out.error, out.error_type = "error", f"{type(exc).__name__}: {exc}", type(exc).__name__
        if backend.stats.misses and out.status != "miss":
            # A task that caught the miss and carried on (e.g. a fallback) still missed.
            out.status, out.error_type = "miss", "CassetteMiss"
            out.error = out.error or "a model call had no cassette (the task fell back)"
        client.finish()
        out.wall_seconds = round(time.perf_counter() - start, 4)
        out.model_seconds = round(backend.stats.model_seconds, 4)
        out.inputs = _compact(inputs)
        out.usage = client.usage.to_dict()
        out.cassettes = backend.stats.to_dict()
        return self.score(out, case, inputs)

    def score(self, sample: SampleResult, case: Case, inputs: dict[str, Any]) -> SampleResult:
        data = CaseData(self.suite, case, inputs, self.options.corpus_dir, self.judges, self.options.prompts_dir)
        before = self.judges.stats.misses if self.judges else 0
        score_sample(sample, data)
        if self.judges and self.judges.stats.misses > before and sample.status == "ok":
            sample.status, sample.error_type = "miss", "CassetteMiss"
            sample.error = "a rubric judge call had no cassette"
        return sample


def judge_spec(suite: Suite, options: RunOptions) -> BackendSpec:
    """The rubric judge's settings: --judge-model, else the suite's judge:, else its backend."""
    spec = suite.judge or suite.backend
    if options.judge_model:
        spec = spec.model_copy(update={"backend": "openai", "model": options.judge_model})
    return spec


def can_judge(spec: BackendSpec, options: RunOptions) -> bool:
    """Only an endpoint model judges: the embedded 270M model passed every defect of issue 14,
    so on it a rubric is reported as not judged rather than scored."""
    backend = options.judge_model and "openai" or options.overrides.get("backend") or spec.backend
    if backend is None:
        from pipeline.config import resolve

        backend = resolve().backend
    return backend == "openai"


def _open_backends(suites: list[Suite], options: RunOptions) -> dict[str, Backend]:
    """One real backend per distinct setting (the local model is loaded once, not per suite)."""
    factory = options.backend_factory or default_backend_factory
    opened: dict[str, Backend] = {}
    for suite in suites:
        for spec in (suite.backend, judge_spec(suite, options)):
            spec = spec.model_copy(update={k: v for k, v in options.overrides.items() if v is not None})
            key = spec.model_dump_json(exclude={"params", "limit"})
            if key not in opened:
                opened[key] = factory(spec)
    return opened


def _spec_key(spec: BackendSpec, options: RunOptions) -> str:
    spec = spec.model_copy(update={k: v for k, v in options.overrides.items() if v is not None})
    return spec.model_dump_json(exclude={"params", "limit"})


def run_suites(suites: list[Suite], options: RunOptions | None = None) -> RunOutcome:
    options = options or RunOptions()
    backends: dict[str, Backend] = {}
    if options.mode != "replay":
        backends = _open_backends(suites, options)
    runs: dict[str, _SuiteRun] = {}
    jobs: list[tuple[_SuiteRun, Case, int]] = []
    for suite in suites:
        inner = backends.get(_spec_key(suite.backend, options))
        judge_inner = backends.get(_spec_key(judge_spec(suite, options), options))
        run = _SuiteRun(suite, options, inner, judge_inner)
        runs[suite.name] = run
        for case in suite.cases:
            if _selected(suite, case, options.cases):
                jobs += [(run, case, i) for i in range(suite.repeat(case))]
    if not jobs:
        raise SpeechsmithError("no cases selected: check the --case patterns")

    progress = Progress(total=len(jobs))
    lock = threading.Lock()

    def work(job: tuple[_SuiteRun, Case, int]) -> SampleResult:
        run, case, sample = job
        result = run.run_one(case, sample)
        with lock:
            progress.done += 1
            progress.hits += int(result.cassettes.get("hits", 0))
            progress.recorded += int(result.cassettes.get("recorded", 0))
            progress.misses += int(result.status == "miss")
            progress.retries += int(result.cassettes.get("retries", 0))
            progress.errors += int(result.status == "error")
            progress.failed += int(result.status == "ok" and not result.passed)
            if options.on_progress:
                options.on_progress(progress)
        return result

    workers = options.concurrency or (min(4, os.cpu_count() or 1) if options.mode == "replay" else 2)
    if options.on_progress:
        options.on_progress(progress)
    pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="eval")
    try:
        samples = list(pool.map(work, jobs))
    except BaseException:
        # Interrupted (Ctrl-C) or failed: drop the queued cases (the ones in flight finish),
        # keep what was recorded usable (meta, token counts) and prune nothing, so that
        # `--mode update` continues from here.
        pool.shutdown(wait=True, cancel_futures=True)
        _finish_stores(runs, options, prune=False)
        raise
    pool.shutdown()
    samples = sort_samples(samples)
    _finish_stores(runs, options, prune=not options.cases)
    stores = {name: run.store for name, run in runs.items()}
    summary = summarize(samples, **run_meta(suites, options, runs))
    summary["warnings"] = prompt_warnings(suites, samples, options)
    return RunOutcome(samples, summary, stores)


def _finish_stores(runs: dict[str, _SuiteRun], options: RunOptions, *, prune: bool) -> None:
    if options.mode not in ("record", "update"):
        return
    for run in runs.values():
        run.store.finish(prune=prune)
        if run.judges:
            run.judges.store.finish(prune=prune)


def run_meta(suites: list[Suite], options: RunOptions, runs: dict[str, _SuiteRun]) -> dict[str, Any]:
    return {
        "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "mode": options.mode,
        "case_filter": options.cases,
        "suite_files": {s.name: str(s.path) if s.path else None for s in suites},
        "cassettes": {name: str(run.store.directory) for name, run in runs.items()},
        "backends": {name: run.store.meta for name, run in runs.items()},
    }


def prompt_warnings(suites: list[Suite], samples: list[SampleResult], options: RunOptions) -> list[str]:
    """A suite pinned to a prompt version the results do not show (the prompt has moved on)."""
    out = []
    for suite in suites:
        if not suite.prompt_version:
            continue
        seen = set()
        for s in samples:
            meta = (s.result or {}).get("metadata") or {}
            refs = [meta.get("prompt")] + list(meta.get("prompts") or [])
            for ref in refs:
                # the task's own prompt ("adapt", not "adapt/section") carries the suite's version
                if s.suite == suite.name and isinstance(ref, dict) and ref.get("id") == suite.task:
                    seen.add(str(ref.get("version")))
        if seen and seen != {suite.prompt_version}:
            out.append(
                f"suite {suite.name}: pinned to prompt version {suite.prompt_version}, "
                f"results show {', '.join(sorted(seen))}"
            )
    return out


def rescore(suites: list[Suite], samples: list[SampleResult], options: RunOptions | None = None) -> RunOutcome:
    """Re-apply the suites' (possibly edited) assertions to stored results: no model calls.

    Rubric judges replay from cassettes; a judge call never recorded fails that assertion and
    marks the sample as a replay miss.
    """
    options = options or RunOptions()
    options.mode = "replay"
    by_name = {s.name: s for s in suites}
    cases = {(s.name, c.id): c for s in suites for c in s.cases}
    runs = {s.name: _SuiteRun(s, options, None, None) for s in suites}
    out: list[SampleResult] = []
    for sample in samples:
        suite = by_name.get(sample.suite)
        case = cases.get((sample.suite, sample.case))
        if suite is None or case is None:
            out.append(sample)  # no longer in the suite: keep the stored scores
            continue
        sample = sample.model_copy()  # scoring replaces whole fields, never mutates nested ones
        if sample.result is None:  # the task never finished: nothing to score
            out.append(sample)
            continue
        if sample.status == "miss":  # only a judge call missed: score again
            sample.status, sample.error, sample.error_type = "ok", None, None
        inputs = prepare_inputs(suite, case, options.corpus_dir)
        out.append(runs[suite.name].score(sample, case, inputs))
    out = sort_samples(out)
    summary = summarize(out, **run_meta(suites, options, runs))
    summary["rescored"] = True
    summary["warnings"] = prompt_warnings(suites, out, options)
    return RunOutcome(out, summary, {n: r.store for n, r in runs.items()})
