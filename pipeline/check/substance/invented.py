"""G: content the allowed texts (brief, facts, source) do not give — invented by the model.

A cited 《document》, a party congress or plenum, a figure (Arabic or Chinese numerals: 十二位,
三千万元, 百分之八十), a year (also the one in 《…报告（2018）》), a named province or organ, a
titled person, a 首次/率先 claim. Only with a brief or source (SubstanceContext.grounded): a
finished speech checked on its own states its own facts.

Extraction and matching are pipeline.text.facts' (verbatim first, then the normalized value). With
only --source given, the F rules already report figures, names and documents, so G reports the
kinds F does not see (counts in Chinese numerals, years in titles, meetings, organs, claims).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from pipeline.check.base import CheckConfig, Doc, Finding, Severity, checker, finding, rule
from pipeline.check.substance.context import context_of
from pipeline.text.facts import SUBSTANCE_KINDS, find_unsupported

G101 = rule("G101", "invented-figure", Severity.error,
            "a figure (Arabic or Chinese numerals: 1200名, 十二位, 三千万元, 百分之八十) the brief/source does not give")
G102 = rule("G102", "invented-date", Severity.error,
            "a year or date the brief/source does not give, also the year in 《…（2018）》")
G103 = rule("G103", "invented-document", Severity.error,
            "a cited 《document》 the brief/source does not give")
G104 = rule("G104", "invented-meeting", Severity.error,
            "a congress, plenum or meeting (党的十八届五中全会, 第X次代表大会, 全国两会) the brief/source does not give")
G105 = rule("G105", "invented-name", Severity.warning,
            "a titled person, a province or a place's organ (新华市委) the brief/source does not give")
G106 = rule("G106", "invented-first", Severity.warning,
            "a 首次/第一/率先 claim the brief/source does not make")

_RULE_OF = {"number": "G101", "percent": "G101", "ordinal": "G101", "count": "G101",
            "date": "G102", "year": "G102", "title": "G103", "meeting": "G104",
            "person": "G105", "org": "G105"}
_F_COVERS = {"number": "F101", "percent": "F101", "date": "F101", "ordinal": "F101",
             "person": "F102", "title": "F103"}
_WHAT = {"G101": "figure", "G102": "date", "G103": "document", "G104": "meeting",
         "G105": "name"}
_FIRST = re.compile(r"首次|第一次|首个|首家|首创|率先|全国第一|全省第一|全市第一|领先全国|开创先河")


@checker(G101, G102, G103, G104, G105, G106)
def check_invented(doc: Doc, config: CheckConfig) -> Iterator[Finding]:
    ctx = context_of(config)
    if not ctx.grounded:
        return
    allowed = ctx.allowed_texts
    kinds = [k for k, r in _RULE_OF.items() if config.enabled(r)]
    if config.source is not None and config.context is None:
        kinds = [k for k in kinds if not config.enabled(_F_COVERS.get(k, "-"))]
    if kinds:
        facts = find_unsupported(doc.text, allowed, kinds)
        meetings = [f.span for f in facts if f.kind == "meeting"]
        for fact in facts:
            if fact.kind == "ordinal" and any(a <= fact.span[0] < b for a, b in meetings):
                continue  # 第十九次 of 第十九次全国代表大会 is the meeting's finding
            rule_id = _RULE_OF[fact.kind]
            yield finding(doc, rule_id, f"{_WHAT[rule_id]} “{fact.text}” is in neither the brief nor the "
                          "source: remove it or give it as a fact", fact.span[0], fact.span[1])
    if config.enabled("G106"):
        given = "\n".join(allowed)
        for m in _FIRST.finditer(doc.text):
            if m.group(0) not in given:
                yield finding(doc, "G106", f"“{m.group(0)}” claims a first that the brief does not "
                              "state: remove it or give it as a fact", m.start(), m.end())


__all__ = ["G101", "G102", "G103", "G104", "G105", "G106", "SUBSTANCE_KINDS", "check_invented"]
