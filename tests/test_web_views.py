"""What the page shows of a result: the side-by-side diff, edited speeches, upload checks."""

from __future__ import annotations

import pytest

from pipeline.errors import InputError
from pipeline.web.uploads import UploadError, read_upload, safe_name
from pipeline.web.views import paragraph_diff, with_speech


def test_paragraph_diff_pairs_paragraphs_and_marks_changes_inside_them():
    rows = paragraph_diff("同志们：\n今天开会，部署工作。\n谢谢大家！", "同志们：\n今天召开会议，部署工作。\n谢谢大家！")
    assert rows[0] == {"old": [["same", "同志们："]], "new": [["same", "同志们："]]}
    changed = rows[1]
    assert "".join(t for _, t in changed["old"]) == "今天开会，部署工作。"
    assert "".join(t for _, t in changed["new"]) == "今天召开会议，部署工作。"
    assert ["ins", "召"] in changed["new"] and all(k == "same" for k, _ in changed["old"])  # only additions
    assert rows[2]["new"] == [["same", "谢谢大家！"]]


def test_paragraph_diff_shows_added_and_dropped_paragraphs_against_an_empty_side():
    rows = paragraph_diff("第一段。\n第二段。", "第一段。")
    assert rows[-1] == {"old": [["del", "第二段。"]], "new": []}


def test_an_edited_speech_replaces_text_and_blocks():
    result = {"task": "adapt", "output": {}, "text": "", "blocks": []}
    speech = {"title": "在会上的讲话", "salutation": "同志们：", "opening": "今天开会。",
              "sections": [{"heading": "一、压实责任", "paragraphs": ["要压实责任。"]}], "closing": "谢谢大家！"}
    edited = with_speech(result, speech)
    assert edited["edited"] and ["h1", "一、压实责任"] in edited["blocks"]
    assert edited["text"].startswith("在会上的讲话")
    with pytest.raises(InputError):
        with_speech(result, {"title": "x", "sections": "not a list"})


@pytest.mark.parametrize("name", ["../a.txt", "a/../../b.txt", "/etc/passwd", "C:\\x.txt", ".env", "a\x00.txt"])
def test_upload_names_that_are_paths_are_refused(name):
    with pytest.raises(UploadError) as info:
        safe_name(name)
    assert info.value.http_status == 400


def test_uploads_are_checked_for_type_and_size_and_read_by_the_project_readers():
    with pytest.raises(UploadError) as info:
        read_upload("报告.pdf", b"%PDF-1.4", 1000)
    assert info.value.http_status == 415
    with pytest.raises(UploadError) as info:
        read_upload("报告.txt", "同志们".encode() * 100, 100)
    assert info.value.http_status == 413 and "太大" in str(info.value)
    assert read_upload("讲话.txt", "同志们：\r\n开会。".encode("gb18030"), 1000).text.startswith("同志们：\n开会。")
    with pytest.raises(InputError):
        read_upload("讲话.docx", b"PK\x03\x04 broken", 1000)
