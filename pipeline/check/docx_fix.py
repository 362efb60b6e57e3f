"""--fix for .docx: apply the linter's edits inside the Word paragraphs, keeping their styles.

An edit inside one run (a half-width comma, a traditional character) changes that run only, so
bold headings and fonts survive; an edit across runs rewrites the paragraph into its first run;
a repeated paragraph (R101) is removed as a whole paragraph.
"""

from __future__ import annotations

import bisect
import io
from typing import Any

from pipeline.check import CheckConfig, Edit, Finding, lint
from pipeline.errors import InputError

SEPARATOR = "\n\n"  # how pipeline.text.textio joins docx paragraphs; offsets below rely on it


def docx_text(document: Any) -> str:
    return SEPARATOR.join(p.text for p in document.paragraphs)


def fix_docx(data: bytes, config: CheckConfig, passes: int = 3) -> tuple[bytes, list[Finding], str]:
    """(fixed .docx bytes, findings left, fixed text) for the bytes of a .docx file."""
    import docx  # python-docx, only when a docx is fixed

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises several kinds for a broken package
        raise InputError(f"not a readable .docx file ({exc})") from None
    text = docx_text(document)
    findings = lint(text, config)
    for _ in range(passes):
        edits = [e for f in findings for e in f.edits]
        if not edits or not _apply(document, edits):
            break
        text = docx_text(document)
        findings = lint(text, config)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue(), findings, text


def _apply(document: Any, edits: list[Edit]) -> bool:
    paras = list(document.paragraphs)
    texts = [p.text for p in paras]
    starts: list[int] = []
    pos = 0
    for t in texts:
        starts.append(pos)
        pos += len(t) + len(SEPARATOR)
    per_para: dict[int, list[tuple[int, int, str]]] = {}
    delete: set[int] = set()
    taken: list[tuple[int, int]] = []
    for e in sorted(set(edits), key=lambda e: (e.start, e.end)):
        if any(e.start < b and a < e.end for a, b in taken):
            continue  # overlaps an edit already taken; the next pass sees it again
        i = bisect.bisect_right(starts, e.start) - 1
        if i < 0:
            continue
        local_start, para_end = e.start - starts[i], starts[i] + len(texts[i])
        if e.end <= para_end:
            per_para.setdefault(i, []).append((local_start, e.end - starts[i], e.text))
        elif e.text == "" and local_start == 0:
            delete.add(i)  # the whole paragraph (R101)
        else:
            continue
        taken.append((e.start, e.end))
    for i, local in per_para.items():
        if i not in delete:
            _edit_paragraph(paras[i], local)
    for i in delete:
        element = paras[i]._element
        element.getparent().remove(element)
    return bool(per_para or delete)


def _edit_paragraph(para: Any, edits: list[tuple[int, int, str]]) -> None:
    runs = list(para.runs)
    if "".join(r.text for r in runs) != para.text or not runs:
        # hyperlinks or fields hold part of the text: rewrite the plain runs as one
        _rewrite(para, runs, edits)
        return
    bounds: list[tuple[int, int]] = []
    pos = 0
    for r in runs:
        bounds.append((pos, pos + len(r.text)))
        pos += len(r.text)
    placed: list[tuple[int, int, int, str]] = []
    for start, end, text in edits:
        k = next((k for k, (a, b) in enumerate(bounds) if a <= start and end <= b and a < b), None)
        if k is None:
            _rewrite(para, runs, edits)  # an edit across runs: one run for the paragraph
            return
        placed.append((start, end, k, text))
    for start, end, k, text in sorted(placed, reverse=True):  # from the end: offsets stay valid
        a = bounds[k][0]
        runs[k].text = runs[k].text[: start - a] + text + runs[k].text[end - a :]


def _rewrite(para: Any, runs: list[Any], edits: list[tuple[int, int, str]]) -> None:
    text = para.text
    for start, end, new in sorted(edits, reverse=True):
        text = text[:start] + new + text[end:]
    if runs:
        runs[0].text = text
        for r in runs[1:]:
            r.text = ""
    else:
        para.add_run(text)
