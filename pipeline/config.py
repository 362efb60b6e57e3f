"""Model settings as the user asked for them (flags), before resolution.

Resolution order: flags > environment (SPEECHSMITH_*, OPENAI_*) > config file (TOML in the user
config dir) > defaults. `resolve()` (owned by the model layer) fills the gaps.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ModelOptions:
    backend: str | None = None  # "local" | "openai" | None (auto: openai if a key or URL is set)
    model: str | None = None  # a model id, or a GGUF path for the local backend
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)  # never from a flag; never printed
    timeout: float | None = None
    cache: bool = False
    max_cost: float | None = None
    max_tokens: int | None = None  # cap on total tokens for the whole command
    context: int | None = None  # local: context size
    threads: int | None = None  # local: CPU threads
    verbose: bool = False
