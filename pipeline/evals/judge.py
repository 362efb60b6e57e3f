"""Model-graded rubric: the judge returns a number, the eval applies the threshold.

The judge prompt is data (prompts/eval/judge/): a completion-style prompt ending in "分数：", so
that even a small base model answers with a number; the first integer of the reply is the score.
Calls go through the suite's judge cassettes, so they are recorded and replayed like every other.
"""

from __future__ import annotations

import re

from pipeline.errors import ValidationFailed
from pipeline.model.client import Client
from pipeline.model.types import ChatRequest

_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def parse_score(reply: str) -> float:
    """The first number of the reply, clamped to 0..10; ValidationFailed when there is none."""
    match = _NUMBER.search(reply)
    if match is None:
        raise ValidationFailed(f"the judge gave no score: {reply.strip()[:40]!r}", raw=reply)
    return max(0.0, min(10.0, float(match.group(0))))


def judge_score(client: Client, rubric: str, text: str, *, max_tokens: int = 8) -> float:
    """The judge's 0–10 score of `text` against `rubric`."""
    from pipeline.paths import PROJECT_ROOT
    from pipeline.prompts import load_prompt

    # The shipped judge prompt, whatever --prompts points the tasks to.
    prompt = load_prompt("eval/judge", PROJECT_ROOT / "prompts")
    request = ChatRequest(
        messages=prompt.render(rubric=rubric, text=text),
        max_tokens=max_tokens,
        temperature=0.0,  # no stop sequence: a base model often starts with a line break
    )
    return parse_score(client.chat(request, prompt=prompt.ref, step="judge").text)
