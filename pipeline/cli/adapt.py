"""`speechsmith adapt`: write a new speech from a brief, in the house style of the corpus."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pipeline.cli.common import CorpusOpt, Format, TaskCommand, info, task_command

HELP = """Write a speech (讲话稿) for a new occasion from a brief: title, a 称呼 that fits the
audience, opening, one numbered section per --point, closing, about --length 字, in the style of
the closest speeches of your corpus (chosen automatically; see --examples).

Give the brief as flags or as a YAML/JSON file (--brief); flags override the file:

\b
  occasion: 全县安全生产工作会议
  speaker: 县长
  audience: 各乡镇、县直各部门负责同志
  points: [压实安全生产责任, 深入开展隐患排查整治]
  length: 1500
  facts: [2025年, 较大事故3起]     # the only figures, dates and names the speech may state

Strategies: one-call (the whole speech as JSON in one call; for capable OpenAI-compatible
models) or plan-draft (the pipeline builds the outline and the model drafts it part by part;
for the embedded base model). Default: by backend.

Checks, reported in the JSON output (--strict: exit 1 when one fails): length within ±15%
(repaired by expanding or trimming the weakest part), every point a section, a 称呼 fitting the
audience, no placeholders (xx, 20xx年, aa市), no figures, dates or names the brief does not give
(--strict-facts replaces them with XX), no repeated sentences, and the `speechsmith check` rules.

Examples:

\b
  speechsmith adapt --occasion 全县安全生产工作会议 --speaker 县长 \\
      --audience "各乡镇、县直各部门负责同志" --point 压实安全生产责任 \\
      --point 深入开展隐患排查整治 --length 1500 -o 讲话.docx
  speechsmith adapt --brief brief.yaml --format md
  speechsmith adapt --brief brief.yaml --examples 2 --dry-run
  speechsmith adapt --brief brief.yaml --base-url http://127.0.0.1:8000/v1 \\
      --model qwen2.5 --strict -o 讲话.json
"""


def register(app: typer.Typer) -> None:
    """Add this module's commands to the main app."""
    app.command("adapt", help=HELP)(adapt)


@task_command()
def adapt(
    occasion: Annotated[str | None, typer.Option("--occasion", help="场合, e.g. 全县安全生产工作会议.")] = None,
    speaker: Annotated[str | None, typer.Option("--speaker", help="讲话人, e.g. 县长.")] = None,
    audience: Annotated[str | None, typer.Option("--audience", help="听众; decides the 称呼 (同志们： / 尊敬的各位领导、各位来宾：).")] = None,
    point: Annotated[list[str] | None, typer.Option("--point", "-p", help="A point, one section each; repeat in order.")] = None,
    length: Annotated[int | None, typer.Option("--length", "-l", help="Target length in 字 (default 1500).")] = None,
    tone: Annotated[str | None, typer.Option("--tone", help="语气, e.g. 严肃有力 / 热情洋溢.")] = None,
    date: Annotated[str | None, typer.Option("--date", help="Date of the speech, e.g. 2025年3月1日.")] = None,
    place: Annotated[str | None, typer.Option("--place", help="Place, e.g. 县政府三楼会议室.")] = None,
    fact: Annotated[list[str] | None, typer.Option("--fact", help="A figure, date or name the speech may state; repeat.")] = None,
    genre: Annotated[str | None, typer.Option("--genre", help="体裁, e.g. 动员讲话 / 欢迎致辞 (helps choose examples).")] = None,
    salutation: Annotated[str | None, typer.Option("--salutation", help="称呼 to use instead of the derived one.")] = None,
    brief: Annotated[Path | None, typer.Option("--brief", "-b", help="YAML or JSON brief file (fields as the flags).")] = None,
    examples: Annotated[str | None, typer.Option("--examples", help="How many corpus examples (2), or which (id1,id2). 0 = none.")] = None,
    strategy: Annotated[str | None, typer.Option("--strategy", help="one-call or plan-draft. Default: one-call for openai, plan-draft for local.")] = None,
    strict_facts: Annotated[bool, typer.Option("--strict-facts", help="Replace figures, dates and names not in the brief with XX.")] = False,
    material: Annotated[bool, typer.Option("--material/--no-material", help="Draft from the material bank (素材库, see `corpus search`): on-topic sentences for each point; --format md lists them as notes.")] = True,
    seed: Annotated[int, typer.Option("--seed", help="Sampling seed (same seed, same draft on the local model).")] = 0,
    corpus: CorpusOpt = None,
    *,
    cmd: TaskCommand,
) -> None:
    from pipeline.errors import CheckFailed
    from pipeline.render.speech import render_speech_result
    from pipeline.tasks.adapt import AdaptInput, run

    if strategy is not None and strategy not in ("one-call", "plan-draft"):
        raise typer.BadParameter(f"unknown strategy {strategy!r}: use one-call or plan-draft", param_hint="--strategy")
    if occasion is None and brief is None:
        raise typer.BadParameter("give --occasion and --point (or a --brief file)", param_hint="--occasion")
    out_format = cmd.choose_format((Format.text, Format.md, Format.json, Format.docx), brief)
    if cmd.dry_run and out_format is Format.docx:
        out_format = cmd.out_format = Format.text  # a dry run shows prompts, there is no speech to lay out
    inp = AdaptInput(
        occasion=occasion, speaker=speaker, audience=audience, points=point or None, length=length,
        tone=tone, date=date, place=place, facts=fact or None, genre=genre, salutation=salutation,
        brief=str(brief) if brief else None, examples=examples, strategy=strategy,
        strict_facts=strict_facts, seed=seed, material=material,
    )
    result = cmd.run(run, inp, "adapt", corpus_dir=corpus)
    if cmd.dry_run:
        cmd.emit_dry_run(result)
        return
    cmd.emit(render_speech_result(result, out_format.value))
    failed = [name for name, c in result.checks.items() if isinstance(c, dict) and not c.get("passed", True)]
    if failed:
        info(f"speechsmith: adapt: check(s) failed: {', '.join(failed)} (details in --format json)")
        # the points the 素材库 had nothing for: the sections the writer should write or supply
        names = (result.checks.get("grounding") or {}).get("unsupported_points")
        if names:
            info(f"speechsmith: adapt: the 素材库 has nothing on {'、'.join(names)}: write those sections "
                 "yourself, or add your own material (speechsmith corpus add) and draft again")
        thin = (result.checks.get("grounding") or {}).get("thin_points")
        if "length" in failed and thin:
            info(f"speechsmith: adapt: the 素材库 has little on {'、'.join(thin)}, so the speech is short there: "
                 "add your own material (speechsmith corpus add) or ask for a shorter --length")
        if cmd.strict:
            raise CheckFailed(f"adapt: check(s) failed: {', '.join(failed)}")
    elif cmd.model.verbose:
        speech = result.output
        info(f"speechsmith: adapt: {speech.get('zishu')} 字, about {speech.get('minutes')} min; "
             f"examples {', '.join(result.metadata.get('examples', [])) or 'none'}")
