"""Experiment: which prompt layout makes the embedded 270M base model write on-topic sentences
from retrieved material (not part of the pipeline; kept to reproduce the choice).

    python evals/experiments/grounded_layouts.py [--seeds 3] [--layouts A,B,C]

For a few (occasion, speaker, point) triples, retrieve requirement/measure sentences for the
point from the material bank, render each layout, draft one paragraph per seed, and report per
layout: share of sentences that are grounded (≥ 60% of their bigrams in the material or the
brief), on the point (share a bigram of the point's core), free of national scope words and
figures; and the 字 per call.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from pipeline.material import open_library  # noqa: E402
from pipeline.material.index import bigram_terms  # noqa: E402
from pipeline.model.backends.local import LocalBackend  # noqa: E402
from pipeline.model.types import ChatRequest, Message  # noqa: E402
from pipeline.text.hanzi import count_zi, split_sentences  # noqa: E402

CASES = [
    ("全县安全生产工作会议", "县长", "压实安全生产责任"),
    ("全县安全生产工作会议", "县长", "深入开展隐患排查整治"),
    ("全镇乡村振兴工作推进会", "镇党委书记", "改善农村人居环境"),
    ("党风廉政建设工作会议", "局党组书记", "加强作风建设"),
    ("招商引资项目推介会", "副市长", "优化营商环境"),
]
NATIONAL = re.compile(r"全国|国务院|我国|党中央|各省|中央")
FIGURE = re.compile(r"\d|百分之|[一二三四五六七八九十百千]+(万|亿)")


def material(lib, point: str, occasion: str, k: int = 8) -> list[str]:
    hits = lib.search(point, kind="sentence", n=k * 4, weights={occasion: 0.3},
                      where=lambda u: u.function in ("要求/部署", "措施", "意义/认识")
                      and not u.figures and not NATIONAL.search(u.text) and u.zishu <= 70)
    return [h.unit.text for h in hits[:k]]


def layout(name: str, occasion: str, speaker: str, point: str, mat: list[str]) -> tuple[str, str]:
    lines = "\n".join(mat)
    head = f"下面是{speaker}在{occasion}上的讲话中的一部分，主题是“{point}”："
    if name == "A":  # material as a plain block, then the speech frame, lead = point
        return lines, f"{head}\n{point}，"
    if name == "B":  # labelled material list
        return "关于“" + point + "”的有关表述：\n" + "\n".join(f"{i}. {m}" for i, m in enumerate(mat, 1)), f"{head}\n{point}，"
    if name == "C":  # material as the earlier part of the same speech (the model continues it)
        return "", f"{head}\n" + "".join(mat[:4]) + f"\n{point}，"
    if name == "D":  # material block, lead = a doer opener
        return lines, f"{head}\n各乡镇、各部门要"
    raise ValueError(name)


def judge(text: str, mat: list[str], point: str, occasion: str) -> dict[str, float]:
    pool = set(bigram_terms("".join(mat) + point + occasion))
    core = set(bigram_terms(point))
    sents = [s for s in split_sentences(text) if count_zi(s) >= 8]
    if not sents:
        return {"n": 0}
    g = o = sc = fi = 0
    for s in sents:
        b = set(bigram_terms(s))
        g += bool(b) and len(b & pool) / len(b) >= 0.6
        o += bool(b & core)
        sc += not NATIONAL.search(s)
        fi += not FIGURE.search(s)
    n = len(sents)
    return {"n": n, "grounded": g / n, "on_point": o / n, "scope_ok": sc / n, "no_figures": fi / n}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--layouts", default="A,B,C,D")
    ap.add_argument("--show", action="store_true")
    args = ap.parse_args()
    lib = open_library()
    be = LocalBackend()
    results: dict[str, list[dict[str, float]]] = {}
    for name in args.layouts.split(","):
        for occ, spk, point in CASES:
            mat = material(lib, point, occ)
            user, prefill = layout(name, occ, spk, point, mat)
            msgs = tuple(m for m in (Message("user", user), Message("assistant", prefill)) if m.content)
            for seed in range(args.seeds):
                t = time.perf_counter()
                r = be.complete(ChatRequest(messages=msgs, max_tokens=140, temperature=0.8, top_p=0.9,
                                            repeat_penalty=1.3, stop=("\n", "谢谢"), seed=seed, min_tokens=16))
                text = prefill.rsplit("\n", 1)[-1] + r.text
                j = judge(text, mat, point, occ) | {"zi": count_zi(r.text), "s": time.perf_counter() - t}
                results.setdefault(name, []).append(j)
                if args.show:
                    print(f"[{name}] {point} #{seed}: {text}")
    print("layout  grounded  on_point  scope_ok  no_figures  字/call  s/call")
    for name, rows in results.items():
        ok = [r for r in rows if r.get("n")]
        def m(k, ok=ok):
            return statistics.mean(r[k] for r in ok) if ok else 0.0
        print(f"{name:6}  {m('grounded'):.2f}      {m('on_point'):.2f}      {m('scope_ok'):.2f}      "
              f"{m('no_figures'):.2f}        {statistics.mean(r['zi'] for r in rows):.0f}     "
              f"{statistics.mean(r['s'] for r in rows):.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
