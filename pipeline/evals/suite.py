"""Eval suites: YAML files validated with pydantic; errors name the file, the case and the field.

    name: adapt-basic            # also the cassette folder name
    task: adapt                  # adapt | summarize | restyle | check
    prompt_version: "3"          # optional: warn when prompts/<task>/meta.yaml has moved on
    backend: {backend: local, params: {seed: 0}}
    defaults:
      inputs: {length: 300}
      repeat: 1
      assertions:
        - {type: schema_valid}
        - {type: length, target: 300, tolerance: 0.3}
    cases:
      - id: county-safety        # stable: results, cassettes and baselines align on it
        inputs: {occasion: 全县安全生产工作会议, speaker: 县长, points: [压实责任, 隐患排查]}
        assertions:
          - {type: points_covered, weight: 2}

A case's assertions are the defaults plus its own; one with the same `name` (default: its
type) replaces the default. Relative paths in inputs (`file`, `brief`) and `reference_file`
are resolved against the suite file's folder.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pipeline.errors import InputError, yaml_error_where
from pipeline.tasks import unknown_keys_message

_ID_RE = r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$"
_PATH_INPUTS = ("file", "brief")
_EVAL_INPUTS = frozenset({"corpus_id"})  # resolved by the runner into the task's "text"
_REQUEST_PARAMS = ("temperature", "top_p", "seed", "max_tokens", "repeat_penalty", "stop")


class SuiteError(InputError):
    """A suite file that cannot be used (exit code 2)."""


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = None  # defaults to the type; a case's assertion replaces a default of the same name
    weight: float = Field(1.0, ge=0)
    field: str | None = None  # which text to test: "text" (default), "output.title", …

    @property
    def key(self) -> str:
        return self.name or self.type  # type: ignore[attr-defined]


class SchemaValid(_Spec):
    type: Literal["schema_valid"]
    schema_ref: str | None = Field(None, alias="schema")  # "module:Class"; default per task


class Length(_Spec):
    type: Literal["length"]
    min: int | None = Field(None, ge=0)
    max: int | None = Field(None, ge=0)
    target: int | None = Field(None, gt=0)
    tolerance: float = Field(0.15, ge=0, le=1)

    @model_validator(mode="after")
    def _bounds(self) -> Length:
        if self.min is None and self.max is None and self.target is None:
            raise ValueError("give min, max or target")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min is above max")
        return self


class Contains(_Spec):
    type: Literal["contains", "not_contains"]
    value: str | list[str]
    any: bool = False  # contains: one of the values suffices


class Regex(_Spec):
    type: Literal["regex", "not_regex"]
    pattern: str

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, v: str) -> str:
        try:
            re.compile(v)
        except re.error as exc:
            raise ValueError(f"invalid regular expression: {exc}") from None
        return v


class PointsCovered(_Spec):
    type: Literal["points_covered"]
    points: list[str] | None = None  # default: the case's inputs.points
    threshold: float = Field(0.6, ge=0, le=1)  # share of a point's character bigrams found


class CheckClean(_Spec):
    type: Literal["check_clean"]
    rules: list[str] | None = None  # default: every rule
    severity: Literal["error", "warning", "info"] = "error"  # this level and above count
    relative: bool = False  # only findings beyond the input's own (restyle keeps a source's xx)


class Substance(_Spec):
    type: Literal["substance"]
    rules: list[str] | None = None  # rule ids or prefixes; default: every substance rule
    ignore: list[str] = Field(default_factory=list)
    severity: Literal["error", "warning"] = "error"  # this level and above count


class TaskChecks(_Spec):
    type: Literal["task_checks"]
    checks: list[str] | None = None  # names in the result's checks; default: every check


class FactsPreserved(_Spec):
    type: Literal["facts_preserved"]
    threshold: float = Field(1.0, ge=0, le=1)  # share of the source's facts kept verbatim


class NoInventedFacts(_Spec):
    type: Literal["no_invented_facts"]
    max_added: int = Field(0, ge=0)


class Rouge(_Spec):
    type: Literal["rouge"]
    metric: Literal["rouge1", "rouge2", "rougeL"] = "rougeL"
    level: Literal["char", "word"] = "char"
    threshold: float = Field(0.2, ge=0, le=1)
    against: Literal["reference", "input"] = "reference"  # input: the text the task worked from
    reference: str | None = None
    reference_file: str | None = None


class CopyRate(_Spec):
    type: Literal["copy_rate"]
    source: Literal["examples", "input"] = "examples"
    max_lcs: int = Field(30, ge=1)  # longest common substring, in characters after normalization
    max_overlap: float = Field(0.3, ge=0, le=1)  # share of the output's n-grams found in the source
    n: int = Field(8, ge=2, le=50)


class NoPromptLeak(_Spec):
    type: Literal["no_prompt_leak"]
    max_lcs: int = Field(16, ge=4)  # longest run of a system prompt allowed in the output
    prompts: list[str] | None = None  # prompt names; default: every prompt of the suite's task


class Latency(_Spec):
    type: Literal["latency"]
    max_seconds: float = Field(gt=0)


class Tokens(_Spec):
    type: Literal["tokens"]
    max_tokens: int = Field(gt=0)


class Cost(_Spec):
    type: Literal["cost"]
    max_cost: float = Field(ge=0)


class Rubric(_Spec):
    type: Literal["rubric"]
    rubric: str = Field(min_length=2)
    threshold: float = Field(0.6, ge=0, le=1)  # on the judge's score / 10
    max_chars: int = Field(1500, ge=100)  # of the judged text, to keep judge calls cheap


AssertionSpec = Annotated[
    SchemaValid | Length | Contains | Regex | PointsCovered | CheckClean | Substance | TaskChecks
    | FactsPreserved
    | NoInventedFacts | Rouge | CopyRate | NoPromptLeak | Latency | Tokens | Cost | Rubric,
    Field(discriminator="type"),
]


class BackendSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    backend: Literal["local", "openai"] | None = None
    model: str | None = None
    base_url: str | None = None
    context: int | None = Field(None, gt=0)
    threads: int | None = Field(None, gt=0)
    timeout: float | None = Field(None, gt=0)
    structured: Literal["auto", "json_schema", "json_object", "prompt"] | None = None
    limit: int | None = Field(None, gt=0)  # concurrent calls; local is always 1
    params: dict[str, Any] = Field(default_factory=dict)  # request overrides, part of the key

    @field_validator("params")
    @classmethod
    def _known(cls, v: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(v) - set(_REQUEST_PARAMS))
        if unknown:
            raise ValueError(f"unknown parameter(s) {', '.join(unknown)}; use {', '.join(_REQUEST_PARAMS)}")
        return v


class Defaults(BaseModel):
    model_config = ConfigDict(extra="forbid")

    inputs: dict[str, Any] = Field(default_factory=dict)
    repeat: int = Field(1, ge=1, le=20)
    assertions: list[AssertionSpec] = Field(default_factory=list)


class Case(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=_ID_RE)
    description: str = ""
    task: Literal["adapt", "summarize", "restyle", "check"] | None = None  # default: the suite's
    inputs: dict[str, Any] = Field(default_factory=dict)
    repeat: int | None = Field(None, ge=1, le=20)
    reference: str | None = None  # for rouge
    reference_file: str | None = None
    assertions: list[AssertionSpec] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)


class Suite(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=_ID_RE)
    task: Literal["adapt", "summarize", "restyle", "check"]
    description: str = ""
    prompt_version: str | None = None
    backend: BackendSpec = Field(default_factory=BackendSpec)
    judge: BackendSpec | None = None  # default: the suite's backend
    defaults: Defaults = Field(default_factory=Defaults)
    cases: list[Case] = Field(min_length=1)

    # filled by load_suite
    path: Path | None = Field(None, exclude=True)

    @model_validator(mode="after")
    def _unique_ids(self) -> Suite:
        seen: set[str] = set()
        for case in self.cases:
            if case.id in seen:
                raise ValueError(f"duplicate case id {case.id!r}")
            seen.add(case.id)
        return self

    @property
    def folder(self) -> Path:
        return self.path.parent if self.path else Path.cwd()

    def task_of(self, case: Case) -> str:
        return case.task or self.task

    def repeat(self, case: Case) -> int:
        return case.repeat or self.defaults.repeat

    def inputs(self, case: Case) -> dict[str, Any]:
        return {**self.defaults.inputs, **case.inputs}

    def assertions(self, case: Case) -> list[AssertionSpec]:
        own = {a.key for a in case.assertions}
        return [a for a in self.defaults.assertions if a.key not in own] + list(case.assertions)

    def resolve(self, value: str) -> Path:
        path = Path(value).expanduser()
        return path if path.is_absolute() else (self.folder / path).resolve()

    def reference(self, case: Case, spec: Rouge | None = None) -> str | None:
        for text, file in ((spec.reference, spec.reference_file) if spec else (None, None),
                           (case.reference, case.reference_file)):
            if text:
                return text
            if file:
                return self.resolve(file).read_text(encoding="utf-8")
        return None


def _where(raw: dict[str, Any], loc: tuple[Any, ...]) -> str:
    """Turn a pydantic location into 'case <id>, field a.b' (cases by id, not by index)."""
    parts = list(loc)
    prefix = ""
    if len(parts) >= 2 and parts[0] == "cases" and isinstance(parts[1], int):
        cases = raw.get("cases") or []
        idx = parts[1]
        case = cases[idx] if isinstance(cases, list) and idx < len(cases) else None
        cid = case.get("id") if isinstance(case, dict) else None
        prefix = f"case {cid!r}, " if cid else f"case #{idx + 1}, "
        parts = parts[2:]
    # a discriminated union puts the tag in the path: assertions.0.length.min -> assertions[0].min
    out: list[str] = []
    for i, p in enumerate(parts):
        if isinstance(p, int):
            out.append(f"[{p}]")
        elif i > 0 and isinstance(parts[i - 1], int) and parts[i - 2:i - 1] == ["assertions"] and i + 1 < len(parts):
            continue
        else:
            out.append(("." if out else "") + str(p))
    return f"{prefix}field {''.join(out) or '(root)'}"


def parse_suite(text: str, path: Path | str = "<suite>") -> Suite:
    path = Path(path)
    try:
        # libyaml's loader when present: a 1,000-case suite loads in a tenth of the time
        raw = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506
    except yaml.YAMLError as exc:
        where = yaml_error_where(exc)
        raise SuiteError(f"{path}{where}: invalid YAML") from None
    if not isinstance(raw, dict):
        raise SuiteError(f"{path}: expected a mapping with name, task and cases")
    try:
        suite = Suite.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        msg = err["msg"].removeprefix("Value error, ")
        raise SuiteError(f"{path}: {_where(raw, tuple(err['loc']))}: {msg}") from None
    suite.path = path.resolve() if path.name != "<suite>" else None
    _check_inputs(suite, path)
    _check_files(suite, path)
    return suite


def _check_inputs(suite: Suite, path: Path) -> None:
    # A mistyped option ("lenght") would silently run with the default and pass.
    for case in suite.cases:
        stray = unknown_keys_message(suite.task_of(case), suite.inputs(case), extra=_EVAL_INPUTS)
        if stray:
            raise SuiteError(f"{path}: case {case.id!r}, field inputs: {stray}")


def _check_files(suite: Suite, path: Path) -> None:
    if suite.path is None:
        return
    for case in suite.cases:
        inputs = suite.inputs(case)
        for name in _PATH_INPUTS:
            value = inputs.get(name)
            if isinstance(value, str) and not suite.resolve(value).is_file():
                raise SuiteError(f"{path}: case {case.id!r}, field inputs.{name}: no file {value}")
        refs = [("reference_file", case.reference_file)] + [
            (f"assertions.{a.key}.reference_file", a.reference_file)
            for a in suite.assertions(case) if isinstance(a, Rouge)
        ]
        for field, value in refs:
            if value and not suite.resolve(value).is_file():
                raise SuiteError(f"{path}: case {case.id!r}, field {field}: no file {value}")


def load_suite(path: str | Path) -> Suite:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SuiteError(f"{path}: no such suite file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SuiteError(f"{path}: cannot read ({exc})") from None
    return parse_suite(text, path)


def suite_files(paths: list[str | Path]) -> list[Path]:
    """Files named on the command line plus every *.yaml/*.yml under named folders, sorted."""
    files: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            files += sorted(x for x in p.rglob("*") if x.suffix in (".yaml", ".yml") and x.is_file())
        elif p.is_file():
            files.append(p)
        else:
            raise SuiteError(f"{p}: no such suite file or folder")
    if not files:
        raise SuiteError(f"no suite files (*.yaml) in {', '.join(str(p) for p in paths)}")
    return files


def load_suites(paths: list[str | Path]) -> list[Suite]:
    suites = [load_suite(f) for f in suite_files(paths)]
    names: dict[str, Path | None] = {}
    for s in suites:
        if s.name in names:
            raise SuiteError(f"{s.path}: field name: suite name {s.name!r} is also used by {names[s.name]}")
        names[s.name] = s.path
    return suites
