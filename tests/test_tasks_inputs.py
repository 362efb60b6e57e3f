"""The task registry and its typed inputs (pipeline.tasks, pipeline.tasks.inputs): what the CLI,
batch lines, eval cases and the web page build before they call a task."""

from __future__ import annotations

import json

import pytest

from pipeline.errors import InputError
from pipeline.tasks import TASKS, TaskContext, get_task, run_task
from pipeline.tasks.inputs import INPUTS, AdaptInput, CheckInput, parse_input

SPEECH = "同志们：\n今天召开全县安全生产工作会议。\n各乡镇要压实安全生产责任，深入开展隐患排查整治。\n谢谢大家！"


def test_every_task_is_registered_with_its_input_model_and_hooks() -> None:
    for name in TASKS:
        spec = get_task(name)
        assert spec.name == name and spec.input is INPUTS[name]
    assert [n for n in TASKS if get_task(n).has_one_call] == ["adapt", "summarize", "restyle"]
    with pytest.raises(InputError, match="unknown task 'translate'"):
        get_task("translate")


def test_every_field_is_documented_and_the_schema_refuses_unknown_keys() -> None:
    # The web page builds its form and /api/<task> body from these schemas.
    for name, model in INPUTS.items():
        schema = model.model_json_schema()
        assert schema["additionalProperties"] is False, name
        undocumented = [f for f, p in schema["properties"].items() if len(p.get("description", "")) < 10]
        assert not undocumented, (name, undocumented)


def test_inputs_round_trip_through_json() -> None:
    inp = AdaptInput(occasion="全县安全生产工作会议", points="压实安全生产责任", facts=["2025年"], seed=3)
    assert inp.points == ["压实安全生产责任"]  # one point given as a string, as YAML users write it
    again = AdaptInput.model_validate(json.loads(inp.model_dump_json()))
    assert again == inp and again.options() == {
        "occasion": "全县安全生产工作会议", "points": ["压实安全生产责任"], "facts": ["2025年"],
        "strict_facts": False, "seed": 3, "material": True,
    }


def test_bad_keys_and_values_are_one_line_errors_naming_the_field() -> None:
    with pytest.raises(InputError, match=r'^check does not take key "selct" \(did you mean "select"\?\); it takes: '):
        parse_input("check", {"text": SPEECH, "selct": "P"})
    with pytest.raises(InputError) as bad:
        parse_input("check", {"text": SPEECH, "max_sentence": "long"})
    assert str(bad.value).startswith("check: field max_sentence: ") and "\n" not in str(bad.value)


def test_a_dict_and_a_model_run_the_same() -> None:
    # A batch line (plain data) and the CLI (a model) reach the same run.
    from_line = run_task("check", {"text": SPEECH, "select": "P,N"}, TaskContext())
    from_model = get_task("check").run(CheckInput(text=SPEECH, select=["P", "N"]), TaskContext())
    assert from_line.model_dump() == from_model.model_dump()
