"""adapt's logic around the model, with FakeBackend: outline, drafting, cleaning, checks, repairs,
one-call validation and re-ask, strict facts, dry run, the batch route."""

from __future__ import annotations

import json
import re

import pytest

from pipeline.errors import InputError, ValidationFailed
from pipeline.model.backends.fake import FakeBackend
from pipeline.model.client import Client
from pipeline.model.types import ChatRequest
from pipeline.speech import Speech
from pipeline.tasks import TaskContext, run_task
from pipeline.tasks import adapt as adapt_task
from pipeline.tasks.adapt.drafting import DRAFT_MIN_TOKENS, DRAFT_STOPS, unsupported_fn
from pipeline.tasks.adapt.options import default_strategy
from pipeline.tasks.adapt.repair import MAX_REPAIR_ROUNDS
from pipeline.tasks.inputs import AdaptInput
from pipeline.text.hanzi import count_zi
from pipeline.text.placeholders import ALL, has_placeholder

BRIEF = {
    "occasion": "全县安全生产工作会议",
    "speaker": "县长",
    "audience": "各乡镇、县直各部门负责同志",
    "points": ["压实安全生产责任", "深入开展隐患排查整治"],
    "length": 600,
}

# Sentences a small model might write for any part; the scripted backend cycles through them.
FILLER = [
    "要进一步提高思想认识，把安全生产摆在更加突出的位置。",
    "各级各部门要切实履行职责，形成齐抓共管的工作格局。",
    "要坚持问题导向，对发现的问题立行立改、逐项销号。",
    "要强化督促检查，对工作不力的严肃追责问责。",
    "要加强宣传教育，营造人人讲安全、个个会应急的良好氛围。",
    "要健全长效机制，推动安全生产工作制度化、规范化。",
    "要统筹发展和安全，守住不发生重特大事故的底线。",
    "要抓好值班值守，确保信息畅通、反应迅速、处置有力。",
]


def _part(request: ChatRequest) -> str:
    prefill = request.messages[-1].content
    if "的开头" in prefill:
        return "opening"
    if "的结尾" in prefill:
        return "closing"
    m = re.search(r"主题是“(.+?)”", prefill)
    return m.group(1) if m else "?"


_WHAT = ["属地管理责任", "部门监管责任", "企业主体责任", "隐患排查机制", "应急处置体系", "督导检查制度",
         "宣传教育工作", "值班值守制度", "考核问责办法", "风险防控措施", "基层安全网络", "专项整治行动"]
_HOW = ["对标对表找差距", "逐级压茬传导", "坚持清单管理", "做到闭环整改", "发挥示范引领", "用好信息平台",
        "加强部门联动", "突出重点领域", "强化源头治理", "注重常态长效", "紧盯关键环节", "坚持标本兼治"]
_WHY = ["筑牢安全防线", "守住安全底线", "护航高质量发展", "保障群众平安", "防范化解风险", "提升治理效能"]


def fresh_sentence(n: int) -> str:
    """The n-th of many different sentences (different words, not just one word swapped)."""
    return f"{_WHAT[n % 12]}方面，{_HOW[(n * 5 + n // 12) % 12]}，{_WHY[(n * 7 + n // 6) % 6]}。"


class ScriptedModel:
    """Continues a paragraph the way the base model does: new sentences, repeats and junk."""

    def __init__(self, junk: tuple[str, ...] = (), sentences_per_call: int = 3) -> None:
        self.junk = list(junk)
        self.n = sentences_per_call
        self.i = 0
        self.parts: list[str] = []

    def __call__(self, request: ChatRequest) -> str:
        self.parts.append(_part(request))
        out = ""
        for k in range(self.n):
            out += fresh_sentence(self.i)
            self.i += 1
            if k == 0 and self.junk:
                out += self.junk.pop(0)
        if self.i > 3:
            out += fresh_sentence(self.i - 3)  # the model repeats itself
        return out + "\n下面是另一段，不应出现。"


def _ctx(backend: FakeBackend, **fields) -> TaskContext:
    return TaskContext(client=Client(backend), **fields)


def test_plan_draft_builds_the_outline_and_cleans_drafts() -> None:
    model = ScriptedModel(junk=(
        "今年全县完成投资1000万元。",  # a figure the brief does not give
        "xx同志作了重要讲话。",  # a placeholder
        "赵建军书记强调要加强领导。",  # an invented person
        "要统筹发展和安全，统筹发展和安全，统筹发展和安全，守住底线。",  # a loop inside a sentence
    ))
    backend = FakeBackend(model)
    # The cleaning of drafts (not grounding: tests/test_adapt_grounding.py) is tested here.
    result = run_task("adapt", {**BRIEF, "strategy": "plan-draft", "material": False}, _ctx(backend))
    speech = result.output
    assert speech["title"] == "在全县安全生产工作会议上的讲话"
    assert speech["salutation"] == "同志们："
    assert [s["heading"] for s in speech["sections"]] == ["一、压实安全生产责任", "二、深入开展隐患排查整治"]
    assert speech["opening"].startswith("今天，我们在这里召开全县安全生产工作会议。")
    assert speech["sections"][0]["paragraphs"][0].startswith("压实安全生产责任，")
    assert speech["closing"].startswith("同志们，让我们") and speech["closing"].endswith("谢谢大家！")
    text = result.text
    for junk in ("1000万元", "xx同志", "赵建军", "下面是另一段"):
        assert junk not in text
    assert text.count("统筹发展和安全") == 1
    # every sentence appears once, though the model repeated itself
    sentences = [s for s in re.split(r"(?<=[。！？])", text) if len(s) > 6]
    assert len(sentences) == len(set(sentences))
    checks = result.checks
    assert checks["structure"]["passed"] and checks["placeholders"]["passed"] and checks["facts"]["passed"]
    assert checks["cleaning"]["facts"] >= 2 and checks["cleaning"]["placeholders"] == 1
    assert checks["repetition"]["removed"] > 0
    assert "1000万元" in checks["cleaning"]["facts_flagged"]
    # drafting order and the shared prefix: every call starts with the same example text
    assert model.parts[0] == "opening" and model.parts[-1] in ("closing", "opening", "压实安全生产责任", "深入开展隐患排查整治")
    prefixes = {r.messages[0].content for r in backend.requests}
    assert len(prefixes) == 1
    assert all(r.stop == DRAFT_STOPS and r.max_tokens <= 360 and r.repeat_penalty > 1 for r in backend.requests)
    meta = result.metadata
    assert meta["strategy"] == "plan-draft" and meta["prompt"]["id"] == "adapt/section"
    assert meta["examples"] and meta["usage"]["calls"] == len(backend.requests)
    assert meta["backend"] == "fake" and meta["duration"] >= 0


def test_plan_draft_reports_progress_per_part_and_paragraph() -> None:
    events: list = []
    result = run_task("adapt", {**BRIEF, "strategy": "plan-draft"},
                      _ctx(FakeBackend(ScriptedModel()), progress=events.append))
    drafted = [e for e in events if e.stage == "draft"]
    # each part announced once (no text), in outline order, then its paragraphs as they are kept
    starts = [(e.part, e.label, e.done, e.total) for e in drafted if not e.text]
    assert starts == [("opening", "开场白", 0, 4), ("section-1", "第一部分", 1, 4),
                      ("section-2", "第二部分", 2, 4), ("closing", "结束语", 3, 4)]
    paragraphs = [e for e in drafted if e.text]
    assert {e.part for e in paragraphs} == {"opening", "section-1", "section-2", "closing"}
    assert all(e.label == dict(s[:2] for s in starts)[e.part] for e in paragraphs)
    # a kept paragraph is clean text that the speech goes on to use (before the length repairs)
    assert all("下面是另一段" not in e.text for e in paragraphs)
    assert sum(e.text in result.text for e in paragraphs) >= len(paragraphs) // 2
    assert events[-1].stage == "check" and any(e.stage == "repair" for e in events)


def test_plan_draft_length_within_tolerance_and_bounded_calls() -> None:
    backend = FakeBackend(ScriptedModel(sentences_per_call=2))
    result = run_task("adapt", {**BRIEF, "strategy": "plan-draft"}, _ctx(backend))
    # FakeBackend always writes the same eight sentences: once said, they are removed, so the
    # speech can only get as long as what is new; the check must say so honestly.
    length = result.checks["length"]
    assert length["zishu"] == count_zi("".join(
        t for k, t in Speech.model_validate(result.output).blocks() if k != "title"
    ))
    assert len(backend.requests) <= 40
    assert length["passed"] == (abs(length["ratio"] - 1) <= 0.15)


def test_long_drafts_are_trimmed_to_the_target() -> None:
    counter = iter(range(10_000))

    def endless(request: ChatRequest) -> str:
        # always new sentences, far more than asked for
        return "".join(f"要落实第{next(counter)}项工作要求，确保各项措施落地见效。" for _ in range(12))

    brief = {**BRIEF, "facts": [], "length": 400}
    result = run_task("adapt", {**brief, "strategy": "plan-draft"},
                      _ctx(FakeBackend(endless)))
    # 第N项 is an ordinal the brief does not give: those sentences all go; nothing is left to keep
    assert result.checks["facts"]["passed"]
    assert not re.search(r"第\d", "".join(p for s in result.output["sections"] for p in s["paragraphs"]))

    sentences = iter(range(10_000))

    def fresh(request: ChatRequest) -> str:
        return "".join(fresh_sentence(next(sentences)) for _ in range(12))

    result = run_task("adapt", {**brief, "strategy": "plan-draft"}, _ctx(FakeBackend(fresh)))
    assert result.checks["length"]["passed"], result.checks["length"]
    assert 340 <= result.output["zishu"] <= 460


def test_useless_drafts_fail_the_length_check_after_bounded_repairs() -> None:
    def terse(request: ChatRequest) -> str:
        return "好。"

    # Without material to fall back on (with it, tests/test_adapt_grounding.py).
    result = run_task("adapt", {**BRIEF, "strategy": "plan-draft", "material": False}, _ctx(FakeBackend(terse)))
    length = result.checks["length"]
    # nothing usable came back: the check fails honestly and the repair was bounded
    assert not length["passed"] and not result.ok
    assert len(length["repairs"]) <= MAX_REPAIR_ROUNDS


def _draft(n_sections: int = 2, opening: str = "今天，我们召开全县安全生产工作会议，部署今年的安全生产工作。",
           extra: str = "") -> dict:
    sections = [
        {"heading": f"{'一二三'[i]}、{BRIEF['points'][i % 2]}",
         "paragraphs": ["".join(fresh_sentence(i * 8 + k) for k in range(4)) + extra,
                        "".join(fresh_sentence(i * 8 + 4 + k) for k in range(4))]}
        for i in range(n_sections)
    ]
    return {
        "title": "关于安全生产的讲话", "salutation": "同志们：", "opening": opening,
        "sections": sections, "closing": "同志们，让我们齐心协力，确保全县安全生产形势持续稳定。谢谢大家！",
    }


def _draft_json(n_sections: int = 2, **kw) -> str:
    return json.dumps(_draft(n_sections, **kw), ensure_ascii=False)


def _zi(reply: str) -> int:
    """字数 of the speech a one-call reply becomes (the length a brief should ask for)."""
    from pipeline.speech import SpeechDraft

    return SpeechDraft.model_validate_json(reply).to_speech().zishu


def test_one_call_validates_the_outline_and_reasks() -> None:
    backend = FakeBackend([_draft_json(n_sections=1), _draft_json()])
    result = run_task("adapt", {**BRIEF, "length": _zi(_draft_json()), "strategy": "one-call"}, _ctx(backend))
    assert len(backend.requests) == 2
    reask = backend.requests[1].messages[-1].content
    assert "sections 应有2个" in reask
    assert backend.requests[0].json_schema is not None
    speech = result.output
    # the pipeline's title, 称呼 and numbered headings win over the model's
    assert speech["title"] == "在全县安全生产工作会议上的讲话"
    assert [s["heading"] for s in speech["sections"]] == ["一、压实安全生产责任", "二、深入开展隐患排查整治"]
    assert result.metadata["strategy"] == "one-call" and result.metadata["usage"]["reasks"] == 1
    user = backend.requests[0].messages[1].content
    assert "二、深入开展隐患排查整治" in user and "范文1：" in user
    assert not has_placeholder(user, ALL)


def test_one_call_gives_up_with_a_clear_error() -> None:
    backend = FakeBackend(["不是JSON"] * 3)
    with pytest.raises(ValidationFailed, match="did not match SpeechDraft"):
        run_task("adapt", {**BRIEF, "strategy": "one-call"}, _ctx(backend))


def test_fact_guard_flags_and_strict_facts_masks() -> None:
    reply = _draft_json(extra="今年已投入资金1000万元，排查隐患85%以上。")
    backend = FakeBackend([reply])
    brief = {**BRIEF, "length": _zi(reply)}
    result = run_task("adapt", {**brief, "strategy": "one-call"}, _ctx(backend))
    facts = result.checks["facts"]
    assert not facts["passed"] and "1000万元" in facts["flagged"] and "85%以上" in facts["flagged"]
    assert not result.ok
    strict = run_task("adapt", {**brief, "strategy": "one-call", "strict_facts": True},
                      _ctx(FakeBackend([reply])))
    assert strict.checks["facts"]["passed"] and strict.checks["facts"]["replaced_with_xx"] == 2
    assert "XX万元" in strict.text and "XX%" in strict.text and "1000" not in strict.text
    assert strict.checks["placeholders"]["passed"]  # XX written on purpose is not a leak


def test_facts_in_the_brief_are_allowed() -> None:
    reply = _draft_json(extra="今年已投入资金1000万元。")
    brief = {**BRIEF, "facts": ["1000万元"], "length": _zi(reply)}
    result = run_task("adapt", {**brief, "strategy": "one-call"}, _ctx(FakeBackend([reply])))
    assert result.checks["facts"]["passed"] and "1000万元" in result.text


def test_placeholder_leak_in_a_reply_is_removed() -> None:
    reply = _draft_json(opening="今天，我们在aa市召开会议。这次会议很重要，是一次动员会。")
    result = run_task("adapt", {**BRIEF, "length": _zi(reply), "strategy": "one-call"},
                      _ctx(FakeBackend([reply])))
    assert result.checks["placeholders"]["passed"]
    assert result.checks["placeholders"]["removed"] == ["aa"]
    assert "aa" not in result.text and "这次会议很重要" in result.text


def test_dry_run_calls_no_model_and_shows_the_prompt() -> None:
    backend = FakeBackend([])
    result = run_task("adapt", {**BRIEF, "strategy": "plan-draft"},
                      TaskContext(client=Client(backend), dry_run=True))
    assert backend.requests == []
    meta = result.metadata
    assert meta["dry_run"] and meta["examples"] and len(meta["requests"]) == 4
    first = meta["requests"][0]
    assert first["messages"][0]["tokens"] == len(first["messages"][0]["content"])  # FakeBackend: 1/char
    assert first["prompt_tokens"] > 0 and "target_zi" in first
    assert "=== draft:opening" in result.text and "下面是县长在全县安全生产工作会议上的讲话的开头" in result.text
    one = run_task("adapt", {**BRIEF, "strategy": "one-call", "examples": "seed-05"},
                   TaskContext(client=Client(backend), dry_run=True))
    assert one.metadata["examples"] == ["seed-05"] and "范文1：" in one.text and backend.requests == []


def test_strategy_by_backend_and_override() -> None:
    assert default_strategy("local") == "plan-draft"
    assert default_strategy("openai") == "one-call"
    with pytest.raises(InputError, match="unknown strategy"):
        run_task("adapt", {**BRIEF, "strategy": "magic"}, _ctx(FakeBackend([])))


def test_batch_route() -> None:
    ctx = TaskContext(client=None)
    call = adapt_task.batch_request(AdaptInput(**BRIEF), ctx)
    assert call.request.json_schema is not None and call.prompt.id == "adapt"
    result = adapt_task.batch_finish(AdaptInput(**BRIEF), _draft_json(), ctx)
    assert result.output["sections"][1]["heading"] == "二、深入开展隐患排查整治"
    assert "length" in result.checks and result.metadata["strategy"] == "one-call"
    with pytest.raises(ValidationFailed):
        adapt_task.batch_finish(AdaptInput(**BRIEF), _draft_json(n_sections=3), ctx)


def test_cleaner_rules() -> None:
    from pipeline.tasks.adapt.brief import make_brief
    from pipeline.tasks.adapt.outline import Cleaner

    brief = make_brief({"occasion": "全县安全生产工作会议", "speaker": "县长", "points": ["压实责任"]})
    cleaner = Cleaner(brief, unsupported=unsupported_fn(brief), off_topic_terms={"文明"}, unit="县")
    # cut at the last full sentence when the token limit hit; self-reference fixed (我局 → 我县)
    assert cleaner.clean("我局要压实责任，确保安全。还有一句没写", complete=False) == "我县要压实责任，确保安全。"
    # a loop inside a sentence keeps each clause once
    assert cleaner.clean("要统筹发展和安全，统筹发展和安全，统筹发展和安全，守住底线。") == "要统筹发展和安全，守住底线。"
    # an example's topic, a counted slogan, a prompt echo and a list mark
    assert cleaner.clean("要创建文明单位。要落实“四个强”要求。下面是讲话的一段。（二）要加强监管，不留死角。") == "要加强监管，不留死角。"
    # said before (also: a paraphrase-free near copy)
    assert cleaner.clean("我县要压实责任，确保安全。") == ""
    assert cleaner.clean("我局“小动作”取得成效，本市场主体活跃。") == "我县“小动作”取得成效，本市场主体活跃。"
    assert cleaner.stats.off_topic == 1 and cleaner.stats.facts == 1 and cleaner.stats.repeated >= 2


def test_cleaner_drops_a_third_sentence_on_the_same_run_with_another_opening() -> None:
    from pipeline.tasks.adapt.brief import make_brief
    from pipeline.tasks.adapt.outline import Cleaner

    brief = make_brief({"occasion": "秋季开学典礼", "speaker": "校长", "points": ["强健体魄"]})
    cleaner = Cleaner(brief, unsupported=unsupported_fn(brief))
    # What the embedded model wrote under 强健体魄, each clause with other first words.
    drafted = ("同时，要促进健康教育和健康管理。通过加强健康教育和健康管理，让更多的人拥有强健体魄。"
               "特别是要加强健康教育和健康管理。要进一步加强健康教育和健康管理。")
    assert cleaner.clean(drafted) == "同时，要促进健康教育和健康管理。通过加强健康教育和健康管理，让更多的人拥有强健体魄。"
    # A point is said in its heading, its lead and its sentences: that is not a loop.
    brief = make_brief({"occasion": "全县安全生产工作会议", "speaker": "县长", "points": ["深入开展隐患排查整治"]})
    cleaner = Cleaner(brief, unsupported=unsupported_fn(brief))
    for said in ("各乡镇要深入开展隐患排查整治，不留死角。", "深入开展隐患排查整治，关键在于压实责任。",
                 "今年要继续深入开展隐患排查整治，做到立查立改。"):
        assert cleaner.clean(said) == said


def test_a_dropped_sentence_does_not_count_as_said() -> None:
    from pipeline.tasks.adapt.brief import make_brief
    from pipeline.tasks.adapt.outline import Cleaner

    brief = make_brief({"occasion": "秋季开学典礼", "speaker": "校长", "points": ["强健体魄"]})
    cleaner = Cleaner(brief, unsupported=unsupported_fn(brief))
    said = [cleaner.clean(s) for s in (
        "强健体魄，是同学们成长成才的基础。", "强健体魄，要从每天坚持锻炼做起。",
        "强健体魄，要加强健康教育和健康管理。",  # a third sentence opening with the point: dropped
        "学校要加强健康教育和健康管理，开足开齐体育课。",  # so this is the run's first saying,
        "各个班级都要把健康教育和健康管理落到实处。",  # this its second (kept),
        "家庭也要配合做好健康教育和健康管理。",  # and this its third (dropped)
    )]
    assert [bool(s) for s in said] == [True, True, False, True, True, False]


def test_renumber_enumerations() -> None:
    from pipeline.tasks.adapt.outline import renumber

    assert renumber(["一是全面检查。二是科学管理。", "四是安全保障。要严格。六是要督促，二是要加强。第三，要做好。",
                     "统一思想是关键。", "七是要查隐患。八是要抓整改。九是要强考核。十是要重宣传。要收尾。"]) == [
        "一是全面检查。二是科学管理。", "三是安全保障。要严格。四是要督促，五是要加强。第一，要做好。",
        "统一思想是关键。", "六是要查隐患。七是要抓整改。八是要强考核。要收尾。",  # a ninth item is a loop
    ]
    # 首先/其次 and 第三/第四 in one part are one list; 首先/其次/最后 alone stays as written
    assert renumber(["首先，要落实责任。其次，要加强检查。", "第三，要强化考核。第四，要严肃问责。"]) == [
        "第一，要落实责任。第二，要加强检查。", "第三，要强化考核。第四，要严肃问责。"]
    assert renumber(["首先，要落实责任。其次，要加强检查。最后，要严肃问责。"]) == [
        "首先，要落实责任。其次，要加强检查。最后，要严肃问责。"]


def test_outline_for_guests_has_no_transition_and_fits_the_budget() -> None:
    from pipeline.tasks.adapt.brief import make_brief
    from pipeline.tasks.adapt.outline import plan

    guests = plan(make_brief({"occasion": "数字经济发展论坛", "audience": "各位来宾、企业家朋友", "speaker": "副市长",
                              "points": ["基础", "生态"], "length": 1000, "place": "南昌"}))
    assert guests.salutation == "尊敬的各位领导、各位来宾：" and guests.transition == ""
    assert guests.parts[0].leads[0] == (
        "今天，我们相聚南昌，共同出席数字经济发展论坛。首先，我代表市人民政府，对各位领导、各位来宾的到来表示热烈欢迎！"
    )
    assert guests.parts[-1].leads[0] == "最后，预祝"
    total = sum(p.target for p in guests.parts)
    assert 880 <= total <= 1000
    cadres = plan(make_brief({"occasion": "全县安全生产工作会议", "speaker": "县长", "points": ["a", "b"]}))
    assert cadres.transition == "下面，我讲几点意见。" and cadres.parts[0].leads[0].startswith("今天，我们在这里召开")


def _prefill(request: ChatRequest) -> str:
    return request.messages[-1].content


def test_drafting_continues_short_paragraphs_and_uses_each_lead_once() -> None:
    sentences = iter(range(10_000))

    def model(request: ChatRequest) -> str | tuple[str, str]:
        if "隐患排查" in _prefill(request) and _prefill(request).endswith("同时，要"):
            # loops: cut off mid-sentence; that paragraph must not be continued
            return fresh_sentence(next(sentences)) + "要加强", "length"
        return fresh_sentence(next(sentences))  # one short sentence (~25 字) per call

    backend = FakeBackend(model)
    # the lead mechanics, without grounding (whose rejections re-try the first lead by design)
    result = run_task("adapt", {**BRIEF, "strategy": "plan-draft", "material": False}, _ctx(backend))
    assert result.checks["structure"]["passed"]
    section = [r for r in backend.requests if "主题是“压实安全生产责任”" in _prefill(r)]
    tails = [_prefill(r).rsplit("\n", 1)[-1] for r in section]
    # a new paragraph starts on a lead of its own; a short one is continued (the prompt ends
    # with its own last sentence, no line break), and every lead opens one paragraph at most
    leads = ["压实安全生产责任，", "各乡镇、各部门要", "同时，要", "此外，还要", "特别是要", "要进一步"]
    assert tails[0] == leads[0]
    assert any(t.endswith("。") and len(t) > 20 for t in tails), tails
    opened = [t for t in tails if t in leads]
    assert len(opened) == len(set(opened)) >= 2
    assert all(r.min_tokens == DRAFT_MIN_TOKENS and r.stop == DRAFT_STOPS for r in backend.requests)
    # after the cut-off reply the next call starts a new paragraph instead of continuing it
    second = [r for r in backend.requests if "主题是“深入开展隐患排查整治”" in _prefill(r)]
    after_cut = [i for i, r in enumerate(second) if _prefill(r).endswith("同时，要")]
    if after_cut and after_cut[0] + 1 < len(second):
        nxt = _prefill(second[after_cut[0] + 1]).rsplit("\n", 1)[-1]
        assert nxt in leads, nxt
    # the unfinished sentence of the cut-off reply is not kept
    assert not any("要加强" in p for s in result.output["sections"] for p in s["paragraphs"])


def test_cleaner_keeps_two_sentences_opening_with_the_point_not_four() -> None:
    from pipeline.tasks.adapt.brief import make_brief
    from pipeline.tasks.adapt.outline import Cleaner

    brief = make_brief({"occasion": "八一建军节退役军人座谈会", "speaker": "区长", "points": ["致以节日问候"]})
    cleaner = Cleaner(brief, unsupported=unsupported_fn(brief))
    kept = cleaner.clean("致以节日问候，是向广大退役军人表达敬意的最好方式。致以节日问候，是我们对广大退役军人和军属的深情致敬。"
                         "致以节日问候，也是弘扬尊崇军人的良好风尚。要在节日期间广泛宣传退役军人的先进事迹。")
    assert kept.count("致以节日问候，") == 2 and "先进事迹" in kept
