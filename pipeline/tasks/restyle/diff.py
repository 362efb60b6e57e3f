"""What a restyle changed, paragraph by paragraph, readable in a terminal."""

from __future__ import annotations

import difflib

from pipeline.text.hanzi import normalize, split_paragraphs


def paragraph_diff(source: str, output: str, *, color: bool = False) -> str:
    """What changed, paragraph by paragraph: '-' source, '+' output, '~' a rewritten pair with
    the changed characters marked [-…-]{+…+}. Readable in a terminal."""
    a, b = split_paragraphs(source), split_paragraphs(output)
    lines: list[str] = []
    red, green, off = ("\x1b[31m", "\x1b[32m", "\x1b[0m") if color else ("", "", "")
    matcher = difflib.SequenceMatcher(None, [normalize(x) for x in a], [normalize(x) for x in b], autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            lines += [f"  {p}" for p in a[i1:i2]]
            continue
        olds, news = a[i1:i2], b[j1:j2]
        pairs = _pair_paragraphs(olds, news)
        for old, new in pairs:
            if old is not None and new is not None:
                lines.append(f"~ {_inline_diff(old, new, red, green, off)}")
            elif old is not None:
                lines.append(f"{red}- {old}{off}")
            elif new is not None:
                lines.append(f"{green}+ {new}{off}")
    return "\n".join(lines) + "\n"


def _pair_paragraphs(olds: list[str], news: list[str]) -> list[tuple[str | None, str | None]]:
    # a rewritten paragraph is shown as one edited line when it still resembles its source
    out: list[tuple[str | None, str | None]] = []
    j = 0
    for old in olds:
        best, best_ratio = None, 0.0
        for k in range(j, len(news)):
            ratio = difflib.SequenceMatcher(None, old, news[k], autojunk=False).ratio()
            if ratio > best_ratio:
                best, best_ratio = k, ratio
        if best is not None and best_ratio >= 0.35:
            out += [(None, n) for n in news[j:best]]
            out.append((old, news[best]))
            j = best + 1
        else:
            out.append((old, None))
    out += [(None, n) for n in news[j:]]
    return out


def _inline_diff(old: str, new: str, red: str, green: str, off: str) -> str:
    # word-level (jieba) so that 切实贯彻 -> 实实在在地落实 reads as one change, not five
    a, b = _words(old), _words(new)
    parts: list[str] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            parts.append("".join(a[i1:i2]))
            continue
        if i2 > i1:
            parts.append(f"{red}[-{''.join(a[i1:i2])}-]{off}")
        if j2 > j1:
            parts.append(f"{green}{{+{''.join(b[j1:j2])}+}}{off}")
    return "".join(parts)


def _words(text: str) -> list[str]:
    try:
        import jieba
    except ImportError:  # characters still give a correct, if busier, diff
        return list(text)
    jieba.setLogLevel(60)  # jieba announces its dictionary load on stderr
    return jieba.lcut(text)
