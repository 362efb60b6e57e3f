"""The CI gate: the shipped eval suites, replayed from their cassettes, against the committed
baseline. Fails on a regression (exit 3) or a replay miss (exit 2: a prompt or input changed
without re-recording). Failed assertions that the baseline already records are not a failure.

Replay needs no model: the run happens in a subprocess that must never import llama_cpp.
To fix a failure after an intended prompt change, re-record and bless (README: speechsmith eval).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from pipeline.paths import PROJECT_ROOT

EVALS = PROJECT_ROOT / "evals"

_SCRIPT = """
import sys
from pipeline.cli import main
sys.argv = ["speechsmith", "eval", "run", sys.argv[1], "--baseline", sys.argv[2], "-o", sys.argv[3],
            "--quiet", "--report", "md"]
try:
    main()
    code = 0
except SystemExit as exc:
    code = int(exc.code or 0)
print("LLAMA_IMPORTED" if "llama_cpp" in sys.modules else "NO_LLAMA", file=sys.stderr)
sys.exit(code)
"""


def test_shipped_suites_replay_without_regression(tmp_path: Path) -> None:
    suites = sorted((EVALS / "suites").glob("*.yaml"))
    baselines = sorted((EVALS / "baselines").glob("*.jsonl"))
    assert suites, "no shipped suites in evals/suites/"
    assert {p.stem for p in baselines} >= {p.stem for p in suites}, "a suite has no blessed baseline"
    run = tmp_path / "run"
    proc = subprocess.run(
        [sys.executable, "-c", _SCRIPT, str(EVALS / "suites"), str(EVALS / "baselines"), str(run)],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600,
    )
    report = (run / "report.md").read_text(encoding="utf-8") if (run / "report.md").is_file() else ""
    assert "NO_LLAMA" in proc.stderr, f"replay imported llama_cpp:\n{proc.stderr[-2000:]}"
    misses = report.split("**Replay misses**", 1)[1] if "**Replay misses**" in report else ""
    assert proc.returncode != 2, (
        f"replay miss or bad suite (re-record and bless, README: speechsmith eval):\n"
        f"{proc.stderr[-1500:]}\n{misses[:3000]}"
    )
    assert proc.returncode != 3, f"regression against evals/baselines/:\n{report[-4000:]}"
    assert proc.returncode in (0, 1), proc.stderr[-3000:]
    summary = json.loads((run / "summary.json").read_text(encoding="utf-8"))
    assert summary["totals"]["misses"] == 0, summary["misses"]
    assert summary["baseline"]["counts"]["regression"] == 0
    assert summary["baseline"]["counts"]["missing"] == 0  # every baselined case still runs
    assert summary["totals"]["cache_hits"] > 0  # the model calls really came from cassettes
