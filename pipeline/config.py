"""Model settings: what the user asked for (flags) and how the gaps are filled.

Resolution order: flags > environment (SPEECHSMITH_*, then OPENAI_*) > config file (TOML in the
user config dir, or $SPEECHSMITH_CONFIG) > defaults. `resolve()` returns a `Settings` that also
remembers where each value came from, for `speechsmith config show`.

Config file (all keys optional):

    backend = "openai"                  # local | openai (default: openai when a URL or key is set)
    base_url = "https://api.deepseek.com/v1"
    model = "deepseek-chat"
    api_key_env = "DEEPSEEK_API_KEY"    # read the key from this variable (preferred)
    # api_key = "sk-…"                  # allowed; keep the file private (chmod 600)
    timeout = 180                       # seconds per HTTP request (long drafts are slow)
    max_retries = 4                     # transport retries per call (429, 5xx, timeouts, drops)
    max_reasks = 2                      # re-asks per structured call when the reply is invalid
    prefill = "fold"                    # fold | assistant: how a reply prefix reaches a chat API
    structured = "auto"                 # auto | json_schema | json_object | prompt (see below)
    system = "auto"                     # auto | keep | fold: system messages on servers that drop them
    context = 8192                      # local: context size; remote: the window (beats the server's)
    threads = 2                         # local: CPU threads (default: the free cores, re-checked per call)
    cache = false                       # reuse identical earlier responses
    max_cost = 1.0                      # per command, in the currency of the prices below
    max_tokens = 200000                 # per command
    log = true                          # keep the SQLite run log
    serve_token = "…"                   # `speechsmith serve`: the access token (or SPEECHSMITH_SERVE_TOKEN)

    [models."deepseek-chat"]
    context_window = 65536
    input_price = 0.27                  # per million prompt tokens
    output_price = 1.10                 # per million completion tokens
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from pipeline.errors import ConfigError
from pipeline.model.backends.endpoint import STRUCTURED, SYSTEM_MODES
from pipeline.paths import config_file
from pipeline.redact import mask, redact, register_secret


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
    context: int | None = None  # local: context size; remote: the window
    threads: int | None = None  # local: CPU threads
    structured: str | None = None  # auto | json_schema | json_object | prompt
    verbose: bool = False


@dataclass(frozen=True)
class ModelInfo:
    """What we know about one model: its window and prices (per million tokens)."""

    context_window: int | None = None
    input_price: float = 0.0
    output_price: float = 0.0


# Known windows so that the pre-send check works without configuration; prices are left to the
# config file because they change and differ per provider.
_KNOWN_WINDOWS = (
    ("gpt-4.1", 1_047_576),
    ("gpt-4o", 128_000),
    ("gpt-4-turbo", 128_000),
    ("gpt-3.5-turbo", 16_385),
    ("o1", 200_000),
    ("o3", 200_000),
    ("o4", 200_000),
    ("gpt-5", 400_000),
    ("deepseek", 65_536),
    ("qwen-long", 1_000_000),
    ("qwen", 131_072),
    ("glm-4", 128_000),
    ("moonshot-v1-8k", 8_192),
    ("moonshot-v1-32k", 32_768),
    ("moonshot-v1-128k", 131_072),
)
DEFAULT_REMOTE_WINDOW = 32_768
DEFAULT_REMOTE_MODEL = "gpt-4o-mini"
DEFAULT_LOCAL_CONTEXT = 8192


@dataclass
class Settings:
    """The effective configuration of one command."""

    backend: str = "local"
    model: str | None = None
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    timeout: float = 180.0
    max_retries: int = 4
    max_reasks: int = 2
    prefill: str = "fold"
    structured: str = "auto"
    system: str = "auto"
    context: int | None = None
    threads: int | None = None
    cache: bool = False
    max_cost: float | None = None
    max_tokens: int | None = None
    log: bool = True
    verbose: bool = False
    models: dict[str, ModelInfo] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)  # key -> "flag" | "env NAME" | "config" | "default"
    config_path: Path | None = None

    def model_info(self, model: str) -> ModelInfo:
        """Configured info for `model`, else the longest known prefix for its window."""
        info = self.models.get(model, ModelInfo())
        if info.context_window is None:
            lowered = model.lower().rsplit("/", 1)[-1]
            window = next((w for prefix, w in _KNOWN_WINDOWS if lowered.startswith(prefix)), None)
            info = ModelInfo(window, info.input_price, info.output_price)
        return info

    def context_window(self, model: str) -> int:
        """Remote window: --context/SPEECHSMITH_CONTEXT beats the model table beats the default."""
        return self.explicit_window(model) or self.model_info(model).context_window or DEFAULT_REMOTE_WINDOW

    def explicit_window(self, model: str) -> int | None:
        """The window the user set (--context, env, config, [models] table), which beats what a
        server states; None when only the built-in table or the default would say."""
        if self.context:
            return self.context
        return self.models.get(model, ModelInfo()).context_window

    def show(self) -> dict[str, Any]:
        """The settings as printable data, secrets masked, with each value's source."""
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.name in ("models", "sources", "config_path"):
                continue
            value = getattr(self, f.name)
            if f.name == "api_key":
                value = mask(value)
            out[f.name] = {"value": value, "source": self.sources.get(f.name, "default")}
        out["config_file"] = str(self.config_path) if self.config_path else None
        out["models"] = {
            name: {k: v for k, v in vars(info).items() if v is not None} for name, info in self.models.items()
        }
        return out


# key -> (type, env vars in priority order)
_KEYS: dict[str, tuple[type, tuple[str, ...]]] = {
    "backend": (str, ("SPEECHSMITH_BACKEND",)),
    "model": (str, ("SPEECHSMITH_MODEL",)),
    "base_url": (str, ("SPEECHSMITH_BASE_URL", "OPENAI_BASE_URL")),
    "api_key": (str, ("SPEECHSMITH_API_KEY", "OPENAI_API_KEY")),
    "timeout": (float, ("SPEECHSMITH_TIMEOUT",)),
    "max_retries": (int, ("SPEECHSMITH_MAX_RETRIES",)),
    "max_reasks": (int, ("SPEECHSMITH_MAX_REASKS",)),
    "prefill": (str, ("SPEECHSMITH_PREFILL",)),
    "structured": (str, ("SPEECHSMITH_STRUCTURED",)),
    "system": (str, ("SPEECHSMITH_SYSTEM",)),
    "context": (int, ("SPEECHSMITH_CONTEXT",)),
    "threads": (int, ("SPEECHSMITH_THREADS",)),
    "cache": (bool, ("SPEECHSMITH_CACHE",)),
    "max_cost": (float, ("SPEECHSMITH_MAX_COST",)),
    "max_tokens": (int, ("SPEECHSMITH_MAX_TOKENS",)),
    "log": (bool, ("SPEECHSMITH_LOG",)),
}
_FILE_ONLY = {"api_key_env", "models", "currency", "serve_token"}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _coerce(key: str, value: Any, where: str) -> Any:
    kind = _KEYS[key][0]
    try:
        if kind is bool:
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in _TRUE:
                return True
            if text in _FALSE:
                return False
            raise ValueError(value)
        if kind is int and isinstance(value, float):
            raise ValueError(value)
        result = kind(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: {key} must be a {kind.__name__}, got {value!r}") from None
    if kind in (int, float) and result < 0:
        raise ConfigError(f"{where}: {key} must not be negative, got {value!r}")
    return result


def load_config_file(path: Path | None = None) -> dict[str, Any]:
    """The TOML config as a dict ({} when the file does not exist); ConfigError names the fault."""
    path = path or config_file()
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    unknown = sorted(set(data) - set(_KEYS) - _FILE_ONLY)
    if unknown:
        raise ConfigError(f"{path}: unknown key(s) {', '.join(unknown)}; see `speechsmith config show --help`")
    return data


def _models(data: dict[str, Any], path: Path) -> dict[str, ModelInfo]:
    table = data.get("models", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [models] must be a table of model names")
    out: dict[str, ModelInfo] = {}
    for name, spec in table.items():
        if not isinstance(spec, dict):
            raise ConfigError(f"{path}: [models.{name!r}] must be a table")
        bad = sorted(set(spec) - {"context_window", "input_price", "output_price"})
        if bad:
            raise ConfigError(f"{path}: [models.{name!r}]: unknown key(s) {', '.join(bad)}")
        try:
            window = spec.get("context_window")
            out[name] = ModelInfo(
                int(window) if window is not None else None,
                float(spec.get("input_price", 0.0)),
                float(spec.get("output_price", 0.0)),
            )
        except (TypeError, ValueError):
            raise ConfigError(f"{path}: [models.{name!r}]: numbers expected") from None
    return out


def resolve(options: ModelOptions | None = None, *, env: dict[str, str] | None = None) -> Settings:
    """Fill `options` from the environment, the config file and defaults."""
    options = options or ModelOptions()
    env = os.environ if env is None else env
    path = Path(env["SPEECHSMITH_CONFIG"]) if env.get("SPEECHSMITH_CONFIG") else config_file()
    data = load_config_file(path)
    settings = Settings(config_path=path, models=_models(data, path))

    flags = {
        "backend": options.backend, "model": options.model, "base_url": options.base_url,
        "api_key": options.api_key, "timeout": options.timeout, "context": options.context,
        "threads": options.threads, "max_cost": options.max_cost, "max_tokens": options.max_tokens,
        "structured": options.structured,
        "cache": options.cache or None, "verbose": options.verbose or None,
    }
    for key, (_kind, env_vars) in _KEYS.items():
        value, source = None, None
        if flags.get(key) is not None:
            value, source = flags[key], "flag"
        else:
            for var in env_vars:
                if env.get(var, "") != "":
                    value, source = _coerce(key, env[var], f"environment variable {var}"), f"env {var}"
                    break
        if value is None and key == "api_key" and data.get("api_key_env"):
            var = str(data["api_key_env"])
            if env.get(var):
                value, source = env[var], f"env {var} (api_key_env)"
        if value is None and key in data:
            value, source = _coerce(key, data[key], str(path)), "config"
        if value is not None:
            setattr(settings, key, value)
            settings.sources[key] = source or "default"
    if options.verbose:
        settings.verbose = True
        settings.sources["verbose"] = "flag"

    register_secret(settings.api_key)
    if settings.backend is None or "backend" not in settings.sources:
        settings.backend = _auto_backend(settings)
        settings.sources["backend"] = "auto"
    if settings.backend not in ("local", "openai"):
        raise ConfigError(f"unknown backend {settings.backend!r} ({settings.sources['backend']}): use local or openai")
    if settings.base_url:
        _check_url(settings.base_url, settings.sources.get("base_url", "config"))
    if settings.prefill not in ("fold", "assistant"):
        raise ConfigError(f"prefill must be fold or assistant, got {settings.prefill!r}")
    for key, allowed in (("structured", STRUCTURED), ("system", SYSTEM_MODES)):
        if getattr(settings, key) not in allowed:
            raise ConfigError(
                f"{key} must be one of {', '.join(allowed)}, got {getattr(settings, key)!r} "
                f"({settings.sources.get(key, 'default')})"
            )
    if (
        settings.backend == "local" and settings.model and settings.sources.get("model") != "flag"
        and not settings.model.lower().endswith(".gguf")
    ):
        # A remote model id from the env or config file means nothing to the local backend.
        settings.model = None
        settings.sources["model"] = "default (remote model id ignored by the local backend)"
    if settings.backend == "openai" and not settings.model:
        settings.model = DEFAULT_REMOTE_MODEL
        settings.sources["model"] = "default"
    return settings


def _check_url(url: str, source: str) -> None:
    # A typo here would otherwise cost a full round of transport retries before failing.
    from urllib.parse import urlparse

    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ConfigError(
            f"base URL {redact(url)!r} ({source}) is not an http(s) URL; "
            "expected e.g. http://127.0.0.1:8000/v1"
        )


def _auto_backend(settings: Settings) -> str:
    # A GGUF path means the embedded runtime even when a key happens to be in the environment.
    if settings.model and settings.model.lower().endswith(".gguf"):
        return "local"
    return "openai" if (settings.base_url or settings.api_key) else "local"


def serve_token(*, env: dict[str, str] | None = None) -> str | None:
    """The web page's access token: SPEECHSMITH_SERVE_TOKEN, else `serve_token` in the config file."""
    env = os.environ if env is None else env
    if env.get("SPEECHSMITH_SERVE_TOKEN"):
        return env["SPEECHSMITH_SERVE_TOKEN"]
    path = Path(env["SPEECHSMITH_CONFIG"]) if env.get("SPEECHSMITH_CONFIG") else config_file()
    value = load_config_file(path).get("serve_token")
    return str(value) if value else None
