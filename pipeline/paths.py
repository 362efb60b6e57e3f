"""Default locations: the corpus and prompts that ship with the project, and per-user dirs."""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_cache_dir, user_config_dir, user_data_dir

APP = "speechsmith"
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _shipped(name: str) -> Path:
    here = PROJECT_ROOT / name
    return here if here.is_dir() else Path(user_data_dir(APP)) / name


def corpus_dir(override: str | Path | None = None) -> Path:
    """--corpus, else SPEECHSMITH_CORPUS, else the corpus/ shipped beside the package."""
    if override:
        return Path(override)
    env = os.environ.get("SPEECHSMITH_CORPUS")
    return Path(env) if env else _shipped("corpus")


def prompts_dir(override: str | Path | None = None) -> Path:
    """--prompts, else SPEECHSMITH_PROMPTS, else the prompts/ shipped beside the package."""
    if override:
        return Path(override)
    env = os.environ.get("SPEECHSMITH_PROMPTS")
    return Path(env) if env else _shipped("prompts")


def data_dir() -> Path:
    """Run log, response cache: SPEECHSMITH_DATA_DIR or the user data dir."""
    env = os.environ.get("SPEECHSMITH_DATA_DIR")
    path = Path(env) if env else Path(user_data_dir(APP))
    path.mkdir(parents=True, exist_ok=True)
    return path


def cache_dir() -> Path:
    """Indexes, vocab scans, cached responses: SPEECHSMITH_CACHE_DIR or the user cache dir. Not
    created here: everything in it is a speed-up, and each writer creates its folder and goes on
    without it when it cannot (a read-only or full disk)."""
    env = os.environ.get("SPEECHSMITH_CACHE_DIR")
    return Path(env) if env else Path(user_cache_dir(APP))


def config_file() -> Path:
    env = os.environ.get("SPEECHSMITH_CONFIG")
    return Path(env) if env else Path(user_config_dir(APP)) / "config.toml"
