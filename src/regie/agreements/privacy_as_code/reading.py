"""Reading a document: YAML or JSON text, at most :data:`MAX_BYTES`, validated whole."""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Iterable
from typing import Annotated, Any

import yaml
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


class _Loader(yaml.SafeLoader):
    """``yaml.SafeLoader`` refusing anchors and aliases (no billion laughs) and duplicate keys."""

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        event: yaml.Event = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise yaml.composer.ComposerError(
                None,
                None,
                "anchors and aliases (&name, *name) are not allowed",
                event.start_mark if isinstance(event.start_mark, yaml.error.Mark) else None,
            )
        return super().compose_node(parent, index)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[str] = set()
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                if key_node.value in seen:
                    raise yaml.constructor.ConstructorError(
                        None,
                        None,
                        f"the key {shown(key_node.value)} appears twice",
                        key_node.start_mark,
                    )
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


def _text(content: str | bytes, where: str) -> str:
    not_text = "not a text file: expected YAML or JSON in UTF-8"
    if len(content) > MAX_BYTES or (isinstance(content, str) and len(content.encode()) > MAX_BYTES):
        raise refusal(where, f"the file is larger than {MAX_BYTES // 1024} KiB")
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
        raise refusal(where, "the file is empty")
    return content


def _load(content: str | bytes, where: str) -> object:
    text = _text(content, where)
    try:
        if text.lstrip().startswith(("{", "[")):
            try:
                return json.loads(text, object_pairs_hook=_unique_pairs)
            except json.JSONDecodeError as error:
                raise refusal(
                    f"{where}, line {error.lineno}, column {error.colno}",
                    f"invalid JSON: {error.msg}",
                ) from None
            except _DuplicateKey as error:
                raise refusal(where, f"the key {shown(error.args[0])} appears twice") from None
        loader = _Loader(text)
        try:
            return loader.get_single_data()
        except yaml.MarkedYAMLError as error:
            mark = error.problem_mark or error.context_mark
            at = f"{where}, line {mark.line + 1}, column {mark.column + 1}" if mark else where
            problem = error.problem or error.context or "not valid YAML"
            raise refusal(at, f"invalid YAML: {problem[:120]}") from None
        except yaml.YAMLError:
            raise refusal(where, "invalid YAML") from None
        finally:
            loader.dispose()
    except RecursionError:
        raise refusal(where, "the document is nested too deeply") from None


def parse(content: str | bytes, *, name: str) -> AgreementDocument:
    """Read and validate a ``regie-agreement/1`` document (YAML or JSON) named ``name``."""
    where = short_key(name) or "document"
    data = _load(content, where)
    if not isinstance(data, dict):
        raise refusal(
            where, f"expected a mapping of keys and values, starting with format: {FORMAT}"
        )
    if "format" not in data:
        raise refusal("format", f"missing: a document starts with format: {FORMAT}")
    if data["format"] != FORMAT:
        raise refusal("format", f"unsupported format: this version of regie reads {FORMAT}")
    try:
        document = AgreementDocument.model_validate(data)
    except ValidationError as error:
        raise DocumentRefused(_problems(error)) from None
    problems = cross_check(document)
    if problems:
        raise DocumentRefused(problems)
    return document


_TYPES = {
    "string_type": "expected text",
    "int_type": "expected a whole number",
    "list_type": "expected a list",
    "model_type": "expected a mapping of keys and values",
    "model_attributes_type": "expected a mapping of keys and values",
    "dict_type": "expected a mapping of keys and values",
    "date_type": "expected a date as YYYY-MM-DD",
    "missing": "missing: this key is required",
}


def _problems(error: ValidationError) -> list[Problem]:
    problems = []
    for item in error.errors(include_url=False):
        loc, kind, value = item["loc"], item["type"], item.get("input")
        context = item.get("ctx") or {}
        if kind == "rule":
            field = context.get("field") or ""
            path = path_of(loc) + (f".{field}" if field else "")
            problems.append(Problem(path, str(context["reason"])))
            continue
        reason = _TYPES.get(kind, item["msg"])
        if kind == "extra_forbidden":
            allowed = _allowed_keys(loc[:-1])
            reason = "unknown key" + (
                f"; the keys here are {', '.join(allowed)}" if allowed else ""
            )
        elif kind == "string_type" and isinstance(value, (int, float, bool)):
            reason += ", found a number or yes/no: put the value in quotes"
        elif kind.endswith("_type") and value is None:
            reason += ", found nothing (null)"
        elif kind == "int_type" and isinstance(value, str):
            reason += ", found text"
        problems.append(Problem(path_of(loc), reason))
    return problems


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
