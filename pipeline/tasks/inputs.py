"""The typed input of every task: what a command line, a batch line, an eval case or a web form
gives a task. One model per task; the CLI, batch, evals and the web page build it and call the
task's `run(inp, ctx)`.

Field names are the CLI option names (`--strict-facts` is `strict_facts`), so that a batch line
or an eval case is the same thing as a command line. The models check the shape of the input
(names and types); the meaning (a brief's limits, a known method or style) is checked by the
task, with the same one-line errors whatever the caller. Unknown keys are refused by name
(`unknown_keys_message`): a typo ("lenght") must not run quietly with the default.

Importing this module is cheap (pydantic only): a web page can show the forms and the CLI can
check a batch file without loading any task.
"""

from __future__ import annotations

import difflib
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from pipeline.errors import InputError

__all__ = [
    "INPUTS",
    "AdaptInput",
    "CheckInput",
    "RestyleInput",
    "SummarizeInput",
    "TaskInput",
    "TextInput",
    "parse_input",
    "unknown_keys_message",
]


class TaskInput(BaseModel):
    """Base of the task inputs: unknown keys refused, plain JSON in and out."""

    model_config = ConfigDict(extra="forbid")

    def options(self) -> dict[str, Any]:
        """The fields that were given (None left out), as plain data."""
        return self.model_dump(mode="json", exclude_none=True)


def _listify(value: Any) -> Any:
    # YAML and JSON users write `points: 压实责任` for a single point.
    return [value] if isinstance(value, str) else value


class AdaptInput(TaskInput):
    """A brief for a new speech, and how to write it (`speechsmith adapt`)."""

    occasion: str | None = Field(None, description="场合: the meeting or event, e.g. 全县安全生产工作会议.")
    speaker: str | None = Field(None, description="讲话人, e.g. 县长.")
    audience: str | None = Field(
        None, description="听众, e.g. 各乡镇、县直各部门负责同志; decides the 称呼 (同志们： / 尊敬的各位领导、各位来宾：).")
    points: list[str] | None = Field(
        None, description="The points of the speech, in order: one numbered section each (1 to 12).")
    length: int | None = Field(None, description="Target length in 字 (100 to 20000; default 1500).")
    tone: str | None = Field(None, description="语气, e.g. 严肃有力 / 热情洋溢.")
    date: str | None = Field(None, description="Date of the speech, e.g. 2025年3月1日.")
    place: str | None = Field(None, description="Place, e.g. 县政府三楼会议室.")
    facts: list[str] | None = Field(
        None, description="The only figures, dates and names the speech may state, e.g. [2025年, 较大事故3起].")
    genre: str | None = Field(None, description="体裁, e.g. 动员讲话 / 欢迎致辞; helps choose the corpus examples.")
    salutation: str | None = Field(None, description="称呼 to use instead of the one derived from the audience.")
    brief: str | None = Field(
        None, description="Path of a YAML or JSON brief with the fields above; the fields given here override it.")
    strategy: str | None = Field(
        None, description="one-call (the whole speech as JSON in one call, for instruction models) or plan-draft "
        "(the pipeline plans, the model drafts part by part, for the local base model). Default: by backend.")
    strict_facts: bool = Field(
        False, description="Replace figures, dates and names the brief does not give with XX.")
    examples: int | list[str] | str | None = Field(
        None, description="How many corpus speeches to show the model as examples (0 = none), or which: a list "
        "of ids or a comma-separated string. Default: chosen by the brief.")
    example_tokens: int | None = Field(None, description="Token budget for the examples. Default: by strategy and model.")
    seed: int = Field(0, description="Sampling seed: the same seed gives the same draft on the local model.")
    material: bool = Field(
        True, description="Draft from the material bank (素材库: your corpus and the 52 government work reports): "
        "on-topic sentences retrieved for each point stand before each paragraph (plan-draft) or in the prompt "
        "(one-call); metadata.sources names them per paragraph.")

    @field_validator("points", "facts", mode="before")
    @classmethod
    def _one_is_a_list(cls, value: Any) -> Any:
        return _listify(value)


class TextInput(TaskInput):
    """An input that is a text: given inline or as a file."""

    text: str | None = Field(None, description="The text itself (plain text, Markdown allowed). Give this or `file`.")
    file: str | None = Field(
        None, description="Path of a .txt, .md, .docx or .html file to read, or '-' for stdin. Give this or `text`.")


class SummarizeInput(TextInput):
    """A long speech or report to summarize (`speechsmith summarize`)."""

    length: str | None = Field(None, description="short (3 points), medium (6, the default) or long (10).")
    method: str | None = Field(
        None, description="auto (the default), extractive (no model), llm (the model reads the text, map-reduce "
        "when it is long) or hybrid (the model only shortens the sentences the extractive ranking chose).")
    title: str | None = Field(None, description="The text's title: shown to the model and used as the heading.")


class RestyleInput(TextInput):
    """A speech to rewrite in another style, length or register (`speechsmith restyle`)."""

    style: str | None = Field(
        None, description="A style name (see `speechsmith restyle --list-styles`) or a style file path. Default: plain.")
    title: str | None = Field(None, description="The source's title, when its first line is not one.")
    length: int | None = Field(None, description="Target length in 字 (50 to 100000). Default: the style's own.")
    speaker: str | None = Field(None, description="讲话人, for styles that name one (news, minutes).")
    date: str | None = Field(None, description="Date, for styles that state one.")
    occasion: str | None = Field(None, description="场合, for styles that state one.")
    unit: str | None = Field(None, description="The organising unit, for styles that state one.")
    audience: str | None = Field(None, description="Who the new text addresses; decides the 称呼.")
    strategy: str | None = Field(
        None, description="sectioned (sentence by sentence, for the local model) or one-call. Default: by backend.")
    model_sentences: int | None = Field(
        None, ge=0, description="At most this many sentences rewritten by the model (the rest: the style's edits).")


class CheckInput(TextInput):
    """A speech to lint (`speechsmith check`); no model is needed."""

    source: str | None = Field(
        None, description="Text the speech must not add figures or names to (F rules), or the path of a file with it.")
    source_file: str | None = Field(None, description="Path of a file with the source text (F rules).")
    select: list[str] | str | None = Field(
        None, description="Only these rule ids or prefixes (P, N1, U103), a list or a comma-separated string.")
    ignore: list[str] | str | None = Field(None, description="Rule ids or prefixes to leave out, as `select`.")
    audience: str | None = Field(None, description="Who is addressed (S102 checks the 称呼 against it).")
    length: int | None = Field(None, description="Target length in 字 (L101).")
    minutes: float | None = Field(None, description="Target speaking time in minutes (L102).")
    tolerance: float | None = Field(None, description="Allowed length deviation, between 0 and 1 (default 0.15).")
    max_sentence: int | None = Field(None, description="字 per sentence above which R103 warns (default 120).")
    fix: bool = Field(False, description="Apply the safe fixes; the output's fixed_text holds the result.")
    # what the text may say, for the substance rules (G V D S105 L103): pipeline.check.substance
    brief: str | dict[str, Any] | None = Field(
        None, description="A brief (YAML/JSON file path, or its fields): facts, points, speaker, occasion bound the G rules.")
    facts: list[str] | str | None = Field(None, description="Facts the text may state; others are invented (G).")
    points: list[str] | str | None = Field(None, description="What the text is about (the brief's points).")
    speaker: str | None = Field(None, description="Who speaks, e.g. 县长 (V rules).")
    occasion: str | None = Field(None, description="The occasion; a news release or minutes must name it (D102).")
    style: str | None = Field(None, description="speech, plain, oral, remarks, news, minutes or summary (L103's range).")
    examples: list[str] | str | None = Field(
        None, description="Example texts (or their paths) the model was shown: their topics are drift (D101).")


INPUTS: dict[str, type[TaskInput]] = {
    "adapt": AdaptInput,
    "summarize": SummarizeInput,
    "restyle": RestyleInput,
    "check": CheckInput,
}


def unknown_keys_message(task: str, inputs: dict[str, Any], *, extra: frozenset[str] = frozenset()) -> str | None:
    """None when every key of `inputs` is a field of the task's input, else a message naming the strays."""
    accepted = frozenset(INPUTS[task].model_fields) | extra
    unknown = [k for k in inputs if k not in accepted]
    if not unknown:
        return None
    named = []
    for key in unknown:
        close = difflib.get_close_matches(key.replace("-", "_"), sorted(accepted), n=1, cutoff=0.6)
        named.append(f'"{key}"' + (f' (did you mean "{close[0]}"?)' if close else ""))
    noun = "key" if len(unknown) == 1 else "keys"
    return f"{task} does not take {noun} {', '.join(named)}; it takes: {', '.join(sorted(accepted))}"


def parse_input(task: str, inputs: dict[str, Any] | TaskInput) -> TaskInput:
    """The task's input model from plain data; one InputError line for an unknown key or a bad value."""
    model = INPUTS[task]
    if isinstance(inputs, model):
        return inputs
    if isinstance(inputs, TaskInput):
        inputs = inputs.options()
    if (stray := unknown_keys_message(task, dict(inputs))) is not None:
        raise InputError(stray)
    try:
        return model.model_validate(dict(inputs))
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "(input)"
        raise InputError(f"{task}: field {field}: {err['msg'].removeprefix('Value error, ')}") from None
