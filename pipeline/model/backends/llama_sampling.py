"""Grammar-constrained sampling that checks the grammar on one token first, like llama.cpp's CLI.

llama-cpp-python puts the grammar sampler at the head of the chain, so the grammar is checked
against every token of the vocabulary at every step. Gemma has a 262k-token vocabulary, which
made grammar-constrained JSON 2-3x slower per token than free text. llama.cpp's own common
sampler instead samples without the grammar, checks only the chosen token against it, and
resamples with the grammar over the full vocabulary only when that token is rejected. Greedy
decoding picks exactly the same tokens either way (masking only removes candidates); sampled
decoding draws from the same constrained distribution except for the rare rejection path.

`GrammarFirstTryLlama` is a llama_cpp.Llama whose sampler does that; everything else is unchanged.
"""

from __future__ import annotations

import ctypes
from typing import Any

import llama_cpp
import numpy as np

_TOKEN_DTYPE = np.dtype([("id", np.int32), ("logit", np.float32), ("p", np.float32)], align=True)
assert _TOKEN_DTYPE.itemsize == ctypes.sizeof(llama_cpp.llama_token_data)


class _GrammarFirstTrySampler:
    def __init__(self, llm: llama_cpp.Llama, free: Any, grammar: Any) -> None:
        self._free = free  # the usual chain (penalties, top-k/p, temperature, dist) without grammar
        self._grammar = llama_cpp.llama_sampler_init_grammar(
            llm._model.vocab, grammar._grammar.encode("utf-8"), grammar._root.encode("utf-8")
        )
        if not self._grammar:
            raise ValueError("llama.cpp could not parse the grammar")
        self._n_vocab = llm.n_vocab()
        self._ids = np.arange(self._n_vocab, dtype=np.int32)
        self._all = np.zeros(self._n_vocab, dtype=_TOKEN_DTYPE)
        self._one = np.zeros(1, dtype=_TOKEN_DTYPE)

    @staticmethod
    def _view(buf: np.ndarray) -> llama_cpp.llama_token_data_array:
        return llama_cpp.llama_token_data_array(
            data=buf.ctypes.data_as(ctypes.POINTER(llama_cpp.llama_token_data)),
            size=len(buf), selected=-1, sorted=False,
        )

    def _candidates(self, logits: np.ndarray) -> llama_cpp.llama_token_data_array:
        self._all["id"] = self._ids
        self._all["logit"] = logits
        self._all["p"] = 0.0
        return self._view(self._all)

    def sample(self, ctx: Any, idx: int = -1) -> int:
        pointer = llama_cpp.llama_get_logits_ith(ctx.ctx, idx)
        logits = np.ctypeslib.as_array(pointer, shape=(self._n_vocab,))
        free = self._free.sampler

        cur = self._candidates(logits)
        llama_cpp.llama_sampler_apply(free, ctypes.byref(cur))
        token = int(cur.data[cur.selected].id)

        self._one[0] = (token, 1.0, 0.0)
        single = self._view(self._one)
        llama_cpp.llama_sampler_apply(self._grammar, ctypes.byref(single))
        if not np.isfinite(self._one[0]["logit"]):  # rejected: constrain the whole vocabulary
            cur = self._candidates(logits)
            llama_cpp.llama_sampler_apply(self._grammar, ctypes.byref(cur))
            llama_cpp.llama_sampler_apply(free, ctypes.byref(cur))
            token = int(cur.data[cur.selected].id)

        llama_cpp.llama_sampler_accept(self._grammar, token)
        llama_cpp.llama_sampler_accept(free, token)
        return token

    def accept(self, token: int) -> None:
        llama_cpp.llama_sampler_accept(self._grammar, token)
        llama_cpp.llama_sampler_accept(self._free.sampler, token)

    def reset(self) -> None:
        llama_cpp.llama_sampler_reset(self._grammar)
        llama_cpp.llama_sampler_reset(self._free.sampler)

    def close(self) -> None:
        if self._grammar:
            llama_cpp.llama_sampler_free(self._grammar)
            self._grammar = None
        self._free.close()

    def __del__(self) -> None:
        self.close()


class GrammarFirstTryLlama(llama_cpp.Llama):
    """llama_cpp.Llama with the grammar checked on the sampled token first."""

    def _init_sampler(self, *args: Any, grammar: Any = None, **kwargs: Any) -> Any:
        free = super()._init_sampler(*args, grammar=None, **kwargs)
        if grammar is None or kwargs.get("mirostat_mode") or kwargs.get("logits_processor") is not None:
            if grammar is None:
                return free
            free.close()
            return super()._init_sampler(*args, grammar=grammar, **kwargs)
        return _GrammarFirstTrySampler(self, free, grammar)
