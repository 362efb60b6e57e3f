"""Token ids of the embedded model's vocabulary that the sampling controls need: the numerals
(a list counting on is still a loop) and the tokens that end a line (banned until min_tokens).
llama_cpp and numpy are imported on first use: the module loads without them."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

__all__ = ["line_enders", "numerals", "scan_line_enders"]

_CN_DIGITS = "一二三四五六七八九"


def numerals(llm: Any) -> frozenset[int]:
    """Token ids that are a number by themselves: 一…九十九, 第一…第九十九, 0…99."""
    words = {str(n) for n in range(100)}
    for n in range(1, 100):
        tens, ones = divmod(n, 10)
        cn = ("" if tens < 2 else _CN_DIGITS[tens - 1]) + ("十" if tens else "") + (_CN_DIGITS[ones - 1] if ones else "")
        words.update({cn, f"第{cn}"})
    ids = set()
    for word in words:
        tokens = llm.tokenize(word.encode("utf-8"), add_bos=False, special=False)
        if len(tokens) == 1:
            ids.add(tokens[0])
    return frozenset(ids)


def line_enders(llm: Any, model_path: Path) -> Any:
    """Every token whose text holds a line break, and the end-of-generation tokens (Gemma: 32
    + 2 of 262k). Scanning the vocabulary takes ~0.7 s, so the ids are kept in the user cache
    dir, keyed by the model file (path, size, mtime); without a writable cache, scanned again."""
    import hashlib

    import numpy as np

    from pipeline.paths import cache_dir

    stat = model_path.stat()
    key = hashlib.sha256(f"{model_path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()[:24]
    cached = cache_dir() / "vocab" / f"{key}-line-enders.npy"
    try:
        return np.load(cached)
    except (OSError, ValueError):
        pass
    ids = scan_line_enders(llm)
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_name(f"{cached.name}.{os.getpid()}.tmp")
        with tmp.open("wb") as fh:
            np.save(fh, ids)
        os.replace(tmp, cached)
    except OSError:
        pass
    return ids


def scan_line_enders(llm: Any) -> Any:
    import ctypes

    import llama_cpp
    import numpy as np

    vocab = llama_cpp.llama_model_get_vocab(llm.model)
    buf = ctypes.create_string_buffer(256)
    ids = []
    for token in range(llama_cpp.llama_vocab_n_tokens(vocab)):
        size = llama_cpp.llama_token_to_piece(vocab, token, buf, len(buf), 0, True)
        if b"\n" in buf.raw[:max(size, 0)] or llama_cpp.llama_vocab_is_eog(vocab, token):
            ids.append(token)
    return np.array(ids, dtype=np.int64)
