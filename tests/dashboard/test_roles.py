"""Roles are defined once: every access check in the web layer names a group of ``dashboard.roles``."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import dashboard
from dashboard import roles

DASHBOARD = Path(dashboard.__file__).parent
GROUPS = {name: value for name, value in vars(roles).items() if name.isupper() and isinstance(value, tuple)}
ROLE_NAMES = set(roles.ROLES)


def _offences(source: str) -> list[str]:
    """Access checks in ``source`` that spell roles out instead of naming a group: a role check
    (``require``, ``page_user``) given anything but ``roles.<GROUP>``, or a user's role compared with a string."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("require", "page_user"):
            if not all(isinstance(arg, ast.Attribute) and getattr(arg.value, "id", None) == "roles"
                       for arg in node.args):
                found.append((node.lineno, ast.unparse(node)))
        elif isinstance(node, ast.Compare) and getattr(node.left, "attr", None) == "role":
            spelled = [c for c in ast.walk(node) if isinstance(c, ast.Constant) and isinstance(c.value, str)]
            if spelled:
                found.append((node.lineno, ast.unparse(node)))
    return [f"line {line}: {text}" for line, text in sorted(found)]


@pytest.mark.parametrize("group", sorted(GROUPS))
def test_every_group_is_made_of_known_roles(group: str) -> None:
    assert GROUPS[group] and set(GROUPS[group]) <= ROLE_NAMES


def test_no_module_of_the_web_layer_spells_a_role_out() -> None:
    offences = {str(path.relative_to(DASHBOARD)): found for path in sorted(DASHBOARD.rglob("*.py"))
                if path.name != "roles.py" and (found := _offences(path.read_text()))}
    assert offences == {}


def test_a_role_spelled_out_is_found() -> None:
    planted = ('require(("admin", "operator"))\nif user.role == "crew": pass\n'
               'page_user(roles.CREW)\nif user.role in ("admin",): pass\n')
    assert _offences(planted) == ["line 1: require(('admin', 'operator'))", "line 2: user.role == 'crew'",
                                  "line 4: user.role in ('admin',)"]
