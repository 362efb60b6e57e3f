"""Benchmark the substance checks (pipeline/check/substance) and measure the texts they are
calibrated on.

Targets: under 50 ms added on a 1,500-字 speech (corpus seed-01, 1,499 字, with a full brief
and an example, so every rule runs), under 5 s for all 52 government work reports. Also prints
the findings by rule over the 52 reports and the 7 corpus speeches (there must be no error),
and the repetition measures R104/R105's bounds come from.

    python evals/bench/bench_substance.py [REPORTS.jsonl] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from collections import Counter
from operator import add
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

CANDIDATES = [ROOT.parent / "shared" / "data" / "government_work_reports.jsonl",
              ROOT.parents[1] / "shared" / "data" / "government_work_reports.jsonl"]
FOOTER = "本作品是中华人民共和国的"


def load_reports(path: Path) -> list[tuple[str, str]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return sorted((str(r["year"]), r["content"].split(FOOTER)[0]) for r in rows if r.get("year"))


def corpus() -> list[tuple[dict, str]]:
    import yaml

    out = []
    for path in sorted((ROOT / "corpus").glob("*.md")):
        head, body = path.read_text(encoding="utf-8")[4:].split("\n---\n", 1)
        out.append((yaml.safe_load(head), body))
    return out


def top_bigram_per_window(text: str, window: int = 1000) -> int:
    """The most frequent content bigram's count in any half-overlapping 1,000-字 window."""
    from pipeline.check.substance.density import content_view

    content = content_view(text)
    best = 0
    for s in range(0, max(1, len(text) - window // 2), window // 2):
        piece = content[s : s + window]
        counts = Counter(map(add, piece, piece[1:]))
        best = max([best] + [n for w, n in counts.items() if " " not in w])
    return best


def timed(fn, repeat: int) -> tuple[float, float]:
    """(median wall seconds, median CPU seconds) of fn() over `repeat` runs."""
    wall, cpu = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return statistics.median(wall), statistics.median(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reports", nargs="?", type=Path)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    path = args.reports or next((p for p in CANDIDATES if p.exists()), None)
    if path is None or not path.exists():
        sys.exit("bench_substance: government_work_reports.jsonl not found; give its path")

    from pipeline.check import CheckConfig, lint
    from pipeline.check.substance import RULE_IDS, SubstanceContext

    reports = load_reports(path)
    speeches = corpus()
    seed01 = next(body for meta, body in speeches if meta["id"] == "seed-01")
    seed02 = next(body for meta, body in speeches if meta["id"] == "seed-02")
    brief = SubstanceContext(occasion="实验中学学习经验交流会", speaker="实验中学毕业生",
                             audience="中学生（学弟学妹）和老师", points=["适应新环境", "学会学习"],
                             facts=["三年前"], examples=[seed02], style="speech", length=1500)
    only = CheckConfig(select=list(RULE_IDS), context=brief)
    without = CheckConfig(ignore=list(RULE_IDS), context=brief)
    lint(seed01, only)  # warm: regexes compiled, jieba loaded if a doubled word turns up
    sub_ms = timed(lambda: lint(seed01, only), args.repeat * 10)
    base_ms = timed(lambda: lint(seed01, without), args.repeat * 10)
    report_ctx = CheckConfig(select=list(RULE_IDS),
                             context=SubstanceContext(speaker="国务院总理", audience="各位代表", style="speech"))
    sub_52 = timed(lambda: [lint(t, report_ctx) for _, t in reports], args.repeat)
    all_52 = timed(lambda: [lint(t, CheckConfig(context=report_ctx.context)) for _, t in reports], 1)

    print(f"{'measure':<52}{'wall':>10}{'CPU':>10}{'target':>10}")
    print(f"{'substance rules, 1,500-字 speech (seed-01), ms':<52}{sub_ms[0] * 1e3:>10.1f}{sub_ms[1] * 1e3:>10.1f}{'< 50':>10}")
    print(f"{'other linter rules, same speech, ms':<52}{base_ms[0] * 1e3:>10.1f}{base_ms[1] * 1e3:>10.1f}{'':>10}")
    print(f"{'substance rules, 52 reports, s':<52}{sub_52[0]:>10.2f}{sub_52[1]:>10.2f}{'< 5':>10}")
    print(f"{'all rules, 52 reports (one run), s':<52}{all_52[0]:>10.2f}{all_52[1]:>10.2f}{'':>10}")

    by_rule: Counter[tuple[str, str]] = Counter()
    listed: list[str] = []
    for name, text, ctx in [(y, t, report_ctx.context) for y, t in reports] + [
        (meta["id"], body, SubstanceContext(speaker=meta["speaker"], audience=meta["audience"], style="speech"))
        for meta, body in speeches
    ]:
        for f in lint(text, CheckConfig(select=list(RULE_IDS), context=ctx)):
            by_rule[(f.rule, f.severity.value)] += 1
            if len(listed) < 40:
                listed.append(f"  {name:<8}{f.rule} {f.severity.value:<8}{f.excerpt}")
    print(f"\nfindings of the substance rules over {len(reports)} reports + {len(speeches)} corpus speeches")
    print(f"{'rule':<8}{'severity':<10}{'count':>6}")
    for (rule_id, sev), n in sorted(by_rule.items()):
        print(f"{rule_id:<8}{sev:<10}{n:>6}")
    print("first findings:")
    print("\n".join(listed))

    tops = sorted((top_bigram_per_window(t), y) for y, t in reports)
    speech_tops = sorted((top_bigram_per_window(b), m["id"]) for m, b in speeches)
    print("\nmost frequent content bigram per 1,000-字 window (R104's bound is 45):")
    print(f"  reports: median {statistics.median(n for n, _ in tops)}, max {tops[-1][0]} ({tops[-1][1]})")
    print(f"  corpus speeches: median {statistics.median(n for n, _ in speech_tops)}, max {speech_tops[-1][0]} ({speech_tops[-1][1]})")
    zi = sum(len(re.sub(r"\s", "", t)) for _, t in reports)
    print(f"\nreports: {len(reports)}, {zi:,} 字")


if __name__ == "__main__":
    main()
