"""Natural-language rendering in Jinja2's sandbox.

Templates come from untrusted spec files, so they render in `SandboxedEnvironment`
(no attribute tricks, no access to Python internals) with a few safe filters.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from synth.expr.concrete import number_word, ordinal


class RenderError(ValueError):
    """A template failed to compile or render."""


def _join(items: Any, sep: str = ", ", last: str | None = None) -> str:
    items = [str(i) for i in items]
    if last is None or len(items) < 2:
        return sep.join(items)
    return sep.join(items[:-1]) + last + items[-1]


def _article(word: Any) -> str:
    text = str(word)
    return ("an " if text[:1].lower() in "aeiou" else "a ") + text


@lru_cache(maxsize=1)
def environment() -> SandboxedEnvironment:
    env = SandboxedEnvironment(
        undefined=StrictUndefined,
        autoescape=False,
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        ordinal=ordinal,
        words=number_word,
        cap=lambda t: str(t)[:1].upper() + str(t)[1:],
        join_and=lambda i: _join(i, ", ", " and "),
        join_or=lambda i: _join(i, ", ", " or "),
        article=_article,
    )
    env.globals.update(ordinal=ordinal, number_word=number_word)
    return env


@lru_cache(maxsize=4096)
def _compile(source: str) -> Any:
    try:
        return environment().from_string(source)
    except TemplateError as error:
        raise RenderError(f"template error: {error}") from None


def render(source: str, values: Mapping[str, Any]) -> str:
    """Render one template with `values`; raise RenderError with the cause."""
    try:
        return _compile(source).render(**values).strip()
    except RenderError:
        raise
    except Exception as error:  # noqa: BLE001 - jinja raises many types, incl. SecurityError
        raise RenderError(
            f"{type(error).__name__} while rendering {source[:60]!r}: {error}"
        ) from None


def check_template(source: str) -> None:
    """Compile without rendering (used by `validate`)."""
    _compile(source)
