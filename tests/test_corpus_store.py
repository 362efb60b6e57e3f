"""Corpus files: round trip, validation errors naming file and field, duplicates, user edits."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pipeline.corpus.dedup import DedupIndex
from pipeline.corpus.ingest import ingest
from pipeline.corpus.models import SpeechRecord
from pipeline.corpus.store import load_corpus, render_record, save_record
from pipeline.errors import InputError
from pipeline.text.textio import read_text

SEEDS = Path(__file__).parent / "fixtures" / "seeds"
SEED = SEEDS / "000_4c88201f79132202.txt"
REPO_CORPUS = Path(__file__).parent.parent / "corpus"


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("corpus")
    report = ingest([SEED], folder, id_prefix="seed")
    assert report.count("added") == 7
    return folder


def _copy(seeded: Path, tmp_path: Path) -> Path:
    dest = tmp_path / "corpus"
    shutil.copytree(seeded, dest)
    return dest


def test_the_shipped_corpus_is_what_ingestion_produces(seeded):
    """corpus/ in the repo holds the 7 seeds exactly as `corpus add` writes them today."""
    shipped = {r.id: r for r in load_corpus(REPO_CORPUS) if r.id.startswith("seed-")}
    fresh = {r.id: r for r in load_corpus(seeded)}
    assert sorted(shipped) == [f"seed-0{n}" for n in range(1, 8)]
    for speech_id, record in fresh.items():
        assert shipped[speech_id].model_dump() == record.model_dump(), speech_id


def test_round_trip_is_lossless(seeded, tmp_path):
    for record in load_corpus(seeded):
        save_record(tmp_path, record)
    again = load_corpus(tmp_path)
    assert [r.model_dump() for r in again] == [r.model_dump() for r in load_corpus(seeded)]
    text = (seeded / "seed-02.md").read_text(encoding="utf-8")
    assert text.startswith("---\n") and "\ngenre: 募捐动员讲话\n" in text and "\nzishu: 879\n" in text


def test_zishu_is_recounted_after_a_hand_edit(seeded, tmp_path):
    folder = _copy(seeded, tmp_path)
    path = folder / "seed-03.md"
    path.write_text(path.read_text(encoding="utf-8").replace("谢谢大家！", "谢谢大家！再见！"), encoding="utf-8")
    record = next(r for r in load_corpus(folder) if r.id == "seed-03")
    assert record.zishu == 465 + 3


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (("genre: 欢迎致辞", "genre: [欢迎致辞"), "malformed YAML front matter at line 5 (field 'genre')"),
        (("zishu: 465", "zishu: many"), "field 'zishu': Input should be a valid integer"),
        (("genre: 欢迎致辞", "genra: 欢迎致辞"), "field 'genra': not a known field"),
        (("genre: 欢迎致辞", "genre: ''"), "field 'genre': String should have at least 1 character"),
        (("id: seed-03", "id: seed-99"), "field 'id': 'seed-99' does not match the file name"),
        (("headings: []", "headings: {a: 1}"), "field 'headings': Input should be a valid list"),
        (("---\n\n尊敬的", "\n\n尊敬的"), "front matter is not closed"),
    ],
)
def test_a_broken_file_is_named_with_its_field(seeded, tmp_path, edit, expected):
    folder = _copy(seeded, tmp_path)
    path = folder / "seed-03.md"
    old, new = edit
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_corpus(folder)
    message = str(err.value)
    assert message.startswith(str(path)), message
    assert expected in message
    assert "\n" not in message


def test_a_file_without_front_matter_or_with_an_empty_body(tmp_path):
    (tmp_path / "a.md").write_text("just text\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"a\.md: no YAML front matter"):
        load_corpus(tmp_path)
    (tmp_path / "a.md").write_text("---\nid: a\ntitle: t\ngenre: g\n---\n\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"a\.md: field 'text'"):
        load_corpus(tmp_path)


def test_dedup_exact_near_and_contained():
    text = read_text(SEED)
    index = DedupIndex()
    index.add("seed", text)
    assert index.check(text).kind == "exact"
    # re-punctuated and re-wrapped: the same speech
    assert index.check(text.replace("。", "，").replace("\n\n", "\n")).kind == "exact"
    # a few sentences changed
    edited = text.replace("谢谢大家！", "谢谢！").replace("同志们：", "各位同志：") + "以上意见，请结合实际认真贯彻落实。"
    match = index.check(edited)
    assert match.kind == "near" and match.id == "seed" and "near duplicate of seed" in match.describe()
    # a trimmed copy (one speech cut out of the page)
    assert index.check(text[5000:9000]).kind == "contained"
    # a different speech is new
    other = read_text(SEEDS / "reports" / "2024年政府工作报告.txt")
    assert index.check(other) is None


def test_no_false_duplicates_among_different_reports():
    index = DedupIndex()
    for path in sorted((SEEDS / "reports").glob("*.txt")):
        assert index.check(read_text(path)) is None, path.name
        index.add(path.stem, read_text(path))


def test_update_keeps_hand_edited_labels(seeded, tmp_path):
    folder = _copy(seeded, tmp_path)
    path = folder / "seed-04.md"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("speaker: 市领导", "speaker: 市委书记"), encoding="utf-8")
    report = ingest([SEED], folder, update=True, id_prefix="seed")
    assert report.count("added") == 0 and report.count("duplicate") == 0
    statuses = {o.id: o.status for o in report.outcomes}
    assert statuses["seed-04"] in ("updated", "unchanged")
    records = {r.id: r for r in load_corpus(folder)}
    assert records["seed-04"].speaker == "市委书记"  # the user's correction survives
    assert records["seed-04"].genre == "动员大会讲话"


def test_update_refreshes_a_damaged_text_but_keeps_edits(seeded, tmp_path):
    folder = _copy(seeded, tmp_path)
    path = folder / "seed-03.md"
    text = path.read_text(encoding="utf-8").replace("genre: 欢迎致辞", "genre: 见面会致辞")
    text = text.replace("最后祝愿各位领导和同志们在彬期间工作顺利生活愉快！\n", "")
    path.write_text(text, encoding="utf-8")
    report = ingest([SEED], folder, update=True, id_prefix="seed")
    outcome = next(o for o in report.outcomes if o.id == "seed-03")
    assert outcome.status == "updated" and "kept your genre" in outcome.message
    record = next(r for r in load_corpus(folder) if r.id == "seed-03")
    assert record.genre == "见面会致辞"
    assert "在彬期间工作顺利生活愉快" in record.text


def test_hand_typed_yaml_values_are_accepted(seeded, tmp_path):
    folder = _copy(seeded, tmp_path)
    path = folder / "seed-03.md"
    text = path.read_text(encoding="utf-8")
    text = text.replace("date: null", "date: 2013-05-20").replace("placeholders: []", "placeholders: xx")
    text = text.replace("title: 在市审计组经济责任审计上的欢迎致辞", "title: 2013")
    path.write_text(text, encoding="utf-8")
    record = next(r for r in load_corpus(folder) if r.id == "seed-03")
    assert (record.date, record.placeholders, record.title) == ("2013-05-20", ["xx"], "2013")


def test_a_folder_is_ingested_file_by_file(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(SEED, src / "page.txt")
    shutil.copy(SEEDS / "reports" / "2024年政府工作报告.txt", src / "report.txt")
    (src / "notes.json").write_text("{}", encoding="utf-8")
    report = ingest([src], tmp_path / "corpus")
    assert report.count("added") == 8 and not report.failed


def test_markdown_speech_and_a_corpus_file_as_input(seeded, tmp_path):
    md = tmp_path / "讲话.md"
    md.write_text(
        "# 在全县安全生产工作会议上的讲话\n\n同志们：\n\n今天召开全县安全生产工作会议，主要任务是部署工作。\n\n"
        "## 一、提高认识\n\n**安全生产是头等大事。**各级各部门要压实责任，确保不发生重大事故。\n\n谢谢大家！\n",
        encoding="utf-8",
    )
    report = ingest([md], tmp_path / "corpus")
    record = report.outcomes[0].record
    assert record.title == "在全县安全生产工作会议上的讲话"
    assert record.headings == ["一、提高认识"] and record.salutation == "同志们："
    assert "#" not in record.text and "**" not in record.text
    # a corpus file fed back in is its own speech, not its front matter: a duplicate
    again = ingest([seeded / "seed-03.md"], seeded, dry_run=True)
    assert again.outcomes[0].status == "duplicate" and again.outcomes[0].id == "seed-03"


def test_ids_from_file_names():
    from pipeline.corpus.ingest import slug

    assert slug("000_4c88201f79132202") == "speech"
    assert slug("2024年政府工作报告") == "speech-2024"
    assert slug("anquan_shengchan_jianghua") == "anquan-shengchan-jianghua"
    assert slug("讲话") == "speech"
    assert slug("Mayor Speech 2019") == "mayor-speech-2019"


def test_record_model_rejects_extra_fields_and_bad_ids():
    with pytest.raises(ValueError):
        SpeechRecord(id="Bad Id", title="t", genre="g", text="x")
    with pytest.raises(ValueError):
        SpeechRecord(id="a", title="t", genre="g", text="x", colour="red")
    r = SpeechRecord(id="a", title="t", genre="g", text="  第一段  \n\n\n第二段\n")
    assert r.text == "第一段\n第二段" and r.paragraphs() == ["第一段", "第二段"]
    assert "第一段\n\n第二段" in render_record(r)
