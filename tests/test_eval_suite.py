"""Eval suites: loading, defaults, and errors that name the file, the case and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.errors import InputError
from pipeline.evals.suite import SuiteError, load_suite, load_suites, parse_suite

GOOD = """
name: demo
task: summarize
prompt_version: "1"
backend: {backend: local, params: {seed: 3}}
defaults:
  inputs: {method: hybrid, length: short}
  repeat: 2
  assertions:
    - {type: schema_valid}
    - {type: length, max: 400}
    - {type: contains, value: 安全}
cases:
  - id: one
    inputs: {text: 安全生产是头等大事。}
  - id: two
    repeat: 1
    inputs: {file: data/report.txt, method: extractive}
    assertions:
      - {type: length, max: 900, weight: 2}
      - {type: rouge, reference: 安全, threshold: 0.1}
"""


def write(tmp_path: Path, text: str, name: str = "suite.yaml") -> Path:
    (tmp_path / "data").mkdir(exist_ok=True)
    (tmp_path / "data" / "report.txt").write_text("报告正文。", encoding="utf-8")
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error_of(tmp_path: Path, text: str) -> str:
    path = write(tmp_path, text)
    with pytest.raises(SuiteError) as info:
        load_suite(path)
    assert isinstance(info.value, InputError) and info.value.exit_code == 2
    return str(info.value)


def test_good_suite_merges_defaults_and_case_overrides(tmp_path: Path) -> None:
    suite = load_suite(write(tmp_path, GOOD))
    one, two = suite.cases
    assert suite.repeat(one) == 2 and suite.repeat(two) == 1
    assert suite.inputs(two) == {"method": "extractive", "length": "short", "file": "data/report.txt"}
    names = [a.key for a in suite.assertions(two)]
    assert names == ["schema_valid", "contains", "length", "rouge"]  # the case's length replaces the default
    assert [a.max for a in suite.assertions(two) if a.type == "length"] == [900]
    assert suite.resolve("data/report.txt") == (tmp_path / "data" / "report.txt").resolve()
    assert suite.backend.params == {"seed": 3}


def test_error_names_file_case_and_field(tmp_path: Path) -> None:
    msg = error_of(tmp_path, GOOD.replace("{type: length, max: 900, weight: 2}", "{type: length, mx: 900}"))
    assert "suite.yaml" in msg and "case 'two'" in msg and "assertions[0].mx" in msg


def test_unknown_assertion_type_is_named(tmp_path: Path) -> None:
    msg = error_of(tmp_path, GOOD.replace("{type: rouge,", "{type: rogue,"))
    assert "case 'two'" in msg and "assertions[1]" in msg and "rogue" in msg


def test_bad_value_in_defaults(tmp_path: Path) -> None:
    msg = error_of(tmp_path, GOOD.replace("repeat: 2", "repeat: zero"))
    assert "field defaults.repeat" in msg


def test_length_needs_a_bound_and_regex_must_compile(tmp_path: Path) -> None:
    assert "give min, max or target" in error_of(tmp_path, GOOD.replace("{type: length, max: 400}", "{type: length}"))
    msg = error_of(tmp_path, GOOD.replace("{type: contains, value: 安全}", "{type: regex, pattern: '[未闭合'}"))
    assert "invalid regular expression" in msg and "defaults.assertions[2].pattern" in msg


def test_duplicate_ids_unknown_task_and_bad_params(tmp_path: Path) -> None:
    assert "duplicate case id 'one'" in error_of(tmp_path, GOOD.replace("id: two", "id: one"))
    assert "field task" in error_of(tmp_path, GOOD.replace("task: summarize", "task: translate"))
    msg = error_of(tmp_path, GOOD.replace("params: {seed: 3}", "params: {tempreature: 0}"))
    assert "backend.params" in msg and "tempreature" in msg
    assert "field cases" in error_of(tmp_path, GOOD.split("cases:")[0] + "cases: []\n")


def test_missing_input_file_is_named(tmp_path: Path) -> None:
    msg = error_of(tmp_path, GOOD.replace("data/report.txt", "data/nope.txt"))
    assert "case 'two'" in msg and "inputs.file" in msg and "nope.txt" in msg


def test_malformed_yaml_reports_the_line(tmp_path: Path) -> None:
    msg = error_of(tmp_path, "name: x\ntask: adapt\ncases:\n  - id: [unclosed\n")
    assert "suite.yaml line" in msg and "invalid YAML" in msg
    assert "expected a mapping" in error_of(tmp_path, "- just\n- a list\n")


def test_load_suites_from_folder_rejects_duplicate_names(tmp_path: Path) -> None:
    write(tmp_path, GOOD, "a.yaml")
    write(tmp_path, GOOD, "b.yaml")
    with pytest.raises(SuiteError, match="also used by"):
        load_suites([tmp_path])
    with pytest.raises(SuiteError, match="no suite files"):
        load_suites([tmp_path / "data"])
    suite = parse_suite(GOOD.replace("data/report.txt", "anything.txt"))  # no file: paths unchecked
    assert suite.name == "demo"


def test_unknown_case_input_key_names_case_and_suggests(tmp_path) -> None:
    import pytest as _pytest

    from pipeline.evals.suite import SuiteError, parse_suite

    text = (
        "name: s\ntask: summarize\ncases:\n"
        "  - id: c1\n    inputs: {text: 同志们，今天开会。, lenght: short}\n"
    )
    with _pytest.raises(SuiteError, match=r"case 'c1', field inputs: .*\"lenght\" \(did you mean \"length\"\?\)"):
        parse_suite(text)
