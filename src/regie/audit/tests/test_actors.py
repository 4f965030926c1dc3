"""Who did it: every audit actor comes from the helpers in ``audit.services``, never a hand-made
string, so the forms stay the ones the log has always held."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User

from regie.audit.services import (
    ANONYMOUS,
    SYSTEM,
    actor_for,
    client_actor,
    nv_client_actor,
)

PACKAGE = Path(settings.BASE_DIR) / "src" / "regie"
HELPERS = PACKAGE / "audit" / "services.py"


class Thing:
    def __init__(self, pk: int) -> None:
        self.pk = pk


def test_the_helpers_give_the_forms_the_log_holds() -> None:
    assert SYSTEM == "system"
    assert ANONYMOUS == "anonymous"
    assert actor_for(None) == "system"
    assert actor_for(User(pk=42)) == "user:42"
    assert client_actor(Thing(7)) == "client:7"
    assert nv_client_actor("00000001000000000001") == "nv-client:00000001000000000001"


def test_a_visitor_who_is_not_logged_in_is_anonymous_not_a_user() -> None:
    assert actor_for(AnonymousUser()) == ANONYMOUS  # was "user:None" when made by hand


def hand_made(node: ast.AST | None) -> bool:
    """Whether ``node`` holds a string literal or an f-string anywhere."""
    if node is None:
        return False
    return any(
        isinstance(item, ast.JoinedStr)
        or (isinstance(item, ast.Constant) and isinstance(item.value, str))
        for item in ast.walk(node)
    )


def assigned(function: ast.AST, name: str) -> Iterator[ast.AST]:
    """What ``function`` assigns to the local ``name``."""
    for node in ast.walk(function):
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets = [node.target]
        else:
            continue
        if any(isinstance(target, ast.Name) and target.id == name for target in targets):
            yield node.value or ast.Constant(None)


def actor_expressions(tree: ast.AST) -> Iterator[ast.AST]:
    """The places an actor is made: the second argument of ``record(...)`` (and what the function
    assigns to it, when it is a local name), every ``actor=`` argument, defaults of parameters
    named ``actor``, and what a function named ``*actor`` returns."""
    functions = [node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)]
    for function in functions:
        for node in ast.walk(function):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            actors = [keyword.value for keyword in node.keywords if keyword.arg == "actor"]
            if name == "record" and len(node.args) > 1:
                actors.append(node.args[1])
            for actor in actors:
                yield actor
                if isinstance(actor, ast.Name):
                    yield from assigned(function, actor.id)
        arguments = [*function.args.posonlyargs, *function.args.args]
        with_defaults = arguments[len(arguments) - len(function.args.defaults) :]
        defaults = zip(with_defaults, function.args.defaults, strict=True)
        kw_defaults = zip(function.args.kwonlyargs, function.args.kw_defaults, strict=True)
        for argument, default in [*defaults, *kw_defaults]:
            if argument.arg == "actor" and default is not None:
                yield default
        if function.name == "actor" or function.name.endswith("_actor"):
            yield from (
                item.value
                for item in ast.walk(function)
                if isinstance(item, ast.Return) and item.value is not None
            )


def test_no_module_makes_an_actor_by_hand() -> None:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if path == HELPERS or "tests" in relative.parts or "migrations" in relative.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for expression in actor_expressions(tree):
            if hand_made(expression):
                found.append(f"{relative}:{getattr(expression, 'lineno', '?')}")
    assert found == [], "use the actor helpers of regie.audit.services"
