"""Reading a document: YAML or JSON text, at most :data:`MAX_BYTES`, validated whole."""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Iterable
from typing import Annotated, Any

import yaml
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from pydantic import BaseModel, ValidationError

from .document import (
    FORMAT,
    AgreementDocument,
    DocumentRefused,
    Problem,
    cross_check,
    path_of,
    refusal,
    short_key,
    shown,
)

MAX_BYTES = 1024 * 1024


class _Refused(yaml.MarkedYAMLError):
    """A problem of the loader itself, with a translatable text (``message`` and ``params``)."""

    def __init__(self, mark: yaml.error.Mark | None, message: Promise, **params: object) -> None:
        super().__init__(problem=str(message), problem_mark=mark)
        self.message = message
        self.params = params


class _Loader(yaml.SafeLoader):
    """``yaml.SafeLoader`` refusing anchors and aliases (no billion laughs) and duplicate keys."""

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        event: yaml.Event = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise _Refused(
                event.start_mark if isinstance(event.start_mark, yaml.error.Mark) else None,
                _("ankers en aliassen (&naam, *naam) zijn niet toegestaan"),
            )
        return super().compose_node(parent, index)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[str] = set()
        for key_node, _value in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                if key_node.value in seen:
                    raise _Refused(key_node.start_mark, TWICE, key=shown(key_node.value))
                seen.add(key_node.value)
        return super().construct_mapping(node, deep=deep)


class _DuplicateKey(ValueError):
    pass


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


TWICE = _("de sleutel %(key)s staat er twee keer in")


def _text(content: str | bytes, where: str) -> str:
    not_text = _("geen tekstbestand: verwacht YAML of JSON in UTF-8")
    if len(content) > MAX_BYTES or (isinstance(content, str) and len(content.encode()) > MAX_BYTES):
        raise refusal(
            where, _("het bestand is groter dan %(size)s KiB"), {"size": MAX_BYTES // 1024}
        )
    if isinstance(content, bytes):
        if b"\x00" in content:
            raise refusal(where, not_text)
        try:
            content = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise refusal(where, not_text) from None
    content = content.removeprefix("\ufeff")
    if "\x00" in content:
        raise refusal(where, not_text)
    if not content.strip():
        raise refusal(where, _("het bestand is leeg"))
    return content


def _load(content: str | bytes, where: str) -> object:
    text = _text(content, where)
    try:
        if text.lstrip().startswith(("{", "[")):
            try:
                return json.loads(text, object_pairs_hook=_unique_pairs)
            except json.JSONDecodeError as error:
                raise refusal(
                    where,
                    _("ongeldige JSON"),
                    line=error.lineno,
                    column=error.colno,
                    detail=error.msg,
                ) from None
            except _DuplicateKey as error:
                raise refusal(where, TWICE, {"key": shown(error.args[0])}) from None
        loader = _Loader(text)
        try:
            return loader.get_single_data()
        except _Refused as error:
            mark = error.problem_mark
            raise refusal(
                where,
                error.message,
                error.params,
                line=mark.line + 1 if mark else None,
                column=mark.column + 1 if mark else None,
            ) from None
        except yaml.MarkedYAMLError as error:
            mark = error.problem_mark or error.context_mark
            problem = error.problem or error.context or ""
            raise refusal(
                where,
                _("ongeldige YAML"),
                line=mark.line + 1 if mark else None,
                column=mark.column + 1 if mark else None,
                detail=problem[:120],
            ) from None
        except yaml.YAMLError:
            raise refusal(where, _("ongeldige YAML")) from None
        finally:
            loader.dispose()
    except RecursionError:
        raise refusal(where, _("het document is te diep genest")) from None


def parse(content: str | bytes, *, name: str) -> AgreementDocument:
    """Read and validate a ``regie-agreement/1`` document (YAML or JSON) named ``name``."""
    where = short_key(name) or "document"
    data = _load(content, where)
    if not isinstance(data, dict):
        raise refusal(
            where,
            _("verwacht sleutels met waarden, te beginnen met format: %(format)s"),
            {"format": FORMAT},
        )
    if "format" not in data:
        raise refusal(
            "format", _("ontbreekt: een document begint met format: %(format)s"), {"format": FORMAT}
        )
    if data["format"] != FORMAT:
        raise refusal(
            "format",
            _("onbekend formaat: deze versie van regie leest %(format)s"),
            {"format": FORMAT},
        )
    try:
        document = AgreementDocument.model_validate(data)
    except ValidationError as error:
        raise DocumentRefused(_problems(error)) from None
    problems = cross_check(document)
    if problems:
        raise DocumentRefused(problems)
    return document


MAPPING = _("verwacht sleutels met waarden")
_TYPES: dict[str, Promise] = {
    "string_type": _("verwacht tekst"),
    "int_type": _("verwacht een heel getal"),
    "list_type": _("verwacht een lijst"),
    "model_type": MAPPING,
    "model_attributes_type": MAPPING,
    "dict_type": MAPPING,
    "date_type": _("verwacht een datum als JJJJ-MM-DD"),
    "missing": _("ontbreekt: deze sleutel is verplicht"),
}
CHOICE = _("verwacht een van deze waarden: %(expected)s")
INVALID = _("deze waarde is niet geldig")
FOUND = _("%(expected)s, %(found)s")
FOUND_NUMBER = _("er staat een getal of ja/nee: zet de waarde tussen aanhalingstekens")
FOUND_NULL = _("er staat niets (null)")
FOUND_TEXT = _("er staat tekst")


def _problems(error: ValidationError) -> list[Problem]:
    problems = []
    for item in error.errors(include_url=False):
        loc, kind, value = item["loc"], item["type"], item.get("input")
        context = item.get("ctx") or {}
        if kind == "rule":
            field = context.get("field") or ""
            path = path_of(loc) + (f".{field}" if field else "")
            problems.append(Problem(path, context["message"], context["params"]))
            continue
        message, params = _reason(kind, loc, value, context)
        problems.append(Problem(path_of(loc), message, params))
    return problems


def _reason(
    kind: str, loc: tuple[int | str, ...], value: object, context: dict[str, Any]
) -> tuple[Promise, dict[str, object]]:
    """A problem pydantic found, as a translatable text and its values."""
    if kind == "extra_forbidden":
        allowed = _allowed_keys(loc[:-1])
        if allowed:
            return _("onbekende sleutel; de sleutels hier zijn %(keys)s"), {
                "keys": ", ".join(allowed)
            }
        return _("onbekende sleutel"), {}
    if kind in ("enum", "literal_error"):
        expected = str(context.get("expected", "")).replace("' or '", "', '")
        return CHOICE, {"expected": expected}
    expected_type = _TYPES.get(kind)
    if expected_type is None:
        return INVALID, {}
    found: Promise | None = None
    if kind == "string_type" and isinstance(value, (int, float, bool)):
        found = FOUND_NUMBER
    elif kind.endswith("_type") and value is None:
        found = FOUND_NULL
    elif kind == "int_type" and isinstance(value, str):
        found = FOUND_TEXT
    if found is None:
        return expected_type, {}
    return FOUND, {"expected": expected_type, "found": found}


def _inner_model(annotation: object) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (list, typing.Union, types.UnionType, Annotated):
        for argument in typing.get_args(annotation):
            model = _inner_model(argument)
            if model is not None:
                return model
    return None


def _allowed_keys(loc: Iterable[object]) -> list[str]:
    """The keys the document may have at ``loc`` (for an "unknown key" problem)."""
    model: type[BaseModel] | None = AgreementDocument
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(str(part)) if model else None
        model = _inner_model(field.annotation) if field else None
        if model is None:
            return []
    return list(model.model_fields) if model else []
