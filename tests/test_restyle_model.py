"""restyle on the real embedded model (Gemma 3 270M): every built-in style, short outputs.

Budget: the shortest corpus speech, at most two model passages per style and 64 tokens per call
(passages too long for that are light-edited only), so the whole file is a dozen short generations.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.speech import Speech
from pipeline.tasks import TaskContext, run_task

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def short_speech() -> str:
    from pipeline.corpus.store import load_corpus

    record = min(load_corpus(ROOT / "corpus"), key=lambda r: r.zishu)
    return f"{record.title}\n\n{record.text}"


@pytest.mark.parametrize(("style", "length"), [
    ("plain", 300), ("oral", 300), ("news", 250), ("minutes", 250), ("remarks", None),
])
def test_built_in_style_on_the_local_model(local_client, short_speech: str, style: str, length: int | None) -> None:
    calls_before = local_client.usage.calls
    ctx = TaskContext(client=local_client, extra={"model_passages": 2, "max_tokens_per_call": 64})
    result = run_task("restyle", {"text": short_speech, "style": style, "length": length}, ctx)

    speech = Speech.model_validate(result.output["speech"])  # schema-valid
    assert speech.zishu > 0 and result.text.strip()
    requested = length or 660  # remarks: a 3-minute 表态发言 at 220 字/分钟
    assert result.output["length"]["target"] == requested
    assert 0.8 <= speech.zishu / requested <= 1.2, result.output["length"]
    facts = result.output["facts"]
    assert {"kept", "dropped", "added", "caught", "recall"} <= set(facts)
    assert facts["added"] == []  # the gates let no invented fact through
    assert local_client.usage.calls > calls_before  # the model really ran
    statuses = {u["status"] for u in result.metadata["units"]}
    assert statuses & {"model", "fallback:length", "fallback:drift", "fallback:invented-fact",
                       "fallback:dropped-fact", "fallback:repetition", "fallback:not-chinese",
                       "fallback:empty", "fallback:copied-example", "fallback:lost-enumerator"}
