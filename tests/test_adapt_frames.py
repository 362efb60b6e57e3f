"""Set-phrase openings and closings (pipeline/tasks/adapt/frames.py, prompts/adapt/frames.yaml):
filled from the brief, sized to the part, and used instead of the model in grounded drafting."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.errors import InputError
from pipeline.model.backends.fake import FakeBackend
from pipeline.model.client import Client
from pipeline.paths import PROJECT_ROOT
from pipeline.tasks import TaskContext, run_task
from pipeline.tasks.adapt.brief import make_brief
from pipeline.tasks.adapt.frames import frame_paragraphs, load_frames, topic_of
from pipeline.text.hanzi import count_zi

FRAMES = load_frames(PROJECT_ROOT / "prompts")
SAFETY = {"occasion": "全县安全生产工作会议", "speaker": "县长", "audience": "各乡镇、县直各部门负责同志",
          "points": ["压实安全生产责任", "深入开展隐患排查整治"]}


def test_topic_is_the_occasion_without_level_and_format():
    assert topic_of("全县安全生产工作会议") == "安全生产"
    assert topic_of("全市优化营商环境推进会") == "优化营商环境"


def test_frames_fit_the_audience_and_fill_the_brief():
    cadres = make_brief(SAFETY)
    opening = frame_paragraphs("opening", cadres, FRAMES)[0]
    closing = frame_paragraphs("closing", cadres, FRAMES)[0]
    assert "安全生产" in opening and "全县" in closing and "各乡镇、各部门" in closing
    assert "{" not in opening + closing
    school = make_brief({"occasion": "秋季开学典礼", "speaker": "校长", "audience": "全体师生", "points": ["勤学"]})
    assert "我代表学校" in frame_paragraphs("opening", school, FRAMES)[0]
    assert "同学们" in frame_paragraphs("closing", school, FRAMES)[0]
    guests = make_brief({"occasion": "招商引资项目推介会", "speaker": "副市长", "audience": "各位来宾、企业家朋友",
                         "points": ["区位"]})
    assert frame_paragraphs("closing", guests, FRAMES)[0].endswith("万事如意！")


def test_a_small_budget_keeps_the_first_opening_line_and_the_last_closing_line():
    brief = make_brief(SAFETY)
    opening = frame_paragraphs("opening", brief, FRAMES, budget=40)[0]
    closing = frame_paragraphs("closing", brief, FRAMES, budget=40)[0]
    assert opening.startswith("这次会议的主要任务是") and count_zi(opening) < 60
    assert closing.startswith("让我们") and closing.endswith("贡献！")


def test_a_line_with_a_slot_the_brief_cannot_fill_is_left_out(tmp_path: Path):
    (tmp_path / "adapt").mkdir()
    (tmp_path / "adapt" / "frames.yaml").write_text(
        "cadres:\n  opening: ['我代表{host}讲话。', '做好{topic}工作。']\n", encoding="utf-8")
    brief = make_brief({**SAFETY, "speaker": "同志"})  # no known host
    assert frame_paragraphs("opening", brief, load_frames(tmp_path)) == ["做好安全生产工作。"]


@pytest.mark.parametrize("text", ["cadres: [unclosed\n", "cadres:\n  middle: [x]\n", "- a list\n"])
def test_malformed_frames_are_a_one_line_input_error(tmp_path: Path, text: str):
    (tmp_path / "adapt").mkdir()
    (tmp_path / "adapt" / "frames.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_frames(tmp_path)
    assert "frames.yaml" in str(err.value) and "\n" not in str(err.value)


def test_grounded_drafting_asks_the_model_for_the_sections_only():
    backend = FakeBackend(lambda request: "要严格落实安全生产责任制，坚决遏制重特大事故发生。")
    result = run_task("adapt", {**SAFETY, "length": 800, "strategy": "plan-draft"},
                      TaskContext(client=Client(backend)))
    steps = {r.messages[-1].content.split("\n", 1)[0] for r in backend.requests}
    assert all("开头" not in s and "结尾" not in s for s in steps), steps
    speech = result.output
    assert speech["opening"].startswith("今天，我们在这里召开全县安全生产工作会议。这次会议的主要任务是")
    assert "让我们" in speech["closing"]
