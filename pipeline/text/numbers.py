"""Chinese numerals and the comparison keys of facts: 二〇二四 = 2024, 一千万元 = 1000万元 =
10000000元, 四成 = 40%, 七月十五日 = 7月15日 (see pipeline.text.facts)."""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation

__all__ = ["cn_to_int", "half_width", "normalize_value"]

_CN_VALUES = {"〇": 0, "零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6,
              "七": 7, "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
_CN_BIG = {"万": 10**4, "亿": 10**8}


def cn_to_int(text: str) -> int | None:
    """二〇二四 -> 2024, 一千三百 -> 1300, 十五 -> 15, 两万 -> 20000; None if not a numeral."""
    if not text or any(ch not in _CN_VALUES and ch not in _CN_UNITS and ch not in _CN_BIG for ch in text):
        return None
    if not any(ch in _CN_UNITS or ch in _CN_BIG for ch in text):
        return int("".join(str(_CN_VALUES[ch]) for ch in text))  # digit by digit: 二〇二四
    total, section, digit = 0, 0, None
    for ch in text:
        if ch in _CN_VALUES:
            digit = _CN_VALUES[ch]
        elif ch in _CN_UNITS:
            section += (1 if digit is None else digit) * _CN_UNITS[ch]
            digit = None
        else:  # 万 / 亿 close a section
            section += digit or 0
            total = (total + section) * _CN_BIG[ch] if ch == "亿" else total + section * _CN_BIG[ch]
            section, digit = 0, None
    return total + section + (digit or 0)


def half_width(text: str) -> str:
    """Full-width digits and signs as ASCII (NFKC), thousands separators dropped."""
    return unicodedata.normalize("NFKC", text).replace(",", "")


_NUM_IN = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_STRIP_APPROX = re.compile(r"^(?:将近|大约|约合|超过|近|约|逾|超|达)|(?:左右|以上|以下|之多)$")


def _decimal_str(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _scale(number: str, mags: str) -> str:
    try:
        value = Decimal(number)
    except InvalidOperation:
        return number
    for ch in mags:
        value *= {"十": 10, "百": 100, "千": 1000, "万": 10**4, "亿": 10**8}[ch]
    return _decimal_str(value)


def normalize_value(kind: str, text: str) -> str:
    """The comparison key of a fact's text (see the module docstring)."""
    t = _STRIP_APPROX.sub("", half_width(text).strip())
    if kind in ("quote", "title"):
        return re.sub(r"\s+", "", t)
    if kind == "person":
        return t
    if kind == "date":
        return _norm_date(t)
    if kind == "ordinal":
        inner = t[1:]
        m = re.match(r"([0-9]+|[〇零一二两三四五六七八九十百千]+)(.*)", inner)
        if m:
            n = m.group(1) if m.group(1).isdigit() else str(cn_to_int(m.group(1)))
            return f"第{n}{m.group(2)}"
        return t
    if kind == "percent":
        return _norm_percent(t)
    return _norm_number(t)


def _norm_date(t: str) -> str:
    def num(s: str) -> str:
        return s if s.isdigit() else str(cn_to_int(s))

    t = re.sub(r"[至到\-—–~～]+", "~", t)
    return re.sub(r"[〇零一二三四五六七八九十]+(?=[年月日])", lambda m: num(m.group(0)), t)


def _norm_percent(t: str) -> str:
    t = re.sub(r"^[近约逾]", "", t).rstrip("多余")
    m = re.match(r"百分之(.+)$", t)
    if m:
        body = m.group(1)
        if "点" in body:
            whole, frac = body.split("点", 1)
            frac_digits = "".join(str(_CN_VALUES.get(c, c)) for c in frac)
            return f"{cn_to_int(whole)}.{frac_digits}%"
        return f"{body if body[0].isdigit() else cn_to_int(body)}%"
    m = re.match(r"([〇零一二两三四五六七八九十]+)成$", t)
    if m:
        return f"{cn_to_int(m.group(1)) * 10}%"
    m = re.match(r"(.+?)个?百分点$", t)
    if m:
        body = m.group(1)
        return f"{body if body[0].isdigit() else cn_to_int(body)}pp"
    return t.replace(" ", "")


def _norm_number(t: str) -> str:
    m = re.match(r"([0-9]+)/([0-9]+)$", t)
    if m:
        return f"{m.group(1)}/{m.group(2)}"
    m = re.match(r"(.+)分之(.+)$", t)
    if m:
        return f"{cn_to_int(m.group(2))}/{cn_to_int(m.group(1))}"
    if re.search(r"[0-9]\s*[\-~至到]\s*[0-9]", t):
        return re.sub(r"\s*[\-~至到]\s*", "-", t)
    m = re.match(r"([0-9]+(?:\.[0-9]+)?)(多|余|来)?([十百千万亿]*)(?:多|余|来)?(.*)$", t)
    if m:
        return _scale(m.group(1), m.group(3)) + m.group(4)
    m = re.match(r"([〇零一二两三四五六七八九十百千]+)(?:多|余|来)?([万亿]*)(?:多|余|来)?(.*)$", t)
    if m:
        n = cn_to_int(m.group(1))
        if n is not None:
            return _scale(str(n), m.group(2)) + m.group(3)
    return t
