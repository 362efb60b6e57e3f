"""pipeline.text.textio: every way text reaches the tool, and every way a file can be wrong."""

from __future__ import annotations

import codecs
import io
import sys
from pathlib import Path

import pytest

from pipeline.errors import InputError
from pipeline.text.textio import decode_bytes, html_to_text, read_document, read_text

SEED = Path(__file__).parent / "fixtures" / "seeds" / "000_4c88201f79132202.txt"
SPEECH = "同志们：\n今天召开全县安全生产工作会议。\n一、提高认识\n谢谢大家！\n"


@pytest.fixture(scope="module")
def seed_text() -> str:
    return SEED.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("encode", "encoding"),
    [
        (lambda t: t.encode("utf-8"), "utf-8"),
        (lambda t: codecs.BOM_UTF8 + t.encode("utf-8"), "utf-8-sig"),
        (lambda t: t.encode("gbk"), "gb18030"),
        (lambda t: t.encode("gb18030"), "gb18030"),
        (lambda t: t.encode("utf-16"), "utf-16"),
        (lambda t: codecs.BOM_UTF16_BE + t.encode("utf-16-be"), "utf-16"),
        (lambda t: t.encode("utf-16-le"), "utf-16-le"),
        (lambda t: t.encode("utf-16-be"), "utf-16-be"),
    ],
)
def test_every_encoding_reads_back_the_same_text(tmp_path, seed_text, encode, encoding):
    path = tmp_path / "page.txt"
    path.write_bytes(encode(seed_text))
    doc = read_document(path)
    assert doc.text == seed_text
    assert doc.encoding == encoding
    assert doc.source == str(path)


def test_short_bomless_utf16_chinese(tmp_path):
    for enc in ("utf-16-le", "utf-16-be"):
        path = tmp_path / f"{enc}.txt"
        path.write_bytes("你好，世界。".encode(enc))
        assert read_text(path) == "你好，世界。"


def test_gb18030_only_characters(tmp_path):
    text = "𠀀是扩展B区的字，㐀是扩展A区的字，€符号。" * 3
    path = tmp_path / "gb.txt"
    path.write_bytes(text.encode("gb18030"))
    assert read_text(path) == text


def test_line_endings_are_normalized(tmp_path):
    path = tmp_path / "crlf.txt"
    path.write_bytes(SPEECH.replace("\n", "\r\n").encode("gbk"))
    assert read_text(path) == SPEECH
    path.write_bytes(SPEECH.replace("\n", "\r").encode("utf-8"))
    assert read_text(path) == SPEECH


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "file is empty"),
        (b"  \n\r\n\t ", "file is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8, "looks like a binary file"),
        (b"\x7fELF\x02\x01\x01" + b"\x00" * 64 + bytes(range(1, 256)) * 4, "looks like a binary file"),
        (bytes((i * 97 + 31) % 255 + 1 for i in range(6000)), "not valid UTF-8, UTF-16 or GB18030/GBK text"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "a PDF file cannot be read"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "old Word/WPS file"),
    ],
)
def test_bad_files_get_one_clear_line(tmp_path, data, message):
    path = tmp_path / "input.txt"
    path.write_bytes(data)
    with pytest.raises(InputError) as err:
        read_text(path)
    text = str(err.value)
    assert text.startswith(f"{path}: ") and message in text and "\n" not in text


def test_unsupported_suffixes_say_what_to_do(tmp_path):
    path = tmp_path / "讲话.doc"
    path.write_bytes(b"\xd0\xcf\x11\xe0" + b"\x00" * 50)
    with pytest.raises(InputError, match="save it as .docx"):
        read_text(path)
    pdf = tmp_path / "报告.pdf"
    pdf.write_bytes("同志们：今天开会。".encode())
    with pytest.raises(InputError, match="PDF files cannot be read"):
        read_text(pdf)


def test_missing_directory_and_huge(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_text(tmp_path / "nope.txt")
    with pytest.raises(InputError, match="is a directory"):
        read_text(tmp_path)
    big = tmp_path / "big.txt"
    big.write_bytes(("同志们，" * 1000).encode("utf-8"))
    with pytest.raises(InputError, match="over the 1,000-byte limit"):
        read_text(big, max_bytes=1000)


def test_docx_paragraphs_and_tables(tmp_path):
    import docx

    document = docx.Document()
    document.add_paragraph("同志们：")
    document.add_paragraph("今天召开全县安全生产工作会议。")
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 0).text = "一、提高认识"
    table.cell(0, 1).text = "二、压实责任"
    document.add_paragraph("谢谢大家！")
    path = tmp_path / "讲话.docx"
    document.save(path)
    doc = read_document(path)
    assert doc.encoding == "docx"
    assert [p for p in doc.text.split("\n") if p] == [
        "同志们：", "今天召开全县安全生产工作会议。", "一、提高认识", "二、压实责任", "谢谢大家！",
    ]
    # a .docx under another name is still read as one (sites serve Word files as .txt)
    renamed = tmp_path / "讲话.txt"
    renamed.write_bytes(path.read_bytes())
    assert read_text(renamed) == doc.text


def test_broken_docx_and_plain_zip(tmp_path):
    import zipfile

    path = tmp_path / "archive.docx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("a.txt", "hello")
    with pytest.raises(InputError, match=r"archive\.docx: not a readable \.docx file"):
        read_text(path)
    truncated = tmp_path / "cut.docx"
    truncated.write_bytes(b"PK\x03\x04" + b"\x00" * 30)
    with pytest.raises(InputError, match="not a readable .docx file"):
        read_text(truncated)


def test_html_page_with_meta_charset(tmp_path):
    page = (
        '<html><head><meta charset="gb2312"><title>标题</title><style>p{color:red}</style>'
        "<script>var a = '<p>不是正文</p>';</script></head><body><nav>首页 &gt; 讲话稿</nav>"
        "<h1>在全县安全生产工作会议上的讲话</h1><p>同志们：</p><p>今天&nbsp;召开会议。<br>要压实责任。</p>"
        "</body></html>"
    )
    path = tmp_path / "page.html"
    path.write_bytes(page.encode("gbk"))
    doc = read_document(path)
    assert doc.encoding == "gb18030"
    lines = [line for line in doc.text.split("\n") if line]
    assert lines == ["在全县安全生产工作会议上的讲话", "同志们：", "今天\xa0召开会议。", "要压实责任。"]
    assert "不是正文" not in doc.text and "首页" not in doc.text and "color" not in doc.text


def test_html_detected_without_the_suffix(tmp_path):
    path = tmp_path / "saved.txt"
    path.write_text("<!DOCTYPE html><html><body><p>同志们：</p><p>散会。</p></body></html>", encoding="utf-8")
    assert [x for x in read_text(path).split("\n") if x] == ["同志们：", "散会。"]
    assert html_to_text("<p>a</p>\n\n\n<p>b</p>") == "a\n\nb\n"


def test_markdown_and_plain_text_are_returned_as_is(tmp_path):
    path = tmp_path / "讲话.md"
    path.write_text("# 标题\n\n同志们：\n", encoding="utf-8")
    assert read_text(path) == "# 标题\n\n同志们：\n"


def test_stdin(monkeypatch):
    fake = io.TextIOWrapper(io.BytesIO(SPEECH.encode("gbk")), encoding="gbk")
    monkeypatch.setattr(sys, "stdin", fake)
    doc = read_document("-")
    assert doc.text == SPEECH and doc.source == "<stdin>"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"")))
    with pytest.raises(InputError, match="<stdin>: file is empty"):
        read_text("-")


def test_decode_bytes_names_the_source():
    assert decode_bytes("讲话".encode("gbk"), "x") == ("讲话", "gb18030")
    with pytest.raises(InputError, match="^mystery: "):
        decode_bytes(b"\x00\x01\x02\x03" * 50, "mystery")
