"""`speechsmith check` end to end (real files, real subprocess exit codes) and the check task."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.tasks import TaskContext, run_task

FIXTURES = Path(__file__).parent / "fixtures"
SPEECH7 = FIXTURES / "reports" / "speech_wenming.txt"  # seed 篇七: 一是, 二是, 四是 and (一) marks
REPORT = FIXTURES / "reports" / "gwr_2025.txt"
CLI = [sys.executable, "-m", "pipeline", "check"]


def run(*args: str, stdin: bytes | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], input=stdin, capture_output=True, timeout=120, cwd=cwd)


def out(p: subprocess.CompletedProcess) -> str:
    return p.stdout.decode("utf-8")


def err(p: subprocess.CompletedProcess) -> str:
    return p.stderr.decode("utf-8")


def test_table_and_exit_1_on_error_findings():
    p = run(str(SPEECH7))
    assert p.returncode == 1
    text = out(p)
    assert re.search(r"^rule\s+severity\s+¶\s+excerpt\s+message", text, re.M)
    assert re.search(r"^N101\s+error\s+29\s+四是加强监督检查", text, re.M)
    assert "三是 is missing" in text and "U101*" in text
    assert text.rstrip().splitlines()[-1].startswith("3 error(s)")


def test_json_output_and_warnings_only_exit_0():
    p = run(str(REPORT), "--format", "json")
    assert p.returncode == 0, err(p)
    data = json.loads(out(p))
    assert data["counts"]["error"] == 0 and data["zi"] > 15000
    assert {f["rule"] for f in data["findings"]} == {"R103"}
    assert all({"rule", "severity", "paragraph", "excerpt", "message", "fixable"} <= set(f) for f in data["findings"])


def test_stdin_with_select_and_targets():
    speech = SPEECH7.read_bytes()
    p = run("-", "--select", "L,S", "--length", "3000", "--minutes", "10", "--audience", "各位代表", stdin=speech)
    assert p.returncode == 0
    text = out(p)
    assert "L101" in text and "L102" in text and "S102" in text and "P101" not in text


def test_source_flags_invented_figures(tmp_path):
    source = tmp_path / "素材.txt"
    source.write_text("全市29个乡镇受灾，筹得捐款近1000万元。", encoding="utf-8")
    speech = tmp_path / "讲话.txt"
    speech.write_text("同志们：\n全市29个乡镇受灾，筹得捐款近1200万元，7月15日完成重建。\n谢谢大家！\n", encoding="utf-8")
    p = run(str(speech), "--source", str(source), "--select", "F", "--format", "json")
    assert p.returncode == 1
    found = [f["excerpt"] for f in json.loads(out(p))["findings"]]
    assert len(found) == 2 and "1200万元" in found[0] and "7月15日" in found[1]


def test_fix_rewrites_text_file_in_place(tmp_path):
    path = tmp_path / "讲话.txt"
    shutil.copy(SPEECH7, path)
    p = run(str(path), "--fix")
    assert p.returncode == 1  # placeholders and the numbering gap cannot be fixed
    fixed = path.read_text(encoding="utf-8")
    assert "(一)" not in fixed and "（一）创建文明单位" in fixed
    assert "U101" not in out(p) and "N101" in out(p)
    assert f"fixed text written to {path}" in err(p)


def test_fix_stdin_writes_text_to_stdout_and_report_to_stderr():
    p = run("-", "--fix", stdin="同志们：\n今天开会,研究工作。。我們要發展經濟。\n谢谢大家！\n".encode())
    assert p.returncode == 0
    assert out(p) == "同志们：\n今天开会，研究工作。我们要发展经济。\n谢谢大家！\n"
    assert "no problems found" in err(p)


def test_fix_to_output_file(tmp_path):
    target = tmp_path / "fixed.md"
    p = run(str(SPEECH7), "--fix", "-o", str(target), "--select", "U")
    assert p.returncode == 0
    assert "（六）深化工商文化建设" in target.read_text(encoding="utf-8")
    assert SPEECH7.read_text(encoding="utf-8").count("(六)") == 1  # the input is untouched


def test_docx_read_and_fix_keeps_formatting(tmp_path):
    import docx

    path = tmp_path / "讲话.docx"
    d = docx.Document()
    d.add_paragraph("同志们：")
    para = d.add_paragraph()
    para.add_run("一是加强领导。").bold = True
    para.add_run("我們要發展經濟,提高效益。")
    d.add_paragraph("三是狠抓落实。各级各部门要把责任扛在肩上，确保各项任务落地见效。")
    d.add_paragraph("三是狠抓落实。各级各部门要把责任扛在肩上，确保各项任务落地见效。")
    d.add_paragraph("谢谢大家！")
    d.save(path)

    p = run(str(path), "--format", "json")
    assert p.returncode == 1
    assert {f["rule"] for f in json.loads(out(p))["findings"]} == {"N101", "N102", "U101", "T101", "R101"}

    p = run(str(path), "--fix")
    assert p.returncode == 1  # the gap stays
    fixed = docx.Document(tmp_path / "讲话.fixed.docx")
    para = fixed.paragraphs[1]
    assert para.text == "一是加强领导。我们要发展经济，提高效益。"
    assert para.runs[0].bold is True and para.runs[0].text == "一是加强领导。"
    assert [p.text for p in fixed.paragraphs].count(fixed.paragraphs[2].text) == 1  # R101 removed
    assert len(fixed.paragraphs) == 4
    assert docx.Document(path).paragraphs[1].text.endswith("經濟,提高效益。")  # original kept


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["/no/such/file.txt"], None, "no such file"),
        (["-"], b"", "empty"),
        (["-"], b"\x00\x01\x02binary\x00\x00" * 50, "binary"),
        (["-", "--select", "Z9"], "同志们：".encode(), "unknown rule id or prefix: Z9"),
        (["-", "--tolerance", "5"], "同志们：".encode(), "tolerance must be between 0 and 1"),
        (["-", "--length", "0"], "同志们：".encode(), "length must be positive"),
        ([], None, "give a FILE"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args, stdin, message):
    p = run(*args, stdin=stdin)
    assert p.returncode == 2
    lines = err(p).strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in err(p)


def test_gbk_file(tmp_path):
    path = tmp_path / "gbk.txt"
    path.write_bytes("同志们：\n今天开会，研究xx工作。\n谢谢大家！\n".encode("gbk"))
    p = run(str(path), "--select", "P")
    assert p.returncode == 1 and "P101" in out(p)


def test_fix_html_needs_output(tmp_path):
    path = tmp_path / "讲话.html"
    path.write_text("<html><body><p>同志们：</p><p>今天开会,研究工作。</p></body></html>", encoding="utf-8")
    p = run(str(path), "--fix")
    assert p.returncode == 2 and "give -o" in err(p)


def test_rules_listing():
    p = run("--rules")
    assert p.returncode == 0
    ids = re.findall(r"^([A-Z]\d{3})\s", out(p), re.M)
    assert {"P101", "N101", "U101", "S101", "R101", "L101", "F101", "T101"} <= set(ids)


def test_task_for_evals_and_batch():
    text = SPEECH7.read_text(encoding="utf-8")
    result = run_task("check", {"text": text, "select": "N,P"}, TaskContext())
    assert result.task == "check" and result.ok is False
    assert result.checks["lint"] == {"passed": False, "errors": 3, "warnings": 0}
    assert [f["rule"] for f in result.output["findings"]] == ["P101", "P101", "N101"]
    assert "N101" in result.text and result.output["zi"] == 4951

    fixed = run_task("check", {"file": str(SPEECH7), "fix": True, "ignore": ["P", "N", "R103"]}, TaskContext())
    assert fixed.ok is True and fixed.output["findings"] == []
    assert "（一）" in fixed.output["fixed_text"]


def test_markdown_front_matter_is_neither_checked_nor_changed():
    speech = SPEECH7.read_text(encoding="utf-8")
    front = "---\nid: seed-07\nplaceholders:\n- 20xx\nheadings:\n- 一、统一思想\n- 三、加强领导\n---\n"
    result = run_task("check", {"text": front + speech, "select": "P,N,U"}, TaskContext())
    plain = run_task("check", {"text": speech, "select": "P,N,U"}, TaskContext())
    def where(f: dict) -> tuple:
        return f["rule"], f["paragraph"], f["excerpt"], f["message"]

    assert [where(f) for f in result.output["findings"]] == [where(f) for f in plain.output["findings"]]
    # spans are offsets into the text given, front matter included
    assert result.output["findings"][0]["span"][0] == plain.output["findings"][0]["span"][0] + len(front)
    fixed = run_task("check", {"text": front + speech, "fix": True, "select": "U"}, TaskContext())
    assert fixed.output["fixed_text"].startswith(front) and "（一）" in fixed.output["fixed_text"]


def test_task_source_as_text_or_path(tmp_path):
    source = tmp_path / "素材.txt"
    source.write_text("全市29个乡镇受灾。", encoding="utf-8")
    speech = "全市39个乡镇受灾。"
    for value in (str(source), "全市29个乡镇受灾。"):
        result = run_task("check", {"text": speech, "source": value, "select": "F"}, TaskContext())
        assert [f["excerpt"] for f in result.output["findings"]] == ["全市39个乡镇受灾。"]


def test_fix_in_place_keeps_gbk_encoding(tmp_path) -> None:
    import subprocess
    import sys

    from pipeline.text.textio import read_document

    path = tmp_path / "gbk.txt"
    path.write_bytes("同志们：\n\n今天我们开会,研究工作。。\n\n谢谢大家！\n".encode("gbk"))
    out = subprocess.run(
        [sys.executable, "-m", "pipeline", "check", str(path), "--fix"],
        capture_output=True, text=True, timeout=120,
    )
    assert out.returncode in (0, 1), out.stderr
    doc = read_document(path)
    assert doc.encoding == "gb18030"
    assert "，" in doc.text and "。。" not in doc.text
