"""F: with --source, figures, names and cited documents the speech has but the source has not.

Invented figures are the costliest mistake a model makes in an official speech, so F101 is an
error. Matching is pipeline.text.facts' rule: verbatim first, then the normalized value.
"""

from __future__ import annotations

from collections.abc import Iterator

from pipeline.check.base import CheckConfig, Doc, Finding, Severity, checker, finding, rule
from pipeline.text.facts import find_unsupported

F101 = rule("F101", "figure-not-in-source", Severity.error,
            "a figure, percentage or date that --source does not contain")
F102 = rule("F102", "name-not-in-source", Severity.warning,
            "a person's name with title that --source does not contain")
F103 = rule("F103", "document-not-in-source", Severity.warning,
            "a cited 《document》 that --source does not contain")

_RULE_OF = {"number": "F101", "percent": "F101", "date": "F101", "ordinal": "F101",
            "person": "F102", "title": "F103"}
_WHAT = {"F101": "figure", "F102": "name", "F103": "document"}


@checker(F101, F102, F103)
def check_facts(doc: Doc, config: CheckConfig) -> Iterator[Finding]:
    if config.source is None:
        return
    kinds = [k for k, r in _RULE_OF.items() if config.enabled(r)]
    for fact in find_unsupported(doc.text, [config.source], kinds):
        rule_id = _RULE_OF[fact.kind]
        yield finding(doc, rule_id, f"{_WHAT[rule_id]} “{fact.text}” is not in the source",
                      fact.span[0], fact.span[1])
