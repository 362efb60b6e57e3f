"""Offline prompt-regression evals: YAML suites, record/replay cassettes, baselines, a CI gate.

suite.py (load and validate suites) → runner.py (run cases through tasks with cassettes) →
assertions.py (score each case × sample) → results.py (results.jsonl, summary.json, repeat
statistics) → compare.py (baseline deltas) → report.py (terminal table, Markdown, JUnit, JSON).
"""

__all__: list[str] = []  # import the modules themselves (see above)
