"""Model-graded rubric: the judge returns a number, the eval applies the threshold.

The judge prompt is data (prompts/eval/judge/). Calls go through the suite's judge cassettes,
so they are recorded and replayed like every other call.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from pipeline.backends.base import ChatRequest
from pipeline.call import Client


class JudgeScore(BaseModel):
    score: int = Field(ge=0, le=10)


def judge_score(client: Client, rubric: str, text: str, *, max_tokens: int = 16) -> float:
    """The judge's 0–10 score of `text` against `rubric`."""
    from pipeline.paths import PROJECT_ROOT
    from pipeline.prompts import load_prompt

    # The shipped judge prompt, whatever --prompts points the tasks to.
    prompt = load_prompt("eval/judge", PROJECT_ROOT / "prompts")
    request = ChatRequest(
        messages=prompt.render(rubric=rubric, text=text),
        max_tokens=max_tokens,
        temperature=0.0,
        json_schema=JudgeScore.model_json_schema(),
        schema_name="JudgeScore",
    )
    return float(client.structured(request, JudgeScore, prompt=prompt.ref, step="judge").score)
