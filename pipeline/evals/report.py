"""Reports of a run: a terminal table (with a live progress bar), Markdown for a pull request,
JUnit XML for CI dashboards, JSON for tools."""

from __future__ import annotations

import json
import sys
import time
import unicodedata
from typing import Any, TextIO
from xml.etree import ElementTree as ET

from pipeline.evals.compare import Comparison
from pipeline.evals.results import SampleResult, case_stats
from pipeline.evals.runner import Progress


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def table(rows: list[list[str]]) -> str:
    widths = [max(_width(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        lines.append("  ".join(_pad(cell, widths[i]) for i, cell in enumerate(row)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


class ProgressBar:
    """One self-rewriting line on stderr: done/total, cassette hits, recordings, retries."""

    def __init__(self, stream: TextIO | None = None, *, enabled: bool | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self._last = time.perf_counter()

    def __call__(self, p: Progress) -> None:
        now = time.perf_counter()
        if not self.enabled:
            # Not a terminal (a log, CI): a plain line now and then, so long recordings show life.
            if p.done and (p.done == p.total or now - self._last >= 15):
                self._last = now
                self.stream.write(
                    f"speechsmith: eval: {p.done}/{p.total} done, hits {p.hits}, recorded {p.recorded}, "
                    f"retries {p.retries}, misses {p.misses}, {now - p.started:.0f}s\n"
                )
                self.stream.flush()
            return
        if p.done < p.total and now - self._last < 0.1:
            return
        self._last = now
        width = 24
        filled = int(width * p.done / p.total) if p.total else width
        bar = "#" * filled + "-" * (width - filled)
        line = (
            f"\r[{bar}] {p.done}/{p.total}  hits {p.hits}  recorded {p.recorded}  "
            f"retries {p.retries}  misses {p.misses}  failed {p.failed}  errors {p.errors}  "
            f"{now - p.started:.1f}s"
        )
        self.stream.write(line)
        if p.done >= p.total:
            self.stream.write("\n")
        self.stream.flush()


def _why(miss: dict[str, Any]) -> str:
    """The part of a miss message that says what changed (after the cassette folder)."""
    error = str(miss.get("error") or "")
    return f": {error.split('; ', 1)[1][:160]}" if "; " in error else ""


def _status(s: SampleResult) -> str:
    if s.status == "miss":
        return "MISS"
    if s.status == "error":
        return "ERROR"
    return "pass" if s.passed else "FAIL"


def terminal(samples: list[SampleResult], summary: dict[str, Any], comparison: Comparison | None = None) -> str:
    deltas = {(d.suite, d.case, d.sample): d for d in comparison.deltas} if comparison else {}
    rows = [["suite", "case", "#", "status", "score", "Δ", "model s", "tokens", "hits", "failed assertions"]]
    for s in samples:
        d = deltas.get(s.key)
        mark = ""
        if d is not None and d.delta is not None:
            mark = f"{d.delta:+.2f}" + (" ▼" if d.kind == "regression" else " ▲" if d.kind == "improvement" else "")
        tokens = int(s.usage.get("prompt_tokens", 0)) + int(s.usage.get("completion_tokens", 0))
        failed = ", ".join(a.name for a in s.failed_assertions()) if s.status == "ok" else (s.error or "")[:60]
        rows.append([
            s.suite, s.case, str(s.sample), _status(s), f"{s.score:.2f}", mark,
            f"{s.model_seconds:.1f}", str(tokens), str(s.cassettes.get("hits", 0)), failed[:70],
        ])
    t = summary.get("totals", {})
    lines = [table(rows), ""]
    lines.append(
        f"{t.get('samples', 0)} sample(s) of {t.get('cases', 0)} case(s): {t.get('passed', 0)} passed, "
        f"{t.get('failed', 0)} failed ({t.get('errors', 0)} errors), {t.get('misses', 0)} replay misses, "
        f"{t.get('flaky', 0)} flaky; mean score {t.get('mean_score', 0):.3f}; "
        f"{t.get('not_judged', 0)} rubric(s) not judged (no judge model); "
        f"cassette hits {t.get('cache_hits', 0)}, retries {t.get('retries', 0)}"
    )
    for name, st in summary.get("suites", {}).items():
        flaky = f", flaky: {', '.join(st['flaky'])}" if st.get("flaky") else ""
        lines.append(
            f"  {name}: pass rate {st['pass_rate']:.2f}, pass^k {st['pass_k']:.2f}, "
            f"mean {st['mean_score']:.3f}{flaky}"
        )
    if comparison is not None:
        lines.append(
            f"vs baseline: {len(comparison.regressions)} regression(s), "
            f"{len(comparison.improvements)} improvement(s), {len(comparison.of('new'))} new, "
            f"{len(comparison.of('missing'))} missing"
        )
        for d in comparison.regressions:
            lines.append(f"  REGRESSION {d.label}: {d.base_score:.2f}→{d.run_score:.2f} {'; '.join(d.changed)[:200]}")
    if summary.get("misses"):
        lines.append("replay misses (re-record with --mode record or update):")
        lines += [f"  {m['suite']}/{m['case']}#{m['sample']}{_why(m)}" for m in summary["misses"]]
    lines += [f"warning: {w}" for w in summary.get("warnings", [])]
    return "\n".join(lines) + "\n"


def compare_table(comparison: Comparison, *, all_rows: bool = False) -> str:
    rows = [["suite", "case", "#", "kind", "base", "run", "Δ", "changed assertions"]]
    for d in comparison.deltas:
        if d.kind == "unchanged" and not all_rows:
            continue
        rows.append([
            d.suite, d.case, str(d.sample), d.kind,
            "-" if d.base_score is None else f"{d.base_score:.2f}{'' if d.base_passed else ' ✗'}",
            "-" if d.run_score is None else f"{d.run_score:.2f}{'' if d.run_passed else ' ✗'}",
            "" if d.delta is None else f"{d.delta:+.2f}", "; ".join(d.changed)[:80],
        ])
    counts = comparison.to_dict()["counts"]
    tail = ", ".join(f"{v} {k}" for k, v in counts.items() if v)
    body = table(rows) if len(rows) > 1 else "no differences"
    return f"{body}\n\n{tail or 'nothing to compare'} (tolerance {comparison.tolerance})\n"


def markdown(samples: list[SampleResult], summary: dict[str, Any], comparison: Comparison | None = None) -> str:
    t = summary.get("totals", {})
    out = ["## speechsmith eval", ""]
    out.append(
        f"**{t.get('passed', 0)}/{t.get('samples', 0) - t.get('misses', 0)} passed**, "
        f"{t.get('misses', 0)} replay misses, {t.get('flaky', 0)} flaky, mean score {t.get('mean_score', 0):.3f} "
        f"(mode `{summary.get('mode', '?')}`)."
    )
    out += ["", "| suite | task | cases | pass rate | pass^k | mean score | flaky |", "| --- | --- | ---: | ---: | ---: | ---: | --- |"]
    for name, st in summary.get("suites", {}).items():
        out.append(
            f"| {name} | {st['task']} | {st['cases']} | {st['pass_rate']:.2f} | {st['pass_k']:.2f} | "
            f"{st['mean_score']:.3f} | {', '.join(st['flaky']) or '-'} |"
        )
    if comparison is not None:
        out += ["", f"### Against the baseline: {len(comparison.regressions)} regression(s), "
                f"{len(comparison.improvements)} improvement(s)", ""]
        moved = [d for d in comparison.deltas if d.kind in ("regression", "improvement", "new", "missing", "miss")]
        if moved:
            out += ["| case | change | base | run | Δ | assertions |", "| --- | --- | ---: | ---: | ---: | --- |"]
            for d in moved:
                icon = {"regression": "🔻 regression", "improvement": "🔺 improvement"}.get(d.kind, d.kind)
                out.append(
                    f"| `{d.label}` | {icon} | {'-' if d.base_score is None else f'{d.base_score:.2f}'} | "
                    f"{'-' if d.run_score is None else f'{d.run_score:.2f}'} | "
                    f"{'' if d.delta is None else f'{d.delta:+.2f}'} | {'; '.join(d.changed).replace('|', '/')} |"
                )
    failing = [s for s in samples if not s.passed]
    if failing:
        out += ["", "<details><summary>Failing samples</summary>", "", "| case | status | failed assertions |", "| --- | --- | --- |"]
        for s in failing:
            why = "; ".join(f"{a.name} ({a.detail})" if a.detail else a.name for a in s.failed_assertions())
            if s.status != "ok":
                why = (s.error or s.status)[:150]
            out.append(f"| `{s.suite}/{s.case}#{s.sample}` | {_status(s)} | {why.replace('|', '/')[:300]} |")
        out += ["", "</details>"]
    if summary.get("misses"):
        out += ["", "**Replay misses** (prompt or inputs changed: re-record):", ""]
        out += [f"- `{m['suite']}/{m['case']}#{m['sample']}`{_why(m)}" for m in summary["misses"]]
    return "\n".join(out) + "\n"


def junit(samples: list[SampleResult], summary: dict[str, Any], comparison: Comparison | None = None) -> str:
    regress = {(d.suite, d.case, d.sample): d for d in (comparison.regressions if comparison else [])}
    root = ET.Element("testsuites", name="speechsmith eval")
    for name in sorted({s.suite for s in samples}):
        mine = [s for s in samples if s.suite == name]
        failures = sum(1 for s in mine if s.status == "ok" and not s.passed)
        errors = sum(1 for s in mine if s.status != "ok")
        suite_el = ET.SubElement(
            root, "testsuite", name=name, tests=str(len(mine)), failures=str(failures), errors=str(errors),
            time=f"{sum(s.wall_seconds for s in mine):.3f}",
        )
        for s in mine:
            case_el = ET.SubElement(suite_el, "testcase", classname=f"eval.{name}", name=f"{s.case}#{s.sample}",
                                    time=f"{s.wall_seconds:.3f}")
            if s.status != "ok":
                err = ET.SubElement(case_el, "error", type=s.error_type or s.status, message=(s.error or "")[:300])
                err.text = s.error or ""
            elif not s.passed:
                bad = s.failed_assertions()
                fail = ET.SubElement(case_el, "failure", type="assertion",
                                     message=", ".join(a.name for a in bad)[:300])
                fail.text = "\n".join(f"{a.name}: {a.detail}" for a in bad)
            if s.key in regress:
                d = regress[s.key]
                reg = ET.SubElement(case_el, "failure", type="regression",
                                    message=f"score {d.base_score:.2f} -> {d.run_score:.2f}")
                reg.text = "; ".join(d.changed)
            props = ET.SubElement(case_el, "properties")
            ET.SubElement(props, "property", name="score", value=f"{s.score:.4f}")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def json_report(samples: list[SampleResult], summary: dict[str, Any], comparison: Comparison | None = None) -> str:
    data = {
        "summary": summary,
        "cases": [c.model_dump() for c in case_stats(samples)],
        "samples": [
            {"suite": s.suite, "case": s.case, "sample": s.sample, "status": s.status, "passed": s.passed,
             "score": s.score, "assertions": [a.model_dump() for a in s.assertions], "error": s.error}
            for s in samples
        ],
        "comparison": comparison.to_dict() if comparison else None,
    }
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


RENDERERS = {"md": (markdown, "report.md"), "junit": (junit, "junit.xml"), "json": (json_report, "report.json")}
