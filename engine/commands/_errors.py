"""One error policy for every ``ratingbt`` command, and tidy ``--help`` pages.

:class:`CommandGroup` is the class of the root app and of every sub-app (``ratingbt data``). It

- turns an exception that escapes a command into one or two lines on stderr naming the command
  (``ratingbt data status: error: 'NOPE' is not a recognised symbol …``) and a non-zero exit: 2 for bad input
  (``ValueError`` and :data:`USER_ERRORS`: config, dates, symbols, missing files, bad values, providers that all
  failed), 1 for anything unexpected (with the
  exception's type, the file and line where it was raised, and a pointer to ``--debug``); 130 on Ctrl-C;
- shows the full traceback instead when ``--debug`` is given anywhere on the command line (it is a global option:
  ``ratingbt --debug run …`` and ``ratingbt run … --debug`` both work) or ``RATINGBT_DEBUG=1`` is set;
- checks every date option (``--as-of``, ``--start``, ``--end`` …) is an ISO ``YYYY-MM-DD`` date before the command
  runs (``03-02-2026`` is refused, never read as 2 March or 3 February);
- gives every option a plain metavar in ``--help``: nothing after a flag (typer 0.29 prints ``<bool>``), ``PATH``,
  ``TEXT``, ``N``, ``NUMBER``, ``YYYY-MM-DD`` for dates — never a Python type such as ``<list[Path]>``.

Imports only click/typer (``ratingbt --help`` must stay fast).
"""

from __future__ import annotations

import os
import sys
import traceback
from typing import Any, Sequence

import typer
from typer import _click as click  # typer 0.29 vendors click: its own Context, Parameter and exceptions
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption
from typer.exceptions import Abort, Exit, TyperException

__all__ = ["CommandGroup", "TidyCommand", "debug_enabled", "error_message", "USER_ERRORS"]

_DEBUG = False


def debug_enabled() -> bool:
    """True when ``--debug`` was given or ``RATINGBT_DEBUG`` is set to a true value."""
    return _DEBUG or os.environ.get("RATINGBT_DEBUG", "").strip().lower() in ("1", "true", "yes")


def _set_debug(value: bool) -> None:
    global _DEBUG
    _DEBUG = value


#: Exceptions that mean "the input or the environment is wrong" (exit 2, message only), by module and name; every
#: other exception is a bug or an unhandled input (exit 1, type and file:line, ``--debug`` for the traceback).
USER_ERRORS = (("engine.symbols", "SymbolError"), ("engine.data.load", "MissingDataError"),
               ("engine.data.chain", "AllProvidersFailed"), ("engine.data.providers.base", "ProviderError"),
               ("engine.data.cache", "CacheCorruptError"), ("engine.signals.text", "ReportReadError"))


def _user_error_types() -> tuple[type[BaseException], ...]:
    """The classes of :data:`USER_ERRORS` plus ``ValueError`` (ConfigError, DateError, pydantic's errors …) and the
    file errors; imported lazily, only when an error is being reported (a module that fails to import is skipped)."""
    import importlib

    types: list[type[BaseException]] = [ValueError, FileNotFoundError, NotADirectoryError, IsADirectoryError,
                                        PermissionError]
    for module, name in USER_ERRORS:
        try:
            types.append(getattr(importlib.import_module(module), name))
        except (ImportError, AttributeError):  # pragma: no cover - a module renamed or absent in this build
            pass
    return tuple(types)


def _text_of(exc: BaseException) -> str:
    if isinstance(exc, KeyError) and len(exc.args) == 1 and isinstance(exc.args[0], str):
        text = exc.args[0]  # str(KeyError) wraps the message in quotes
    else:
        text = str(exc)
    return text.strip() or type(exc).__name__


def _where(exc: BaseException) -> str:
    """``file.py:123`` of the innermost frame of the project (else the innermost frame) that raised ``exc``."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return ""
    ours = [f for f in frames if "/engine/" in f.filename.replace("\\", "/")
            or "/strategies/" in f.filename.replace("\\", "/")]
    frame = (ours or frames)[-1]
    path = frame.filename.replace("\\", "/")
    for marker in ("/engine/", "/strategies/"):
        if marker in path:
            path = marker.strip("/") + "/" + path.split(marker, 1)[1]
            break
    return f"{path}:{frame.lineno}"


def error_message(exc: BaseException, command: str) -> tuple[str, int]:
    """The lines printed for an exception that escaped ``command`` and the exit code (see the module docstring)."""
    if isinstance(exc, _user_error_types()):
        return f"{command}: error: {_text_of(exc)}", 2
    where = _where(exc)
    return (f"{command}: internal error: {type(exc).__name__}: {_text_of(exc)}"
            + (f" (at {where})" if where else "")
            + "\nThis is a bug or an input we do not handle yet; run again with --debug for the traceback."), 1


def _echo_error(text: str) -> None:
    try:
        from rich.console import Console
        from rich.text import Text

        Console(stderr=True, soft_wrap=True).print(Text(text, style="red"))
    except Exception:  # noqa: BLE001 - never fail while reporting a failure
        click.echo(text, err=True)


# ---- help: plain metavars ----------------------------------------------------------------------------------------

_DATE_WORDS = ("as_of", "start", "end", "date", "since", "until")


def _metavar(param: Any) -> str | None:
    """The metavar shown in ``--help`` for ``param``: ``""`` for flags, else a plain upper-case word."""
    if isinstance(param, TyperOption) and (param.is_flag or param.count):
        return ""
    name = (param.name or "").lower()
    if isinstance(param, TyperArgument):
        return name.upper() + ("..." if param.nargs != 1 else "")
    if any(word in name for word in _DATE_WORDS):
        return "YYYY-MM-DD"
    desc = param.type_descriptor
    if desc.is_choice and desc.choices:
        return "|".join(str(getattr(c, "value", c)) for c in desc.choices)
    if desc.is_path or desc.is_file:
        return "PATH"
    import typing

    annotation = desc.annotation
    if desc.is_list and typing.get_args(annotation):
        annotation = typing.get_args(annotation)[0]
    if annotation is int:
        return "N"
    if annotation is float:
        return "NUMBER"
    return "TEXT"


def _tidy(params: list[Any]) -> list[Any]:
    for param in params:
        if isinstance(param, (TyperOption, TyperArgument)) and not getattr(param, "_ratingbt_tidy", False):
            if param.metavar is None:
                param.metavar = _metavar(param)
            if isinstance(param, TyperArgument):  # its name is already the metavar (CONFIG, PATHS...)
                param.display_type_rich = lambda ctx: None  # type: ignore[method-assign]
                usage = param.metavar if param.required else f"[{param.metavar}]"
                param._usage_display_name = lambda usage=usage: usage  # typer writes {config} / {paths...}...
            param._ratingbt_tidy = True  # type: ignore[attr-defined]
    return params


class TidyCommand(TyperCommand):
    """A typer command whose ``--help`` shows plain metavars (see :func:`_metavar`) and whose date options
    (metavar ``YYYY-MM-DD``: ``--as-of``, ``--start``, ``--end`` …) accept ISO dates only, checked before the
    command runs (:func:`engine.dates.parse_iso_date`; a bad one ends with exit 2 naming the option)."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _tidy(super().get_params(ctx))

    def invoke(self, ctx: Any) -> Any:
        from engine.dates import parse_iso_date

        for param in self.get_params(ctx):
            value = ctx.params.get(param.name or "")
            if isinstance(param, TyperOption) and param.metavar == "YYYY-MM-DD" and isinstance(value, str):
                parse_iso_date(value, max(param.opts, key=len))
        return super().invoke(ctx)


# ---- the group: debug flag, error policy ------------------------------------------------------------------------

def _strip_debug(args: Sequence[str]) -> list[str]:
    """``args`` without ``--debug`` (anywhere before a ``--``); sets the debug flag when found."""
    out: list[str] = []
    passthrough = False
    for arg in args:
        if arg == "--":
            passthrough = True
        if arg == "--debug" and not passthrough:
            _set_debug(True)
            continue
        out.append(arg)
    return out


class CommandGroup(TyperGroup):
    """The root app and its sub-apps: the error policy and tidy help of the module docstring."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        for command in self.commands.values():
            if type(command) is TyperCommand:
                command.__class__ = TidyCommand  # same fields; only get_params differs
            elif type(command) is TyperGroup:
                command.__class__ = CommandGroup

    def get_params(self, ctx: Any) -> list[Any]:
        return _tidy(super().get_params(ctx))

    def main(self, args: Sequence[str] | None = None, *pos: Any, **extra: Any) -> Any:
        _set_debug(False)
        args = _strip_debug(sys.argv[1:] if args is None else list(args))
        return super().main(args, *pos, **extra)

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except (TyperException, Exit, Abort):  # usage errors, exits: typer prints them its own way
            raise
        except KeyboardInterrupt:
            if debug_enabled():
                raise
            _echo_error(f"{ctx.command_path}: interrupted")
            raise typer.Exit(130) from None
        except Exception as exc:  # noqa: BLE001 - the one place every command's errors end up
            if debug_enabled():
                raise
            command = " ".join(p for p in (ctx.command_path, ctx.invoked_subcommand) if p)
            text, code = error_message(exc, command)
            _echo_error(text)
            raise typer.Exit(code) from None
