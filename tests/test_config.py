"""Resolution order flags > env > config file > defaults, errors as one line, secrets masked."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.config import ModelOptions, resolve
from pipeline.errors import ConfigError
from pipeline.redact import redact

KEY = "sk-test-SECRET-123"


def _cfg(tmp_path: Path, text: str) -> dict[str, str]:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return {"SPEECHSMITH_CONFIG": str(path)}


def test_defaults_without_anything(tmp_path: Path) -> None:
    s = resolve(ModelOptions(), env={"SPEECHSMITH_CONFIG": str(tmp_path / "none.toml")})
    assert (s.backend, s.model, s.timeout, s.max_retries, s.max_reasks, s.cache) == ("local", None, 180.0, 4, 2, False)
    assert s.sources["backend"] == "auto"


def test_flags_beat_env_beat_file(tmp_path: Path) -> None:
    env = _cfg(tmp_path, 'model = "from-file"\nbase_url = "http://file/v1"\ntimeout = 5\nmax_reasks = 1\n')
    s = resolve(ModelOptions(), env=env)
    assert (s.model, s.base_url, s.timeout, s.max_reasks) == ("from-file", "http://file/v1", 5.0, 1)
    assert s.backend == "openai" and s.sources["model"] == "config"

    env |= {"OPENAI_BASE_URL": "http://openai-env/v1", "SPEECHSMITH_MODEL": "from-env", "SPEECHSMITH_TIMEOUT": "7.5"}
    s = resolve(ModelOptions(), env=env)
    assert (s.model, s.base_url, s.timeout) == ("from-env", "http://openai-env/v1", 7.5)
    assert s.sources["base_url"] == "env OPENAI_BASE_URL"

    env |= {"SPEECHSMITH_BASE_URL": "http://ss-env/v1"}  # SPEECHSMITH_* beats OPENAI_*
    assert resolve(ModelOptions(), env=env).base_url == "http://ss-env/v1"

    s = resolve(ModelOptions(model="from-flag", base_url="http://flag/v1", timeout=1.0), env=env)
    assert (s.model, s.base_url, s.timeout) == ("from-flag", "http://flag/v1", 1.0)
    assert s.sources["model"] == "flag"


def test_backend_choice(tmp_path: Path) -> None:
    none = {"SPEECHSMITH_CONFIG": str(tmp_path / "none.toml")}
    assert resolve(ModelOptions(), env=none | {"OPENAI_API_KEY": KEY}).backend == "openai"
    assert resolve(ModelOptions(), env=none | {"OPENAI_API_KEY": KEY}).model == "gpt-4o-mini"
    assert resolve(ModelOptions(model="x.gguf"), env=none | {"OPENAI_API_KEY": KEY}).backend == "local"
    s = resolve(ModelOptions(backend="local"), env=none | {"SPEECHSMITH_MODEL": "deepseek-chat"})
    assert s.backend == "local" and s.model is None  # a remote id means nothing locally
    with pytest.raises(ConfigError, match="unknown backend 'ollama'"):
        resolve(ModelOptions(), env=none | {"SPEECHSMITH_BACKEND": "ollama"})


def test_key_from_named_env_var_and_models_table(tmp_path: Path) -> None:
    env = _cfg(
        tmp_path,
        'api_key_env = "DEEPSEEK_API_KEY"\nmodel = "deepseek-chat"\n'
        '[models."deepseek-chat"]\ncontext_window = 65536\ninput_price = 0.27\noutput_price = 1.1\n',
    ) | {"DEEPSEEK_API_KEY": "sk-deepseek-SECRET-999"}
    s = resolve(ModelOptions(), env=env)
    assert s.api_key == "sk-deepseek-SECRET-999" and s.backend == "openai"
    info = s.model_info("deepseek-chat")
    assert (info.context_window, info.input_price, info.output_price) == (65536, 0.27, 1.1)
    assert s.context_window("deepseek-chat") == 65536
    assert s.context_window("qwen-plus") == 131_072 and s.context_window("unknown-model") == 32_768
    shown = str(s.show())
    assert "sk-deepseek-SECRET-999" not in shown and "set, 22 chars" in shown
    assert redact("error: sk-deepseek-SECRET-999 rejected") == "error: *** rejected"  # registered


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("model = [", "invalid TOML"),
        ("modle = 'x'", "unknown key(s) modle"),
        ("timeout = 'soon'", "timeout must be a float"),
        ("max_retries = -1", "must not be negative"),
        ("[models.x]\nprice = 1", "unknown key(s) price"),
    ],
)
def test_bad_config_is_a_clear_error(tmp_path: Path, text: str, words: str) -> None:
    with pytest.raises(ConfigError, match=words.replace("(", r"\(").replace(")", r"\)")) as info:
        resolve(ModelOptions(), env=_cfg(tmp_path, text))
    assert str(tmp_path) in str(info.value)


def test_bad_env_value(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="environment variable SPEECHSMITH_MAX_TOKENS: max_tokens must be a int"):
        resolve(ModelOptions(), env={"SPEECHSMITH_CONFIG": str(tmp_path / "x"), "SPEECHSMITH_MAX_TOKENS": "lots"})


def test_config_show_cli(tmp_path: Path) -> None:
    env = {**os.environ, **_cfg(tmp_path, 'base_url = "http://127.0.0.1:8000/v1"\n'), "OPENAI_API_KEY": KEY}
    out = subprocess.run(
        [sys.executable, "-m", "pipeline", "config", "show", "--model", "qwen-plus"],
        capture_output=True, text=True, timeout=60, env=env,
    )
    assert out.returncode == 0, out.stderr
    assert KEY not in out.stdout + out.stderr
    assert "qwen-plus" in out.stdout and "(flag)" in out.stdout and "(env OPENAI_API_KEY)" in out.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "pipeline", "config", "show"], capture_output=True, text=True, timeout=60,
        env={**env, **_cfg(tmp_path, "x = [")},
    )
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "invalid TOML" in bad.stderr
