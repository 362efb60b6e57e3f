"""P: template placeholders that leaked into a speech (xx同志, 20xx年, □aa市, 【单位名称】).

What a placeholder is lives in pipeline.text.placeholders (one detector for the corpus, adapt and
this linter); here only what a document adds: a Markdown rule (---) or a table row is no blank.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from pipeline.check.base import CheckConfig, Doc, Finding, Severity, checker, finding, rule
from pipeline.text.placeholders import ALL, find_placeholders

P101 = rule("P101", "placeholder-mark", Severity.error,
            "placeholder marks: xx, XX, ××, X月X日, aa, □, ○○, 某某, __, -- left in the text")
P102 = rule("P102", "template-bracket", Severity.error,
            "template slots: 【单位名称】, {姓名}, ［ ］, （此处填写…）")
P103 = rule("P103", "todo-marker", Severity.error,
            "notes to the writer: TODO, 待补充, 待定, 此处插入…")

_TODO = re.compile(r"TODO|TBD|FIXME|待补充|待完善|待核实|待确认|此处插入|此处填写|此处省略")
_MESSAGES = {
    "P101": "placeholder “{}” left in the text: fill in the real name, figure or date",
    "P102": "template slot {} not filled in",
}


def _is_markdown_rule(line: str) -> bool:
    return bool(re.fullmatch(r"[-*_=\s|:]{3,}", line))


@checker(P101, P102, P103)
def check_placeholders(doc: Doc, config: CheckConfig) -> Iterator[Finding]:
    # one pass over the whole text is much faster than one per paragraph
    for p in find_placeholders(doc.text, ALL):
        number = doc.paragraph_at(p.start)
        para = doc.paragraphs[number - 1] if number else None
        if para is None or _is_markdown_rule(para.text):
            continue
        rule_id = "P102" if p.kind == "slot" else "P101"
        yield finding(doc, rule_id, _MESSAGES[rule_id].format(p.token), p.start, p.end, paragraph=number)
    for m in _TODO.finditer(doc.text):
        number = doc.paragraph_at(m.start())
        if number:
            yield finding(doc, "P103", f"writer's note “{m.group(0)}” left in the text", m.start(), m.end(),
                          paragraph=number)
