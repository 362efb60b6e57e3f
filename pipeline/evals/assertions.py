"""Assertions: each turns one task result into a score in [0, 1] and a pass/fail.

Thresholds are applied here, in code; a model-graded rubric only returns a number. Everything
is computed from the stored result, the suite and the case's inputs, so `eval score RUN` gives
the same answer without a model (rubric judge calls replay from cassettes).
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from pipeline.evals import suite as S
from pipeline.evals import textmetrics as tm
from pipeline.evals.results import AssertionResult, SampleResult
from pipeline.text.hanzi import count_zi

# The schema each task's output must validate against ("module:Class") and where it sits in the
# result; None: a non-empty output is enough.
DEFAULT_SCHEMAS: dict[str, tuple[str | None, str]] = {
    "adapt": ("pipeline.speech:Speech", "output"),
    "summarize": ("pipeline.summary:Summary", "output"),
    "restyle": ("pipeline.speech:Speech", "output.speech"),
    "check": (None, "output"),
}

Judge = Callable[[str, str, str], float]  # (rubric, text, label) -> score 0..10


@dataclass
class CaseData:
    """What the assertions of one case may look at besides the result."""

    suite: S.Suite
    case: S.Case
    inputs: dict[str, Any]
    corpus_dir: Path | None = None
    judge: Judge | None = None
    prompts_dir: Path | None = None
    _corpus: dict[str, str] | None = field(default=None, repr=False)

    @cached_property
    def source(self) -> str:
        """The text the task worked from (restyle, summarize, check), or '' for adapt."""
        if isinstance(self.inputs.get("text"), str):
            return self.inputs["text"]
        file = self.inputs.get("file")
        if isinstance(file, str):
            from pipeline.text.textio import read_text

            return read_text(self.suite.resolve(file))
        return ""

    @cached_property
    def brief_text(self) -> str:
        """Every string of the brief, for 'no invented facts' in adapt."""
        parts: list[str] = []

        def walk(v: Any) -> None:
            if isinstance(v, str):
                parts.append(v)
            elif isinstance(v, dict):
                for x in v.values():
                    walk(x)
            elif isinstance(v, list | tuple):
                for x in v:
                    walk(x)

        brief = self.inputs.get("brief")
        if isinstance(brief, str) and self.suite.resolve(brief).is_file():
            walk(self.suite.resolve(brief).read_text(encoding="utf-8"))
        walk({k: v for k, v in self.inputs.items() if k != "brief"})
        return "\n".join(parts)

    def corpus_text(self, speech_id: str) -> str:
        if self._corpus is None:
            self._corpus = load_corpus_texts(self.corpus_dir)
        return self._corpus.get(speech_id, "")


def load_corpus_texts(corpus_dir: Path | None) -> dict[str, str]:
    try:
        from pipeline.corpus.store import load_corpus
    except ImportError:
        return {}
    from pipeline.paths import corpus_dir as default_dir

    return {r.id: r.text for r in load_corpus(corpus_dir or default_dir())}


# ---------------------------------------------------------------------------------------------
def select_text(result: dict[str, Any] | None, field_path: str | None) -> str:
    """The text an assertion tests: result.text by default, or a dotted path into the result."""
    if not result:
        return ""
    if not field_path:
        text = result.get("text") or ""
        return text if text else _strings(result.get("output"))
    value: Any = result
    for part in field_path.split("."):
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return ""
    return value if isinstance(value, str) else _strings(value)


def _strings(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return "\n".join(s for s in (_strings(v) for v in value.values()) if s)
    if isinstance(value, list | tuple):
        return "\n".join(s for s in (_strings(v) for v in value) if s)
    return ""


def _res(spec: Any, passed: bool, score: float, value: float | None = None,
         threshold: float | None = None, detail: str = "") -> AssertionResult:
    return AssertionResult(
        name=spec.key, type=spec.type, passed=passed, score=round(max(0.0, min(1.0, score)), 4),
        weight=spec.weight, value=None if value is None else round(float(value), 4),
        threshold=threshold, detail=detail[:300],
    )


# --- one function per assertion type --------------------------------------------------------
def _schema_valid(spec: S.SchemaValid, sample: SampleResult, data: CaseData) -> AssertionResult:
    default_ref, default_path = DEFAULT_SCHEMAS.get(sample.task, (None, "output"))
    ref = spec.schema_ref or default_ref
    output: Any = sample.result or {}
    # an explicit schema is checked against the whole output unless a field says otherwise
    for part in (spec.field or (default_path if spec.schema_ref is None else "output")).split("."):
        output = output.get(part) if isinstance(output, dict) else None
    if ref is None:
        ok = isinstance(output, dict) and bool(output)
        return _res(spec, ok, float(ok), detail="" if ok else "empty output")
    module, _, name = ref.partition(":")
    try:
        schema = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return _res(spec, False, 0.0, detail=f"schema {ref} not found")
    try:
        schema.model_validate(output)
    except Exception as exc:  # pydantic ValidationError or a type error on odd data
        first = str(exc).splitlines()
        return _res(spec, False, 0.0, detail=" ".join(first[:3]))
    return _res(spec, True, 1.0)


def _length(spec: S.Length, sample: SampleResult, data: CaseData) -> AssertionResult:
    zi = count_zi(select_text(sample.result, spec.field))
    lo, hi = spec.min, spec.max
    if spec.target is not None:
        lo = lo if lo is not None else int(spec.target * (1 - spec.tolerance))
        hi = hi if hi is not None else int(spec.target * (1 + spec.tolerance) + 0.999)
    ok = (lo is None or zi >= lo) and (hi is None or zi <= hi)
    if ok:
        score = 1.0
    else:  # partial credit, falling with the relative distance to the range
        edge = lo if lo is not None and zi < lo else hi
        score = 1 - abs(zi - edge) / max(edge or 1, 1)
    return _res(spec, ok, score, zi, detail=f"{zi} 字, want {lo if lo is not None else '-'}..{hi if hi is not None else '-'}")


def _contains(spec: S.Contains, sample: SampleResult, data: CaseData) -> AssertionResult:
    text = tm.strip_marks(select_text(sample.result, spec.field))
    values = [spec.value] if isinstance(spec.value, str) else list(spec.value)
    found = [v for v in values if tm.strip_marks(v) and tm.strip_marks(v) in text]
    if spec.type == "contains":
        ok = bool(found) if spec.any else len(found) == len(values)
        missing = [v for v in values if v not in found]
        return _res(spec, ok, len(found) / len(values) if values else 1.0, len(found),
                    detail="" if ok else f"missing: {', '.join(missing)[:200]}")
    ok = not found
    return _res(spec, ok, 1 - len(found) / len(values) if values else 1.0, len(found),
                detail="" if ok else f"found: {', '.join(found)[:200]}")


def _regex(spec: S.Regex, sample: SampleResult, data: CaseData) -> AssertionResult:
    text = tm.canon(select_text(sample.result, spec.field))
    match = re.search(tm.canon(spec.pattern), text, re.M)
    ok = bool(match) if spec.type == "regex" else not match
    detail = "" if ok else (f"matched {match.group(0)[:80]!r}" if match else "no match")
    return _res(spec, ok, float(ok), detail=detail)


def _points(spec: S.PointsCovered, sample: SampleResult, data: CaseData) -> AssertionResult:
    points = spec.points if spec.points is not None else list(data.inputs.get("points") or [])
    text = select_text(sample.result, spec.field)
    if not points:
        return _res(spec, False, 0.0, detail="no points in the case inputs")
    recalls = [tm.bigram_recall(p, text) for p in points]
    missing = [p for p, r in zip(points, recalls, strict=True) if r < spec.threshold]
    covered = len(points) - len(missing)
    return _res(spec, not missing, covered / len(points), covered, spec.threshold,
                "" if not missing else f"not covered: {'；'.join(missing)[:200]}")


def _check_clean(spec: S.CheckClean, sample: SampleResult, data: CaseData) -> AssertionResult:
    from pipeline.evals.lint import lint_issues

    text = select_text(sample.result, spec.field)
    try:
        issues = lint_issues(text, source=data.source or None, rules=spec.rules)
    except ImportError as exc:
        return _res(spec, False, 0.0, detail=f"linter unavailable: {exc}")
    levels = {"error": ("error",), "warning": ("error", "warning"), "info": ("error", "warning", "info")}
    bad = [i for i in issues if i["severity"] in levels[spec.severity]]
    if spec.relative and data.source:
        # Per rule, only the findings beyond those the input itself has.
        allowed: dict[str, int] = {}
        for i in lint_issues(data.source, rules=spec.rules):
            if i["severity"] in levels[spec.severity]:
                allowed[i["rule"]] = allowed.get(i["rule"], 0) + 1
        extra = []
        for i in bad:
            if allowed.get(i["rule"], 0) > 0:
                allowed[i["rule"]] -= 1
            else:
                extra.append(i)
        bad = extra
    detail = "; ".join(f"{i['rule']}: {i['message']}" for i in bad[:5])
    return _res(spec, not bad, 1.0 if not bad else 1 / (1 + len(bad)), len(bad), detail=detail)


def _substance(spec: S.Substance, sample: SampleResult, data: CaseData) -> AssertionResult:
    from pipeline.evals.substance import case_context, substance_verdict

    brief: dict[str, Any] = {}
    file = data.inputs.get("brief")
    if isinstance(file, str) and data.suite.resolve(file).is_file():
        from pipeline.tasks.adapt.brief import load_brief_file

        brief = load_brief_file(data.suite.resolve(file))
    task = data.suite.task_of(data.case)
    examples = [data.corpus_text(i) for i in example_ids(sample.result)] if task == "adapt" else []
    context = case_context(task, data.inputs, data.source, brief, [e for e in examples if e])
    passed, score, count, detail = substance_verdict(
        select_text(sample.result, spec.field), context, spec.rules, spec.ignore, spec.severity)
    return _res(spec, passed, score, count, detail=detail)


def _task_checks(spec: S.TaskChecks, sample: SampleResult, data: CaseData) -> AssertionResult:
    """The task's own verdicts (result.checks[name].passed), e.g. adapt's structure after repairs."""
    checks = (sample.result or {}).get("checks") or {}
    names = spec.checks or [k for k, v in checks.items() if isinstance(v, dict)]
    missing = [n for n in names if not isinstance(checks.get(n), dict)]
    failed = [n for n in names if isinstance(checks.get(n), dict) and not checks[n].get("passed", True)]
    bad = missing + failed
    detail = "; ".join([f"failed: {', '.join(failed)}"] * bool(failed) + [f"missing: {', '.join(missing)}"] * bool(missing))
    return _res(spec, not bad, 1 - len(bad) / max(1, len(names)), len(bad), detail=detail)


def _facts_preserved(spec: S.FactsPreserved, sample: SampleResult, data: CaseData) -> AssertionResult:
    from pipeline.text.facts import compare_facts

    source = data.source or data.brief_text
    report = compare_facts(source, select_text(sample.result, spec.field))
    recall = report.recall
    dropped = "、".join(f.text for f in report.dropped[:8])
    return _res(spec, recall >= spec.threshold, recall, recall, spec.threshold,
                f"dropped: {dropped}" if dropped else "")


def _no_invented(spec: S.NoInventedFacts, sample: SampleResult, data: CaseData) -> AssertionResult:
    from pipeline.text.facts import GUARD_KINDS, find_unsupported

    allowed = [data.source, data.brief_text]  # the source and anything the case gave (title, …)
    added = find_unsupported(select_text(sample.result, spec.field), allowed, kinds=GUARD_KINDS)
    n = len(added)
    return _res(spec, n <= spec.max_added, 1.0 if n <= spec.max_added else 1 / (1 + n - spec.max_added),
                n, spec.max_added, "invented: " + "、".join(f.text for f in added[:8]) if added else "")


def _rouge(spec: S.Rouge, sample: SampleResult, data: CaseData) -> AssertionResult:
    ref = data.source if spec.against == "input" else data.suite.reference(data.case, spec)
    if not ref:
        return _res(spec, False, 0.0, detail="no reference text for this case")
    value = tm.rouge(select_text(sample.result, spec.field), ref, spec.metric, spec.level)
    return _res(spec, value >= spec.threshold, value / spec.threshold if spec.threshold else 1.0,
                value, spec.threshold, f"{spec.metric}/{spec.level} = {value:.3f}")


def example_ids(result: dict[str, Any] | None) -> list[str]:
    meta = (result or {}).get("metadata") or {}
    raw = meta.get("examples") or meta.get("example_ids") or []
    if isinstance(raw, str):
        raw = [x.strip() for x in raw.split(",")]
    ids = []
    for item in raw:
        if isinstance(item, dict):
            item = item.get("id")
        if isinstance(item, str) and item:
            ids.append(item)
    return ids


def _copy_rate(spec: S.CopyRate, sample: SampleResult, data: CaseData) -> AssertionResult:
    text = tm.strip_marks(select_text(sample.result, spec.field))
    if spec.source == "input":
        sources = [data.source]
    else:
        sources = [data.corpus_text(i) for i in example_ids(sample.result)]
    sources = [tm.strip_marks(s) for s in sources if s]
    if not sources:
        ok = spec.source == "examples"  # no examples used: nothing could be copied
        return _res(spec, ok, float(ok), 0, detail="no source texts to compare with")
    lcs = max(len(tm.longest_common_substring(text, s)) for s in sources)
    overlap = max(tm.ngram_overlap(text, s, spec.n) for s in sources)
    ok = lcs <= spec.max_lcs and overlap <= spec.max_overlap
    score = min(1.0, spec.max_lcs / max(lcs, 1)) * min(1.0, (1 - overlap) / max(1 - spec.max_overlap, 1e-9))
    return _res(spec, ok, score, overlap, spec.max_overlap,
                f"longest copied run {lcs} 字 (max {spec.max_lcs}), {spec.n}-gram overlap {overlap:.2f}")


_JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)


def system_prompts(task: str, names: list[str] | None, prompts_dir: Path | None) -> dict[str, str]:
    """The static text (template tags removed) of the system prompts of a task's prompts."""
    from pipeline.paths import prompts_dir as default_dir

    root = default_dir(prompts_dir)
    folders = [root / n for n in names] if names else [p.parent for p in sorted((root / task).rglob("meta.yaml"))]
    out = {}
    for folder in folders:
        path = folder / "system.md"
        if path.is_file():
            out[str(folder.relative_to(root))] = _JINJA.sub("\n", path.read_text(encoding="utf-8"))
    return out


def _no_prompt_leak(spec: S.NoPromptLeak, sample: SampleResult, data: CaseData) -> AssertionResult:
    text = tm.strip_marks(select_text(sample.result, spec.field))
    prompts = system_prompts(data.suite.task_of(data.case), spec.prompts, data.prompts_dir)
    if not prompts:
        return _res(spec, False, 0.0, detail="no system prompts found to compare with")
    worst, where = "", ""
    for name, static in prompts.items():
        run = tm.longest_common_substring(text, tm.strip_marks(static))
        if len(run) > len(worst):
            worst, where = run, name
    ok = len(worst) <= spec.max_lcs
    return _res(spec, ok, 1.0 if ok else spec.max_lcs / len(worst), len(worst), spec.max_lcs,
                f"longest run of a system prompt: {len(worst)} 字" + (f" from {where}: {worst[:40]}" if worst else ""))


def _latency(spec: S.Latency, sample: SampleResult, data: CaseData) -> AssertionResult:
    # Model time as recorded in the cassettes: the same in replay as when it was recorded.
    secs = sample.model_seconds
    ok = secs <= spec.max_seconds
    return _res(spec, ok, 1.0 if ok else spec.max_seconds / secs, secs, spec.max_seconds, f"{secs:.2f} s")


def _tokens(spec: S.Tokens, sample: SampleResult, data: CaseData) -> AssertionResult:
    n = int(sample.usage.get("prompt_tokens", 0)) + int(sample.usage.get("completion_tokens", 0))
    ok = n <= spec.max_tokens
    return _res(spec, ok, 1.0 if ok else spec.max_tokens / n, n, spec.max_tokens, f"{n} tokens")


def _cost(spec: S.Cost, sample: SampleResult, data: CaseData) -> AssertionResult:
    cost = float(sample.usage.get("cost", 0.0))
    ok = cost <= spec.max_cost
    return _res(spec, ok, 1.0 if ok else spec.max_cost / cost, cost, spec.max_cost, f"{cost:.6f}")


def _rubric(spec: S.Rubric, sample: SampleResult, data: CaseData) -> AssertionResult:
    if data.judge is None:
        # the embedded model gave every defect a passing score: no judge is no verdict
        result = _res(spec, False, 0.0, detail="not judged: no judge model (set judge: in the suite or "
                      "--judge-model to an endpoint)")
        return result.model_copy(update={"judged": False, "weight": 0.0})
    text = select_text(sample.result, spec.field)[: spec.max_chars]
    label = f"{sample.case}#{sample.sample}/judge:{spec.key}"
    try:
        raw = data.judge(spec.rubric, text, label)
    except Exception as exc:  # a judge miss or failure fails this assertion only
        return _res(spec, False, 0.0, detail=f"judge failed: {type(exc).__name__}: {exc}"[:300])
    score = max(0.0, min(10.0, raw)) / 10
    return _res(spec, score >= spec.threshold, score, score, spec.threshold, f"judge {raw:g}/10")


_DISPATCH: dict[str, Callable[[Any, SampleResult, CaseData], AssertionResult]] = {
    "schema_valid": _schema_valid,
    "length": _length,
    "contains": _contains,
    "not_contains": _contains,
    "regex": _regex,
    "not_regex": _regex,
    "points_covered": _points,
    "check_clean": _check_clean,
    "substance": _substance,
    "task_checks": _task_checks,
    "facts_preserved": _facts_preserved,
    "no_invented_facts": _no_invented,
    "rouge": _rouge,
    "copy_rate": _copy_rate,
    "no_prompt_leak": _no_prompt_leak,
    "latency": _latency,
    "tokens": _tokens,
    "cost": _cost,
    "rubric": _rubric,
}


def evaluate(spec: Any, sample: SampleResult, data: CaseData) -> AssertionResult:
    """One assertion on one sample; a sample whose task failed fails every assertion."""
    if sample.status != "ok":
        return _res(spec, False, 0.0, detail=f"task {sample.status}: {sample.error or ''}"[:300])
    try:
        return _DISPATCH[spec.type](spec, sample, data)
    except Exception as exc:  # an assertion that cannot be computed fails, with the reason
        return _res(spec, False, 0.0, detail=f"could not evaluate: {type(exc).__name__}: {exc}"[:300])


def score_sample(sample: SampleResult, data: CaseData) -> SampleResult:
    from pipeline.evals.results import finalize

    sample.assertions = [evaluate(spec, sample, data) for spec in data.suite.assertions(data.case)]
    return finalize(sample)
