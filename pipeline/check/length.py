"""L: length against --length (字) and speaking time against --minutes (220 字 a minute).

字 are counted as office software counts them (every non-space character), see hanzi.count_zi.
"""

from __future__ import annotations

from collections.abc import Iterator

from pipeline.check.base import CheckConfig, Doc, Finding, Severity, checker, rule

L101 = rule("L101", "length-off-target", Severity.warning,
            "字数 outside --length ± tolerance (15% by default)")
L102 = rule("L102", "time-off-target", Severity.warning,
            "speaking time outside --minutes ± tolerance, at 220 字 a minute")


@checker(L101, L102)
def check_length(doc: Doc, config: CheckConfig) -> Iterator[Finding]:
    tol = config.tolerance
    zi = doc.zi
    if config.length:
        low, high = config.length * (1 - tol), config.length * (1 + tol)
        if not low <= zi <= high:
            word = "short" if zi < low else "long"
            yield Finding(
                "L101", L101.severity, 0, f"{zi} 字",
                f"too {word}: {zi} 字 against a target of {config.length} 字 "
                f"(±{tol:.0%}: {low:.0f}–{high:.0f})",
            )
    if config.minutes:
        minutes = zi / config.rate
        low, high = config.minutes * (1 - tol), config.minutes * (1 + tol)
        if not low <= minutes <= high:
            word = "short" if minutes < low else "long"
            yield Finding(
                "L102", L102.severity, 0, f"{minutes:.1f} 分钟",
                f"too {word} to speak in {config.minutes:g} minutes: {zi} 字 take about "
                f"{minutes:.1f} minutes at {config.rate} 字/分钟 (aim for "
                f"{low * config.rate:.0f}–{high * config.rate:.0f} 字)",
            )
