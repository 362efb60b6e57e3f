"""Grounded drafting on the embedded model over briefs of genres the adapt suite lacks.

    python evals/experiments/grounded_briefs.py [--length 1000] [--only 1,3] [-o /tmp/grounded]
    python evals/experiments/grounded_briefs.py --suite --length 1200   # + the adapt suite's 10 briefs

Writes each speech as .md (with its 素材来源 notes) and .json, and prints per brief: 字数,
all checks passed, paragraphs standing on material, fallback paragraphs, rejected sentences,
the most frequent content word (jieba, ≥ 2 字) and its count, and wall time.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

BRIEFS = [
    {"occasion": "全县安全生产工作会议", "speaker": "县长", "audience": "各乡镇、县直各部门负责同志",
     "points": ["压实安全生产责任", "深入开展隐患排查整治"]},
    {"occasion": "全市优秀教师表彰大会", "speaker": "市教育局局长", "audience": "全市教师代表",
     "points": ["弘扬高尚师德", "提升育人本领"]},
    {"occasion": "新员工入职培训开班仪式", "speaker": "公司总经理", "audience": "全体新员工",
     "points": ["尽快融入团队", "练就过硬本领"]},
    {"occasion": "全县企业家座谈会", "speaker": "县委书记", "audience": "各位企业家朋友",
     "points": ["优化营商环境", "支持民营企业发展"]},
    {"occasion": "社区志愿服务活动启动仪式", "speaker": "街道党工委书记", "audience": "社区志愿者和居民朋友们",
     "points": ["弘扬志愿服务精神", "办好民生实事"]},
    {"occasion": "全市食品安全工作会议", "speaker": "副市长", "audience": "各区县和市直有关部门负责同志",
     "points": ["压实食品安全责任", "加强食品安全监管"]},
]
_STOP = set("我们 同志 工作 要求 各位 大家 一个 进一步 坚持 加强 推进 全面 不断".split())


def suite_briefs() -> list[dict]:
    import yaml

    suite = yaml.safe_load((Path(__file__).resolve().parents[2] / "evals" / "suites" / "adapt.yaml").read_text("utf-8"))
    keys = ("occasion", "speaker", "audience", "points", "facts")
    return [{k: c["inputs"][k] for k in keys if k in c["inputs"]} for c in suite["cases"]]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--length", type=int, default=1000)
    ap.add_argument("--only", default="")
    ap.add_argument("-o", "--out", type=Path, default=Path("/tmp/grounded"))
    ap.add_argument("--suite", action="store_true", help="also the 10 briefs of evals/suites/adapt.yaml (first)")
    args = ap.parse_args()
    briefs = (suite_briefs() if args.suite else []) + BRIEFS
    import jieba

    from pipeline.model.backends.local import LocalBackend
    from pipeline.model.client import Client
    from pipeline.render.speech import render_speech_result
    from pipeline.tasks import TaskContext, run_task

    args.out.mkdir(parents=True, exist_ok=True)
    backend = LocalBackend()
    picks = [int(i) for i in args.only.split(",") if i] or list(range(len(briefs)))
    for i in picks:
        brief = briefs[i]
        client = Client(backend, command="grounded-briefs")
        t = time.perf_counter()
        result = run_task("adapt", {**brief, "length": args.length}, TaskContext(client=client))
        wall = time.perf_counter() - t
        (args.out / f"{i}.md").write_text(str(render_speech_result(result, "md")), encoding="utf-8")
        (args.out / f"{i}.json").write_text(json.dumps(result.to_dict() if hasattr(result, "to_dict") else {
            "output": result.output, "metadata": result.metadata, "checks": result.checks, "ok": result.ok,
        }, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
        words = Counter(w for w in jieba.lcut(result.text) if len(w) >= 2 and w not in _STOP and not w.isascii())
        top, n = words.most_common(1)[0] if words else ("-", 0)
        sources = result.metadata.get("sources", [])
        sourced = sum(1 for e in sources if e["sources"][0]["origin"] not in ("brief", "frames"))
        failed = [k for k, c in result.checks.items() if isinstance(c, dict) and not c.get("passed", True)]
        sub = result.checks.get("substance", {})
        failed += [f"{f['rule']}" for f in sub.get("findings", []) if f.get("severity") == "error"]
        print(f"{i} {brief['occasion']}: {result.output['zishu']}字 ok={result.ok} failed={failed} "
              f"from-material {sourced}/{len(sources)} fallback={result.metadata.get('fallback_paragraphs')} "
              f"rejected={result.checks.get('cleaning', {}).get('rejected')} top-word {top}×{n} {wall:.0f}s",
              flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
