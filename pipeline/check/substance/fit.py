"""S105 and L103: the speech fits who hears it and has a usable shape.

S105: the 称呼 fits the audience. 同志们 is the salutation of a party or government meeting; to
teachers it is 老师们/各位老师, to new staff 各位新同事/新员工们, to entrepreneurs 各位企业家朋友, to
students 同学们, to guests 各位来宾. (S102 warns on any salutation that misses the audience;
S105 is the error of addressing a school or a company's newcomers as 同志们.)
L103: the length is far outside what the text can be — a third of the target to three times it,
or the style's wide range when no target is given (a 14-字 reply for an 879-字 speech).
"""

from __future__ import annotations

from collections.abc import Iterator

from pipeline.check.base import CheckConfig, Doc, Finding, Severity, checker, finding, rule
from pipeline.check.salutation import find_salutation
from pipeline.check.substance.context import context_of

S105 = rule("S105", "salutation-unfit", Severity.error,
            "同志们 (or another wrong 称呼) for teachers, students, new staff, entrepreneurs or guests")
L103 = rule("L103", "length-broken", Severity.error,
            "length far outside what the text can be: under a third or over three times the target, "
            "or outside the style's range")

# audience words -> (fitting salutation words, the form to suggest)
AUDIENCE_FORMS: list[tuple[tuple[str, ...], tuple[str, ...], str]] = [
    (("新员工", "新入职", "新职工", "新同事", "新进员工", "新招录"), ("新同事", "新员工", "新伙伴", "同事"),
     "各位新同事"),
    (("教师", "老师", "教职工", "教职员工"), ("老师", "教师"), "老师们 / 各位老师"),
    (("学生", "同学", "师生", "新生", "学子"), ("同学", "老师"), "老师们、同学们"),
    (("企业家", "客商", "投资商", "投资者"), ("企业家", "朋友", "来宾", "嘉宾"), "各位企业家朋友"),
    (("来宾", "嘉宾", "外宾", "贵宾"), ("来宾", "嘉宾", "贵宾", "朋友"), "各位来宾"),
    (("家长",), ("家长",), "各位家长"),
    (("乡亲", "村民", "父老"), ("乡亲", "父老", "村民"), "父老乡亲们"),
    (("志愿者", "居民"), ("志愿者", "居民", "朋友"), "志愿者朋友们、居民朋友们"),
]


@checker(S105, L103)
def check_fit(doc: Doc, config: CheckConfig) -> Iterator[Finding]:
    ctx = context_of(config)
    if config.enabled("S105") and ctx.audience:
        yield from _salutation(doc, ctx.audience)
    if config.enabled("L103"):
        bounds = ctx.expected_range()
        # a restyle that keeps the speech is bounded by its source (a 150-字 source may become
        # 142 字 in plain words), not by the style's fixed floor
        keeps_length = not (ctx.length or ctx.length_range)
        if ctx.source and keeps_length and ctx.style in ("plain", "oral", "remarks", "speech"):
            size = Doc(ctx.source).zi
            bounds = (size // 3, size * 3)
        if bounds:
            low, high = bounds
            if doc.zi < low or (high is not None and doc.zi > high):
                word = "short" if doc.zi < low else "long"
                span = f"{low}–{high}" if high is not None else f"at least {low}"
                yield Finding("L103", L103.severity, 0, f"{doc.zi} 字",
                              f"far too {word} to be usable: {doc.zi} 字 where {span} 字 are expected")


def _salutation(doc: Doc, audience: str) -> Iterator[Finding]:
    salutation = find_salutation(doc)
    if salutation is None:
        return
    text = salutation.text
    for words, fits, form in AUDIENCE_FORMS:
        if not any(w in audience for w in words):
            continue
        if any(f in text for f in fits):
            return
        if "同志" in text:  # other misses are S102's warning
            yield finding(doc, "S105", f"“{text}” does not fit the audience “{audience}”: address them "
                          f"as {form}", salutation.start, salutation.end)
        return


__all__ = ["AUDIENCE_FORMS", "L103", "S105", "check_fit"]
