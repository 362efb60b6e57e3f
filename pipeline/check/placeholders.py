"""P: template placeholders that leaked into a speech (xx同志, 20xx年, □aa市, 【单位名称】).

Not placeholders: the em-dash —— (punctuation), ranges like 2-3年, 二〇〇八年 (〇 is a digit),
ratings like AAA级, Markdown rules (---) and table rows.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from pipeline.check.base import CheckConfig, Doc, Finding, Severity, checker, finding, rule

P101 = rule("P101", "placeholder-mark", Severity.error,
            "placeholder marks: xx, XX, ××, X月X日, aa, □, ○○, 某某, ___, -- left in the text")
P102 = rule("P102", "template-bracket", Severity.error,
            "template slots: 【单位名称】, {姓名}, ［ ］, （此处填写…）")
P103 = rule("P103", "todo-marker", Severity.error,
            "notes to the writer: TODO, 待补充, 待定, 此处插入…")

_MARKS = re.compile(
    r"(?=[xX×aA□■△◇○某_＿\-－])"  # cheap first-character test; the regex is run on whole reports
    r"(?:(?<![A-Za-z])[xX×]{2,}(?![A-Za-z])"  # xx同志, 20xx年, XX万元, ××
    r"|(?<![A-Za-z0-9])[xX×](?=[年月日号时万亿元个名人家项%％])"  # X月X日, X万元
    r"|(?<![A-Za-z0-9])(?:aa+|AA+)(?![A-Za-z]|级|A)"  # aa市 (AAA级 is a rating)
    r"|[□■△◇]+"  # □aa
    # ○○同志; but ○ also stands for the digit zero in older texts (一九五○年, 二百○八所)
    r"|(?<![〇零一二三四五六七八九十百千万亿○])○+(?![〇零一二三四五六七八九十百千万亿○])"
    r"|某某+"  # 某某单位; a single 某 (某些, 某地) is ordinary Chinese
    r"|_{3,}|＿{2,}"  # fill-in blanks (__x__ is Markdown bold)
    # 我叫--，---届 ; not ----> or --flag, and not a paragraph-leading -- used as a dash (U104)
    r"|(?<![-A-Za-z0-9_])-{2,}(?![->A-Za-z0-9_])|－{2,})"
)
_BULLET = re.compile(r"^[□■○△◇]\s")  # a box used as a list bullet at a line start

_BRACKETS = re.compile(
    r"【[^】\n]{0,16}】"
    r"|［\s*］|\[\s*\]"
    r"|\{\{?[^{}\n]{1,20}\}?\}"
    r"|[（(][^（）()\n]{0,20}(?:填写|待定|待补|此处|插入|略)[^（）()\n]{0,10}[）)]"
)
_TODO = re.compile(r"TODO|TBD|FIXME|待补充|待完善|待核实|待确认|此处插入|此处填写|此处省略")


def _is_markdown_rule(line: str) -> bool:
    return bool(re.fullmatch(r"[-*_=\s|:]{3,}", line))


@checker(P101, P102, P103)
def check_placeholders(doc: Doc, config: CheckConfig) -> Iterator[Finding]:
    text = doc.text
    starts = {p.start for p in doc.paragraphs}
    # one pass over the whole text is much faster than one per paragraph
    for m in _MARKS.finditer(text):
        start, end = m.span()
        number = doc.paragraph_at(start)
        para = doc.paragraphs[number - 1] if number else None
        if para is None or _is_markdown_rule(para.text):
            continue
        if start in starts and (m.group(0).startswith("-") or _BULLET.match(para.text)):
            continue  # --我们要… is a dash (U104); "□ 加强领导" a bullet
        yield finding(doc, "P101", f"placeholder “{m.group(0)}” left in the text: fill in the real "
                      "name, figure or date", start, end, paragraph=number)
    for pattern, rule_id, what in ((_BRACKETS, "P102", "template slot {} not filled in"),
                                   (_TODO, "P103", "writer's note “{}” left in the text")):
        for m in pattern.finditer(text):
            number = doc.paragraph_at(m.start())
            if number:
                yield finding(doc, rule_id, what.format(m.group(0)), m.start(), m.end(), paragraph=number)
