"""U: punctuation. Half-width marks inside Chinese text, unbalanced pairs, doubled marks.

Half-width is fine between Latin letters and digits (10:30, 1,000, e.g.), so a mark is only
flagged when a Chinese character stands right before or after it.
"""

from __future__ import annotations

import re
from collections.abc import Generator, Iterator

from pipeline.check.base import (
    CheckConfig,
    Doc,
    Edit,
    Finding,
    Paragraph,
    Severity,
    checker,
    finding,
    rule,
)

U101 = rule("U101", "half-width-punctuation", Severity.warning,
            "half-width , ; : ? ! ( ) . next to Chinese characters; 一. for 一、", fixable=True)
U102 = rule("U102", "unbalanced-pair", Severity.warning,
            "unbalanced “” ‘’ （） 《》 【】 in a paragraph")
U104 = rule("U104", "ascii-dash", Severity.warning,
            "-- used as a dash in Chinese text: write ——", fixable=True)
U103 = rule("U103", "doubled-punctuation", Severity.warning,
            "doubled or clashing marks: 。。 ，， ，。 、、", fixable=True)

_HAN = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_FULL = {",": "，", ";": "；", ":": "：", "?": "？", "!": "！", "(": "（", ")": "）", ".": "。"}
_CJK_PUNCT = "，。、；：？！“”‘’（）《》【】…—"
_NEAR = rf"[{_HAN}{_CJK_PUNCT}]"
_HALF = re.compile(
    rf"(?<={_NEAR})[,;:?!](?!//)"  # 我们,  我们:
    rf"|[,;:?!](?=[{_HAN}“‘（《])"  # ,我们
    rf"|(?<=[{_HAN}])\.(?=\s|$|[{_HAN}“”])"  # 工作. 下面  (not 1.5 or e.g.)
)
_CN_HEADING_DOT = re.compile(r"(?:#{1,6}\s+)?[一二三四五六七八九十]{1,3}[.．](?![0-9])")
_PAIRS = {"“": "”", "‘": "’", "（": "）", "(": ")", "《": "》", "【": "】"}
_CLOSE = {v: k for k, v in _PAIRS.items()}
_SAME = {"(": "（", ")": "）"}
_PAIR_CHARS = re.compile(r"[“”‘’（）()《》【】]")  # width is U101's business; pairs match across widths
_DOUBLED = re.compile(r"([，。、；：？！?!])\1+|[，、；：,]+(?=[。？！])|[，、](?=[；：])")


@checker(U101, U102, U103, U104)
def check_punctuation(doc: Doc, config: CheckConfig) -> Iterator[Finding]:
    carry: list[tuple[str, int]] = []
    paras = doc.paragraphs
    for i, para in enumerate(paras):
        yield from _half_width(doc, para)
        carry = yield from _unbalanced(doc, para, paras[i + 1 : i + 3], carry)
        yield from _doubled(doc, para)
        yield from _ascii_dash(doc, para)


def _half_width(doc: Doc, para: Paragraph) -> Iterator[Finding]:
    text = para.text
    if re.search(r"https?://|www\.|`", text):
        text = re.sub(r"https?://\S+|www\.\S+|`[^`]*`", lambda m: " " * len(m.group(0)), text)
    edits: list[Edit] = []
    for m in _HALF.finditer(text):
        edits.append(Edit(para.start + m.start(), para.start + m.end(), _FULL[m.group(0)]))
    edits.extend(_paren_edits(text, para.start))
    m = _CN_HEADING_DOT.match(text)
    if m:  # 一.形势 -> 一、形势 (a Chinese numeral takes the enumeration comma, not 。)
        dot = Edit(para.start + m.end() - 1, para.start + m.end(), "、")
        edits = [e for e in edits if e.start != dot.start] + [dot]
    if not edits:
        return
    edits.sort(key=lambda e: e.start)
    marks = dict.fromkeys(doc.text[e.start] + "→" + e.text for e in edits)
    first = edits[0].start
    yield finding(doc, "U101", f"{len(edits)} half-width mark(s) in Chinese text: {' '.join(marks)}",
                  first, first + 1, edits=edits)


def _paren_edits(text: str, base: int) -> Iterator[Edit]:
    """( ) around or next to Chinese text become （ ）; (a) or f(x) stay."""
    for m in re.finditer(r"\(([^()\n]{0,60})\)", text):
        inner = m.group(1)
        before = text[m.start() - 1 : m.start()]
        if re.search(rf"[{_HAN}]", inner) or re.match(rf"[{_HAN}]", before):
            yield Edit(base + m.start(), base + m.start() + 1, "（")
            yield Edit(base + m.end() - 1, base + m.end(), "）")


def _unbalanced(
    doc: Doc, para: Paragraph, ahead: list[Paragraph], carry: list[tuple[str, int]]
) -> Generator[Finding, None, list[tuple[str, int]]]:
    """Report unbalanced pairs; return the open marks that go on into the next paragraph."""
    stack = list(carry)  # (opener, offset in the whole text)
    for m in _PAIR_CHARS.finditer(para.text):
        i = m.start()
        ch = _SAME.get(m.group(0), m.group(0))
        if ch in ("“", "‘", "（", "《", "【"):
            stack.append((ch, para.start + i))
        elif ch in ("”", "’", "）", "》", "】"):
            if ch == "’" and para.text[i + 1 : i + 2].isdigit():
                continue  # an apostrophe: 中国’99昆明世界园艺博览会
            opener = _CLOSE[ch] if ch != "）" else "（"
            if stack and stack[-1][0] == opener:
                stack.pop()
            elif any(o == opener for o, _ in stack):
                while stack and stack[-1][0] != opener:
                    o, pos = stack.pop()
                    yield _pair_finding(doc, pos, f"{o} is never closed")
                stack.pop()
            else:
                yield _pair_finding(doc, para.start + i, f"{ch} closes nothing")
    if not stack:
        return []
    # A line broken inside a pair (《\n决定\n》, （PM\n2.5\n）, common in text copied from web
    # pages) goes on into the next paragraph.
    nxt = ahead[0] if ahead else None
    if nxt is not None and (para.text[-1] in _PAIRS or any(p.text[0] in _CLOSE for p in ahead)):
        return stack
    for o, pos in stack:
        # A quotation running over several paragraphs opens each one with “ and closes only at
        # its end (GB/T 15834), so an open “ is fine when the next paragraph opens with “ too.
        if o in ("“", "‘") and nxt is not None and nxt.text.startswith(o):
            continue
        yield _pair_finding(doc, pos, f"{o} is never closed")
    return []


def _pair_finding(doc: Doc, pos: int, message: str) -> Finding:
    return finding(doc, "U102", f"unbalanced pair: {message}", pos, pos + 1)


def _doubled(doc: Doc, para: Paragraph) -> Iterator[Finding]:
    for m in _DOUBLED.finditer(para.text):
        start = para.start + m.start()
        run = m.group(0)
        if m.group(1):  # 。。 -> 。
            keep = m.group(1)
            end = start + len(run)
        else:  # ，。 -> 。 : the clause mark before a sentence end goes
            keep = ""
            end = start + len(run)
        yield finding(doc, "U103", f"doubled punctuation “{doc.text[start:end + (0 if keep else 1)]}”",
                      start, end, edits=[Edit(start, end, keep)])


_DASH = re.compile(rf"^-{{2,}}(?=[{_HAN}“])")


def _ascii_dash(doc: Doc, para: Paragraph) -> Iterator[Finding]:
    # --我们要… (a typed stand-in for the dash ——); 我叫--， is a placeholder, P101's business
    m = _DASH.match(para.text)
    if m:
        start = para.start + m.start()
        yield finding(doc, "U104", "“--” used as a dash: write “——”", start, start + len(m.group(0)),
                      edits=[Edit(start, start + len(m.group(0)), "——")])
