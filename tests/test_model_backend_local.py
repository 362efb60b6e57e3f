"""The embedded backend with the real Gemma 3 270M (short generations only)."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest
from pydantic import BaseModel, Field

from pipeline.errors import BudgetExceeded, InputError
from pipeline.model.backends.local import LocalBackend, render_prompt
from pipeline.model.client import Client
from pipeline.model.types import ChatRequest, Message

pytestmark = pytest.mark.model

EXAMPLE = (
    "各位同志：今天我们召开全县安全生产工作会议，主要任务是深入贯彻落实上级关于安全生产的决策部署，"
    "总结去年工作，分析当前形势，部署今年任务。刚才，几位同志作了很好的发言，我都同意。"
)


class Outline(BaseModel):
    title: str = Field(max_length=30)
    points: list[str] = Field(min_length=1, max_length=3)


def test_render_prompt_is_plain_text_with_the_prefill_last() -> None:
    request = ChatRequest(
        (Message("system", "下面是讲话稿。"), Message("user", EXAMPLE), Message("assistant", "同志们：")),
    )
    assert render_prompt(request) == f"下面是讲话稿。\n\n{EXAMPLE}\n\n同志们："


def test_grammar_constrained_schema_always_validates(local_client: Client) -> None:
    request = ChatRequest(
        # room for a title and three points (the grammar bounds their number, not their length:
        # at 64 tokens a third point of 20 字 was cut off, which says nothing about the grammar)
        (Message("user", EXAMPLE + "\n\n这篇讲话的标题和要点（JSON）："),),
        max_tokens=160, temperature=0.0,
    )
    outline = local_client.structured(request, Outline, max_reasks=0)
    assert isinstance(outline, Outline) and 1 <= len(outline.points) <= 3


def test_completion_continues_the_prefill(local_backend: LocalBackend) -> None:
    request = ChatRequest((Message("user", EXAMPLE), Message("assistant", "同志们，")), max_tokens=12, temperature=0.0)
    response = local_backend.complete(request)
    assert response.text and not response.text.startswith("同志们，")
    assert response.usage.prompt_tokens == local_backend.count_request(request)
    assert response.usage.completion_tokens <= 12
    assert response.finish_reason in ("stop", "length")


def test_shared_prefix_is_read_once(local_backend: LocalBackend) -> None:
    import llama_cpp

    llm = local_backend.llm
    first = ChatRequest((Message("user", EXAMPLE * 5), Message("user", "主题：压实安全生产责任")), max_tokens=2, temperature=0.0)
    second = ChatRequest((Message("user", EXAMPLE * 5), Message("user", "主题：隐患排查整治")), max_tokens=2, temperature=0.0)
    local_backend.complete(first)
    llama_cpp.llama_perf_context_reset(llm.ctx)
    local_backend.complete(second)
    evaluated = llama_cpp.llama_perf_context(llm.ctx).n_p_eval
    total = local_backend.count_request(second)
    assert total > 250 and evaluated < 30  # only the differing tail was read again


def test_count_tokens_uses_the_gemma_tokenizer(local_backend: LocalBackend) -> None:
    from pipeline.model.tokens import count_tokens as cl100k

    gemma = local_backend.count_tokens(EXAMPLE)
    assert 0 < gemma < cl100k(EXAMPLE)  # Gemma packs Chinese tighter (~0.66/字 vs ~1.17/字)
    assert local_backend.count_tokens("") == 0


def test_one_model_load_per_process(local_backend: LocalBackend) -> None:
    other = LocalBackend(local_backend.path, n_ctx=local_backend.context_window, n_threads=local_backend.n_threads)
    assert other.llm is local_backend.llm


def test_context_overflow_is_refused_with_numbers(local_backend: LocalBackend) -> None:
    client = Client(local_backend)
    request = ChatRequest((Message("user", EXAMPLE * 250),), max_tokens=64)
    with pytest.raises(BudgetExceeded, match=r"request needs \d+ prompt \+ 64 output tokens .* 8192-token context"):
        client.chat(request)


def test_bad_model_files_are_input_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="model file not found"):
        LocalBackend(tmp_path / "missing.gguf")
    junk = tmp_path / "junk.gguf"
    junk.write_bytes(b"not a gguf at all" * 10)
    with pytest.raises(InputError, match="cannot load model"):
        _ = LocalBackend(junk).llm


def test_preload_loads_once_in_the_background_and_a_failure_waits_for_the_first_use(tmp_path: Path) -> None:
    import threading

    backend = LocalBackend(n_ctx=1536)  # its own context size: a load of its own
    backend.preload()
    backend.preload()  # a second call starts nothing
    assert sum(t.name == "speechsmith-model-load" for t in threading.enumerate()) <= 1
    llm = backend.llm  # waits for the background load instead of loading again
    assert llm is backend.llm and backend.threads_in_use is not None
    junk = tmp_path / "junk.gguf"
    junk.write_bytes(b"not a gguf at all" * 10)
    broken = LocalBackend(junk)
    broken.preload()  # fails quietly in its thread...
    with pytest.raises(InputError, match="cannot load model"):
        _ = broken.llm  # ...and the first real use says why


def test_stderr_stays_open_while_the_model_loads_in_the_background(tmp_path: Path) -> None:
    # llama-cpp-python points fds 1 and 2 at /dev/null during a load, for every thread: an error
    # printed meanwhile by the main thread was lost (a silent exit 2).
    import subprocess
    import sys

    script = (
        "import sys, time\n"
        "from pipeline.model.backends.local import LocalBackend\n"
        "b = LocalBackend(n_ctx=1280)\n"
        "b.preload()\n"
        "for i in range(40):\n"
        "    print(f'line {i}', file=sys.stderr); print(f'out {i}'); time.sleep(0.05)\n"
        "b.llm\n"
    )
    p = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                       cwd=Path(__file__).resolve().parent.parent)
    assert p.returncode == 0, p.stderr
    assert [x for x in p.stderr.splitlines() if x.startswith("line ")] == [f"line {i}" for i in range(40)]
    assert [x for x in p.stdout.splitlines() if x.startswith("out ")] == [f"out {i}" for i in range(40)]


def test_fast_grammar_sampler_matches_llama_cpp_greedy(local_backend: LocalBackend) -> None:
    import json

    import llama_cpp

    llm = local_backend.llm
    grammar = llama_cpp.LlamaGrammar.from_json_schema(json.dumps(Outline.model_json_schema()), verbose=False)
    prompt = EXAMPLE + "\n\n标题和要点（JSON）："

    def run() -> str:
        llm.reset()
        return llm.create_completion(prompt, max_tokens=12, temperature=0.0, grammar=grammar)["choices"][0]["text"]

    ours = run()
    llm._init_sampler = functools.partial(llama_cpp.Llama._init_sampler, llm)  # llama-cpp's own chain
    try:
        reference = run()
    finally:
        del llm._init_sampler
    assert ours == reference and ours.startswith("{")


def test_unconvertible_schema_falls_back_to_any_json(local_backend: LocalBackend) -> None:
    from llama_cpp.llama_grammar import JSON_GBNF

    broken = {"type": "object", "properties": {"a": {"$ref": "#/nowhere"}}}
    assert local_backend._grammar(broken)._grammar == JSON_GBNF
    assert local_backend._grammar(Outline.model_json_schema())._grammar != JSON_GBNF


def test_a_loop_stops_the_generation(local_backend: LocalBackend) -> None:
    # Greedy decoding after a list that repeats itself: the model goes on repeating. It must be
    # stopped within a few tokens (reported as cut off), not run to max_tokens.
    prefill = "一是要加强安全生产管理。二是要加强安全生产管理。三是要加强安全生产管理。四是"
    request = ChatRequest((Message("user", EXAMPLE), Message("assistant", prefill)), max_tokens=120,
                          temperature=0.0, repeat_penalty=1.0)
    response = local_backend.complete(request)
    assert response.finish_reason == "length"
    assert response.usage.completion_tokens < 40, response.text


def test_min_tokens_holds_back_the_line_break(local_backend: LocalBackend) -> None:
    # After a finished line the model's first choice is another line break, which with a "\n"
    # stop ends the reply at once; min_tokens makes it write on first.
    base = ChatRequest((Message("user", EXAMPLE), Message("assistant", "同志们：\n")), max_tokens=30,
                       temperature=0.0, stop=("\n",))
    held = ChatRequest(**{**base.__dict__, "min_tokens": 12})
    assert local_backend.complete(held).usage.completion_tokens >= 12
    assert "min_tokens" not in base.to_dict() and held.to_dict()["min_tokens"] == 12
    assert ChatRequest.from_dict(held.to_dict()) == held and base.key("local", "m") != held.key("local", "m")


def test_line_break_tokens_are_cached_per_model_file(local_backend: LocalBackend) -> None:
    from pipeline.model.backends.llama_vocab import line_enders, scan_line_enders
    from pipeline.paths import cache_dir

    scanned = scan_line_enders(local_backend.llm)
    assert len(scanned) >= 2 and local_backend.count_tokens("\n") == 1
    first = line_enders(local_backend.llm, local_backend.path)
    files = list((cache_dir() / "vocab").glob("*-line-enders.npy"))
    assert len(files) == 1 and list(first) == list(scanned)
    files[0].write_bytes(b"not numpy")  # a damaged cache is scanned again and rewritten
    assert list(line_enders(local_backend.llm, local_backend.path)) == list(scanned)
    assert files[0].read_bytes().startswith(b"\x93NUMPY")
