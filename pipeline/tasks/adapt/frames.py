"""The opening and closing of an embedded-model speech from set phrases (prompts/adapt/frames.yaml).

Grounded drafting stands each section on material retrieved for its point; the opening and the
closing have no such material in the 素材库 (government work reports open with 各位代表 and close
with 为实现…而奋斗), and a 270M model drafting them from the examples invents the most there
(「我代表局党委向大家汇报」, 「严肃问卷公开追究」). A 文秘 writes these parts from set phrases of
the genre; so does the pipeline, filled from the brief, and the model's budget goes to the
sections.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from pipeline.errors import InputError
from pipeline.tasks.adapt.brief import Brief
from pipeline.tasks.adapt.outline import DOERS, host_of, self_unit
from pipeline.text.hanzi import count_zi

__all__ = ["FRAMES_FILE", "frame_paragraphs", "load_frames", "topic_of"]

FRAMES_FILE = "adapt/frames.yaml"
_SLOT = re.compile(r"\{(\w+)\}")


def load_frames(prompts_dir: Path) -> dict[str, dict[str, list[str]]]:
    """The frames file, checked: audience kind -> {opening, closing} -> lines. {} when absent."""
    path = Path(prompts_dir) / FRAMES_FILE
    if not path.is_file():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(data, dict) or not all(
        isinstance(v, dict) and set(v) <= {"opening", "closing"}
        and all(isinstance(lines, list) and all(isinstance(x, str) for x in lines) for lines in v.values())
        for v in data.values()
    ):
        raise InputError(f"{path}: expected kind: {{opening: [lines], closing: [lines]}}")
    return data


def topic_of(occasion: str) -> str:
    """全县安全生产工作会议 → 安全生产: the occasion without its level and its format."""
    topic = re.sub(r"^(?:全[县市区镇乡省]|[县市区镇乡省]|我[县市区镇乡省校])", "", occasion or "")
    topic = re.sub(r"(?:工作)?(?:会议|大会|推进会|部署会|动员会|座谈会|典礼|(?:开班|启动|开幕)?仪式|推介会|培训班)$", "", topic)
    return re.sub(r"工作$", "", topic) or occasion


def frame_paragraphs(key: str, brief: Brief, frames: dict[str, dict[str, list[str]]], budget: int | None = None) -> list[str]:
    """The set-phrase paragraph of the opening or closing for the brief's audience ([] when the
    frames have none). A line whose slot the brief cannot fill is left out; with a `budget` (字),
    lines stop once it is spent (a 300-字 speech gets one line, not four)."""
    lines: list[str] = []
    # Students and guests keep their own frames (welcome, thanks) at any occasion; 居民朋友们 at a
    # 启动仪式 are not guests to welcome but people to mobilise.
    guests = brief.audience_kind == "guests" and re.search(r"来宾|嘉宾|客商|企业家|客人", brief.audience or "")
    if brief.audience_kind != "students" and not guests:
        for name, frame in frames.items():
            if name.startswith("@") and name[1:] in (brief.occasion or ""):
                lines = frame.get(key) or []
                break
    lines = lines or frames.get(brief.audience_kind, {}).get(key) or frames.get("cadres", {}).get(key) or []
    unit = self_unit(brief)
    slots = {
        "occasion": brief.occasion,
        "topic": topic_of(brief.occasion),
        "whole": f"全{unit}" if unit in DOERS else "全体",
        "doers": DOERS.get(unit, "各单位、各部门"),
        "host": host_of(brief.speaker or ""),
    }
    filled = [_SLOT.sub(lambda m: slots[m.group(1)], line) for line in lines
              if all(slots.get(n) for n in _SLOT.findall(line))]
    # 同志们 is the party and government call; new staff, teachers or entrepreneurs are called
    # as the 称呼 calls them (各位新同事，…).
    call = brief.derived_salutation().rstrip("：:")
    if call != "同志们" and "、" not in call:
        filled = [re.sub(r"^同志们(?=，)", call, line) for line in filled]
    # The closing keeps its last lines (the call to action, the wish), the opening its first.
    order = filled[::-1] if key == "closing" else filled
    out: list[str] = []
    for text in order:
        if out and budget is not None and count_zi("".join(out) + text) > budget * 1.2:
            break
        out.append(text)
    if key == "closing":
        out.reverse()
    return ["".join(out)] if out else []
