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
    zi = doc.zi
    if config.length and (word := _off(zi, config.length, config.tolerance)):
        low, high = _bounds(config.length, config.tolerance)
        yield Finding(
            "L101", L101.severity, 0, f"{zi} 字",
            f"too {word}: {zi} 字 against a target of {config.length} 字 "
            f"(±{config.tolerance:.0%}: {low:.0f}–{high:.0f})",
        )
    minutes = zi / config.rate
    if config.minutes and (word := _off(minutes, config.minutes, config.tolerance)):
        low, high = _bounds(config.minutes, config.tolerance)
        yield Finding(
            "L102", L102.severity, 0, f"{minutes:.1f} 分钟",
            f"too {word} to speak in {config.minutes:g} minutes: {zi} 字 take about "
            f"{minutes:.1f} minutes at {config.rate} 字/分钟 (aim for "
            f"{low * config.rate:.0f}–{high * config.rate:.0f} 字)",
        )


def _bounds(target: float, tolerance: float) -> tuple[float, float]:
    return target * (1 - tolerance), target * (1 + tolerance)


def _off(value: float, target: float, tolerance: float) -> str:
    """"short" or "long" when value is outside target ± tolerance, else ""."""
    low, high = _bounds(target, tolerance)
    return "short" if value < low else "long" if value > high else ""
