"""The architecture checks itself: every file's imports and SQL against ``architecture.toml``.

Rules, each with its name as it appears in a failure (``path:line: rule: what``):

- ``import-arrow``: a package imports only itself and the packages ``architecture.toml`` lets it import.
- ``private-name``: no use of another package's private module or name (a leading underscore), whether imported
  or reached as an attribute of an imported name (``alarms._row``, ``getattr(alarms, "_row")``).
- ``dynamic-import``: no ``importlib.import_module`` / ``__import__`` of a project module, nor of a computed
  name (which may be one), under whatever name they are imported; no ``sys.modules`` lookup of a project
  module. Imports are static so that readers and type checkers can follow them.
- ``foreign-table``: SQL in a package names only tables it owns. A package owns the tables and views its
  ``migrations/*.sql`` create, and those its code creates. In Python, a string is SQL when it starts with a
  verb in capitals (``SELECT``, ``WITH``, ``INSERT`` …, after whitespace and comments), holds a ``(SELECT``
  subquery, or is passed to ``execute``/``executemany``/``copy``/``sql.SQL``; literal parts joined by ``+``
  count as one string, and a table is named after FROM, JOIN, INTO, UPDATE, TABLE, USING, TRUNCATE, COPY,
  REFERENCES or ON, including later items of a comma list, or in ``sql.Identifier("…")``. A migration is all
  SQL: any word in it, outside comments and quoted literals, that is another package's table is a naming.
  Either may name a table of a package it may import in a foreign key (``REFERENCES sites``).
- ``dynamic-sql``: no table name computed at run time (``f"SELECT id FROM {table}"``), whose owner cannot be
  checked.
- ``import-cycle``: the packages' imports form no cycle.

Each rule is shown failing on a planted violation, and the whole tree is checked in one test that lists every
violation at once. ``python tests/test_architecture.py`` prints the table that docs/architecture.md shows.
"""

from __future__ import annotations

import ast
import builtins
import difflib
import re
import tomllib
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "architecture.md"
TABLE_BEGIN = "<!-- begin: rendered from architecture.toml; a test checks it -->"
TABLE_END = "<!-- end: rendered from architecture.toml -->"
MIGRATIONS = "migrations/*.sql"

CREATED_RELATION = re.compile(
    r"\bCREATE\s+(?:OR\s+REPLACE\s+)?(?:UNLOGGED\s+)?(?:TABLE|VIEW|MATERIALIZED\s+VIEW)\s+(?:IF\s+NOT\s+EXISTS\s+)?"
    r"(?:public\.)?\"?(\w+)",
    re.IGNORECASE,
)
# Capitals only: "Update the devices from the registry" is a sentence, "UPDATE devices" a statement.
LOOKS_LIKE_SQL = re.compile(
    r"\A[\s(]*(?:SELECT|WITH|INSERT|UPDATE|DELETE|CREATE|ALTER|DROP|COPY|TRUNCATE|LOCK|MERGE|REFRESH|EXPLAIN)\b"
    r"|\(\s*(?:SELECT|WITH)\b"
)
SQL_COMMENT_OR_LITERAL = re.compile(r"--[^\n]*|/\*.*?\*/|'(?:[^']|'')*'", re.DOTALL)
# A relation or a placeholder ({…} from an f-string, str.format or sql.SQL; %s from %-formatting).
RELATION = r"(?:public\s*\.\s*)?(\"?\w+\"?|\{[^{}]*\}|%(?:\(\w+\))?s)"
NAMED_RELATION = re.compile(
    r"\b(FROM|JOIN|INTO|UPDATE|TABLE|USING|TRUNCATE|COPY|REFERENCES|ON)\s+"
    r"(?:(?:ONLY|LATERAL|TABLE|IF\s+(?:NOT\s+)?EXISTS)\s+)*" + RELATION,
    re.IGNORECASE,
)
VALUES_FROM_BEFORE = re.compile(r"\bDISTINCT\s+\Z", re.IGNORECASE)
VALUES_FROM_FUNCTION = re.compile(r"\b(?:EXTRACT|SUBSTRING|TRIM|OVERLAY)\s*\Z", re.IGNORECASE)
LISTING_KEYWORDS = frozenset({"FROM", "USING", "TRUNCATE", "TABLE"})
LIST_TOKEN = re.compile(r"\{[^{}]*\}|%(?:\(\w+\))?s|\"?\w+\"?|\S")
# Words after which a comma no longer separates relations. JOIN, ON and USING are not among them: in
# ``FROM a JOIN b ON a.id = b.id, c`` the comma still lists ``c``.
LIST_ENDS = frozenset({
    "WHERE", "GROUP", "ORDER", "HAVING", "LIMIT", "OFFSET", "FETCH", "WINDOW", "UNION", "INTERSECT", "EXCEPT",
    "RETURNING", "SET", "FOR", "VALUES", "SELECT", "DO", "TO", "FROM", "WITH", "INTO", ";",
})
MIGRATION_WORD = re.compile(r"(?<![\w.$])(?:(REFERENCES)\s+)?(?:public\s*\.\s*)?\"?(\w+)", re.IGNORECASE)
DYNAMIC_IMPORTERS = frozenset({"importlib.import_module", "importlib.__import__", "builtins.__import__"})
SQL_METHODS = frozenset({"execute", "executemany", "copy"})
SQL_COMPOSERS = frozenset({"psycopg.sql.SQL"})
SQL_IDENTIFIERS = frozenset({"psycopg.sql.Identifier"})
BUILTIN_NAMES = frozenset(dir(builtins))


@dataclass(frozen=True)
class Package:
    """One entry of ``architecture.toml``."""

    name: str
    job: str
    may_import: tuple[str, ...]
    may_name_any_table: bool = False
    checked: bool = True


@dataclass(frozen=True)
class Architecture:
    """The packages with their allowed arrows, and which package owns each table."""

    packages: Mapping[str, Package]
    table_owners: Mapping[str, str]

    def package_of(self, module: str) -> str | None:
        """The package a dotted module name belongs to (the longest listed prefix); ``None`` outside the project."""
        parts = module.split(".")
        for end in range(len(parts), 0, -1):
            candidate = ".".join(parts[:end])
            if candidate in self.packages:
                return candidate
        return None

    def tables_of(self, package: str) -> list[str]:
        """The tables and views ``package`` owns, sorted."""
        return sorted(table for table, owner in self.table_owners.items() if owner == package)


@dataclass(frozen=True, order=True)
class Violation:
    """A broken rule at a place in the tree."""

    path: str
    line: int
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.rule}: {self.message}"


@dataclass(frozen=True)
class ImportEdge:
    """One import statement's arrow from one package to another."""

    source: str
    target: str
    path: str
    line: int


@dataclass(frozen=True)
class SqlText:
    """A string expression's text, computed parts shown as ``{expression}``, and the line each part starts on."""

    text: str
    part_lines: tuple[tuple[int, int], ...]

    def line_at(self, offset: int) -> int:
        """The source line of a character of ``text``."""
        start, line = max((part for part in self.part_lines if part[0] <= offset), default=self.part_lines[0])
        return line + self.text.count("\n", start, offset)


def load_architecture(root: Path = ROOT) -> Architecture:
    """Read ``architecture.toml`` and derive table ownership from the packages' migrations and code."""
    data = tomllib.loads((root / "architecture.toml").read_text(encoding="utf-8"))
    packages = {
        name: Package(name=name, job=entry["job"], may_import=tuple(entry["may_import"]),
                      may_name_any_table=entry.get("may_name_any_table", False), checked=entry.get("checked", True))
        for name, entry in data["packages"].items()
    }
    architecture = Architecture(packages=packages, table_owners={})
    owners: dict[str, str] = {}
    for path in sorted(_project_files(root, architecture, MIGRATIONS)):
        owner = architecture.package_of(_module_name(path.relative_to(root)))
        for table in CREATED_RELATION.findall(path.read_text(encoding="utf-8")):
            owners[table.lower()] = owner
    # The migration runner creates its own bookkeeping tables in code. A table a migration already creates
    # keeps its owner, and the test suite, which may create anything, owns nothing.
    for path in sorted(_project_files(root, architecture, "*.py")):
        owner = architecture.package_of(_module_name(path.relative_to(root)))
        if not packages[owner].checked:
            continue
        for text in _string_literals(ast.parse(path.read_text(encoding="utf-8"))):
            for table in CREATED_RELATION.findall(text):
                owners.setdefault(table.lower(), owner)
    return Architecture(packages=packages, table_owners=owners)


def check_sources(sources: Mapping[str, str], architecture: Architecture) -> list[Violation]:
    """Every violation in ``sources`` (repository-relative path → Python source or migration), with import cycles."""
    violations: list[Violation] = []
    edges: list[ImportEdge] = []
    for path, source in sources.items():
        if path.endswith(".sql"):
            violations += check_migration(source, path, architecture)
            continue
        found, module_edges = check_module(source, path, architecture)
        violations += found
        edges += module_edges
    return sorted(violations + find_cycles(edges))


def check_module(source: str, path: str, architecture: Architecture) -> tuple[list[Violation], list[ImportEdge]]:
    """One file's violations of the per-file rules, and its arrows to other packages (for the cycle check)."""
    module = _module_name(Path(path))
    package = _package_of_path(path, architecture)
    # One walk serves every rule; the walk dominates the check's time.
    nodes = list(ast.walk(ast.parse(source, filename=path)))
    violations: list[Violation] = []
    edges: list[ImportEdge] = []
    allowed = architecture.packages[package].may_import
    for line, target_module, private in _imports(nodes, module, path.endswith("__init__.py")):
        target = architecture.package_of(target_module)
        if target is None or target == package:
            continue
        edges.append(ImportEdge(package, target, path, line))
        if target not in allowed:
            may = ", ".join(allowed) or "nothing of the project"
            violations.append(Violation(path, line, "import-arrow",
                                        f"{package} may not import {target} ({target_module}); "
                                        f"{package} may import: {may}"))
        if private:
            violations.append(Violation(path, line, "private-name",
                                        f"{package} imports {target_module}, private to {target}"))
    names = _ImportedNames(nodes, module, path.endswith("__init__.py"))
    violations += _private_attributes(nodes, path, package, names, architecture)
    violations += _dynamic_imports(nodes, path, names, architecture)
    if not architecture.packages[package].may_name_any_table:
        violations += _foreign_tables(nodes, path, package, names, architecture)
    return violations, edges


def check_migration(sql: str, path: str, architecture: Architecture) -> list[Violation]:
    """A migration's namings of other packages' tables; a foreign key along an allowed arrow is no violation."""
    package = _package_of_path(path, architecture)
    if architecture.packages[package].may_name_any_table:
        return []
    text = _without_comments_and_literals(sql)
    violations = []
    for match in MIGRATION_WORD.finditer(text):
        table = match.group(2).lower()
        owner = architecture.table_owners.get(table)
        if owner is None or owner == package or _is_allowed_reference(match.group(1), owner, package, architecture):
            continue
        start = match.start() if match.group(1) else _previous_word_start(text, match.start())
        shown = " ".join(text[start:match.end()].split())
        violations.append(Violation(path, text.count("\n", 0, match.start(2)) + 1, "foreign-table",
                                    f"{package} names table {table}, owned by {owner} ({shown!r}); a migration "
                                    "names another package's table only in a foreign key to a package it may "
                                    "import"))
    return violations


def find_cycles(edges: list[ImportEdge]) -> list[Violation]:
    """One violation per cycle among the packages, placed at the first import of the cycle's first arrow."""
    first_import: dict[tuple[str, str], ImportEdge] = {}
    for edge in sorted(edges, key=lambda e: (e.path, e.line)):
        first_import.setdefault((edge.source, edge.target), edge)
    graph: dict[str, set[str]] = defaultdict(set)
    for source, target in first_import:
        graph[source].add(target)
    violations = []
    for cycle in _cycles(graph):
        arrows = list(pairwise(cycle))
        places = "; ".join(f"{first_import[a].path}:{first_import[a].line} imports {a[1]}" for a in arrows)
        start = first_import[arrows[0]]
        violations.append(Violation(start.path, start.line, "import-cycle", f"{' → '.join(cycle)} ({places})"))
    return violations


def check_tree(root: Path, architecture: Architecture) -> list[Violation]:
    """Every violation in the checked packages' Python files and migrations under ``root``."""
    return check_sources(read_tree(root, architecture), architecture)


def read_tree(root: Path, architecture: Architecture) -> dict[str, str]:
    """The checked packages' Python files and migrations, by repository-relative path."""
    paths = [*_project_files(root, architecture, "*.py"), *_project_files(root, architecture, MIGRATIONS)]
    return {
        path.relative_to(root).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted(paths)
        if architecture.packages[_package_of_path(path.relative_to(root).as_posix(), architecture)].checked
    }


def render_table(architecture: Architecture) -> str:
    """The Markdown table of packages, arrows and owned tables that docs/architecture.md shows."""
    lines = ["| Package | Job | May import | Owns tables (its migrations or code create them) |", "|---|---|---|---|"]
    for package in architecture.packages.values():
        may_import = ", ".join(f"`{name}`" for name in package.may_import) or "nothing"
        tables = ", ".join(f"`{table}`" for table in architecture.tables_of(package.name)) or "none"
        lines.append(f"| `{package.name}` | {package.job} | {may_import} | {tables} |")
    return "\n".join(lines)


def table_difference(shown: str, rendered: str) -> str:
    """The rows that differ between the table the docs show and the rendered one, as a unified diff."""
    return "\n".join(difflib.unified_diff(shown.splitlines(), rendered.splitlines(), "docs/architecture.md",
                                          "rendered", n=0, lineterm=""))


def _project_files(root: Path, architecture: Architecture, pattern: str) -> Iterator[Path]:
    for top in sorted({name.split(".")[0] for name in architecture.packages}):
        yield from (root / top).rglob(pattern)


def _module_name(path: Path) -> str:
    """The dotted module of a Python file; a migration counts as a module of the package holding ``migrations/``."""
    if path.suffix == ".sql":
        path = path.parent.parent / "__init__.py"
    parts = path.with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _package_of_path(path: str, architecture: Architecture) -> str:
    package = architecture.package_of(_module_name(Path(path)))
    if package is None:
        raise ValueError(f"{path} is in no package of architecture.toml")
    return package


def _imports(nodes: list[ast.AST], module: str, is_package: bool) -> Iterator[tuple[int, str, bool]]:
    """(line, imported module or name, whether a private part is named) for each name each import brings."""
    for node in nodes:
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, _has_private_part(alias.name)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, module, is_package)
            for alias in node.names:
                target = base if alias.name == "*" else f"{base}.{alias.name}"
                yield node.lineno, target, _has_private_part(target)


def _absolute(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    package_parts = module.split(".") if is_package else module.split(".")[:-1]
    base = package_parts[: len(package_parts) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _has_private_part(dotted: str) -> bool:
    return any(_is_private(part) for part in dotted.split("."))


def _is_private(name: str) -> bool:
    return name.startswith("_") and not name.endswith("__")


class _ImportedNames:
    """What each name a file imports stands for, so that ``il.import_module`` reads as ``importlib.import_module``.

    One table per file, not per scope: a local variable that shadows an imported name is taken for the import.
    """

    def __init__(self, nodes: list[ast.AST], module: str, is_package: bool) -> None:
        self._names: dict[str, str] = {}
        for node in nodes:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        self._names[alias.asname] = alias.name
                    else:
                        root = alias.name.split(".")[0]
                        self._names[root] = root
            elif isinstance(node, ast.ImportFrom):
                base = _absolute(node, module, is_package)
                for alias in node.names:
                    if alias.name != "*":
                        self._names[alias.asname or alias.name] = f"{base}.{alias.name}"

    def qualified(self, node: ast.expr) -> str | None:
        """The dotted name an expression stands for (``getattr`` with a literal name included); ``None`` if unknown."""
        if isinstance(node, ast.Name):
            if node.id in self._names:
                return self._names[node.id]
            return f"builtins.{node.id}" if node.id in BUILTIN_NAMES else None
        if isinstance(node, ast.Attribute):
            base = self.qualified(node.value)
            return f"{base}.{node.attr}" if base else None
        if isinstance(node, ast.Call) and (attribute := self.literal_getattr(node)):
            base = self.qualified(attribute[0])
            return f"{base}.{attribute[1]}" if base else None
        return None

    def literal_getattr(self, call: ast.Call) -> tuple[ast.expr, str] | None:
        """(object, name) of ``getattr(object, "name")``."""
        if (self.qualified(call.func) == "builtins.getattr" and len(call.args) >= 2
                and isinstance(call.args[1], ast.Constant) and isinstance(call.args[1].value, str)):
            return call.args[0], call.args[1].value
        return None


def _private_attributes(nodes: list[ast.AST], path: str, package: str, names: _ImportedNames,
                        architecture: Architecture) -> Iterator[Violation]:
    """Another package's private names reached from an imported name: ``alarms._row``, ``getattr(alarms, "_row")``."""
    for node in nodes:
        if isinstance(node, ast.Attribute):
            reached = node.value, node.attr
        elif isinstance(node, ast.Call) and (attribute := names.literal_getattr(node)):
            reached = attribute
        else:
            continue
        base = names.qualified(reached[0])
        target = architecture.package_of(base) if base else None
        # A private base was reported where it was imported or first reached.
        if (target is not None and target != package and _is_private(reached[1])
                and not _has_private_part(base)):
            yield Violation(path, node.lineno, "private-name",
                            f"{package} uses {base}.{reached[1]}, private to {target}")


def _dynamic_imports(nodes: list[ast.AST], path: str, names: _ImportedNames,
                     architecture: Architecture) -> Iterator[Violation]:
    for node in nodes:
        if isinstance(node, ast.Call) and names.qualified(node.func) in DYNAMIC_IMPORTERS and node.args:
            call = ast.unparse(node.func)
            argument = node.args[0]
            if not (isinstance(argument, ast.Constant) and isinstance(argument.value, str)):
                yield Violation(path, node.lineno, "dynamic-import",
                                f"{call}({ast.unparse(argument)}) imports a computed name, which may be a project "
                                "module; import project modules statically")
            elif argument.value.startswith(".") or architecture.package_of(argument.value) is not None:
                yield Violation(path, node.lineno, "dynamic-import",
                                f"{call}({argument.value!r}) imports a project module{_alias_note(call, names, node)}; "
                                "import it statically")
        elif (lookup := _modules_lookup(node, names)) and architecture.package_of(lookup) is not None:
            yield Violation(path, node.lineno, "dynamic-import",
                            f"{ast.unparse(node)} reaches a project module; import it statically")


def _alias_note(call: str, names: _ImportedNames, node: ast.Call) -> str:
    """`` (load is importlib.import_module)`` when the importer goes by another name."""
    qualified = names.qualified(node.func) or call
    return "" if qualified in (call, f"builtins.{call}") else f" ({call} is {qualified})"


def _modules_lookup(node: ast.AST, names: _ImportedNames) -> str | None:
    """The literal module name of ``sys.modules["x"]`` or ``sys.modules.get("x")``."""
    if isinstance(node, ast.Subscript) and names.qualified(node.value) == "sys.modules":
        key = node.slice
    elif isinstance(node, ast.Call) and names.qualified(node.func) == "sys.modules.get" and node.args:
        key = node.args[0]
    else:
        return None
    return key.value if isinstance(key, ast.Constant) and isinstance(key.value, str) else None


def _foreign_tables(nodes: list[ast.AST], path: str, package: str, names: _ImportedNames,
                    architecture: Architecture) -> Iterator[Violation]:
    passed_as_sql = {id(argument) for argument in _sql_arguments(nodes, names)}
    for node, sql in _string_expressions(nodes):
        text = _without_comments_and_literals(sql.text)
        if id(node) not in passed_as_sql and not LOOKS_LIKE_SQL.search(text):
            continue
        for keyword, name_start, name, shown in _named_relations(text, sql.text):
            line = sql.line_at(name_start)
            if name[0] not in "{%":
                yield from _foreign_table(path, line, package, keyword, name, shown, architecture)
            elif keyword != "ON":  # ON {condition} is a join condition, not a relation
                yield Violation(path, line, "dynamic-sql",
                                f"{package} names a table computed at run time ({shown!r}); name tables "
                                "literally so that their owner can be checked")
    for node in nodes:
        if isinstance(node, ast.Call) and names.qualified(node.func) in SQL_IDENTIFIERS:
            for argument in node.args:
                if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                    yield from _foreign_table(path, node.lineno, package, "IDENTIFIER", argument.value,
                                              ast.unparse(node), architecture)


def _foreign_table(path: str, line: int, package: str, keyword: str, name: str, shown: str,
                   architecture: Architecture) -> Iterator[Violation]:
    table = name.strip('"').lower()
    owner = architecture.table_owners.get(table)
    if owner is None or owner == package or _is_allowed_reference(keyword, owner, package, architecture):
        return
    advice = ("a foreign key may point only to a package it may import" if keyword == "REFERENCES"
              else f"call {owner}'s functions instead")
    yield Violation(path, line, "foreign-table",
                    f"{package} names table {table}, owned by {owner} ({shown!r}); {advice}")


def _is_allowed_reference(keyword: str | None, owner: str, package: str, architecture: Architecture) -> bool:
    """A foreign key is a schema dependency; it may follow an arrow the package may import along."""
    return (keyword or "").upper() == "REFERENCES" and owner in architecture.packages[package].may_import


def _named_relations(text: str, written: str) -> Iterator[tuple[str, int, str, str]]:
    """(keyword, offset, name, as written) of each relation ``text`` names, with the later items of comma lists.

    ``text`` is SQL without comments and literals; ``written`` the same text as the source has it.
    """
    seen: set[int] = set()  # DELETE FROM a USING b, c lists c twice, once for FROM and once for USING
    for match in NAMED_RELATION.finditer(text):
        keyword = match.group(1).upper()
        if keyword == "FROM" and _is_a_values_from(text, match.start()):
            continue
        if match.start(2) not in seen:
            seen.add(match.start(2))
            yield keyword, match.start(2), match.group(2), " ".join(written[match.start():match.end()].split())
        if keyword in LISTING_KEYWORDS:
            for start, name in _later_items(text, match.end()):
                if start not in seen:
                    seen.add(start)
                    yield keyword, start, name, f"{match.group(1)} …, {written[start:start + len(name)]}"


def _is_a_values_from(text: str, offset: int) -> bool:
    """Whether the FROM at ``offset`` takes a value, not a relation: ``IS DISTINCT FROM x``, ``EXTRACT(… FROM x)``."""
    if VALUES_FROM_BEFORE.search(text, max(0, offset - 20), offset):
        return True
    depth = 0
    for index in range(offset - 1, -1, -1):  # back to the parenthesis the FROM stands in
        if text[index] == ")":
            depth += 1
        elif text[index] == "(" and depth:
            depth -= 1
        elif text[index] == "(":
            return VALUES_FROM_FUNCTION.search(text, max(0, index - 20), index) is not None
    return False


def _later_items(text: str, offset: int) -> Iterator[tuple[int, str]]:
    """(offset, name) of the relations after the first in a comma list (``FROM a x, b y``), up to its end."""
    tokens = [(token.start(), token.group()) for token in LIST_TOKEN.finditer(text, offset)]
    depth = 0
    item_starts = False
    for index, (start, token) in enumerate(tokens):
        following = tokens[index + 1][1] if index + 1 < len(tokens) else ""
        if item_starts and depth == 0 and token != "(":
            if token.upper() in ("ONLY", "LATERAL", ".") or (token.lower() == "public" and following == "."):
                continue
            item_starts = False
            if following != "(":  # unnest(…), generate_series(…): functions, not relations
                yield start, token
            continue
        item_starts = False
        if token == "(":
            depth += 1
        elif token == ")":
            if depth == 0:
                return
            depth -= 1
        elif depth == 0 and token == ",":
            item_starts = True
        elif depth == 0 and token.upper() in LIST_ENDS:
            return


def _sql_arguments(nodes: list[ast.AST], names: _ImportedNames) -> Iterator[ast.expr]:
    """The expressions passed where SQL goes: ``execute``, ``executemany``, ``copy``, ``sql.SQL``."""
    for node in nodes:
        if isinstance(node, ast.Call) and node.args and (
            (isinstance(node.func, ast.Attribute) and node.func.attr in SQL_METHODS)
            or names.qualified(node.func) in SQL_COMPOSERS
        ):
            yield node.args[0]


def _string_expressions(nodes: list[ast.AST]) -> Iterator[tuple[ast.expr, SqlText]]:
    """Each string expression that is no docstring, whole: a literal, an f-string, or parts joined by ``+``.

    ``nodes`` in the order of ``ast.walk``, which reaches an expression before its operands.
    """
    docstrings = _docstrings(nodes)
    operands: set[int] = set()
    for node in nodes:
        if id(node) in operands or not isinstance(node, ast.expr) or (parts := _string_parts(node)) is None:
            continue
        operands.update(id(operand) for operand in _operands(node))
        if id(node) not in docstrings:
            yield node, _joined(parts)


def _operands(node: ast.AST) -> Iterator[ast.AST]:
    """The string operands and ``+`` steps of a string expression; a computed part's own strings are not among them."""
    yield node
    if isinstance(node, ast.JoinedStr):
        yield from node.values
    elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        yield from _operands(node.left)
        yield from _operands(node.right)


def _string_parts(node: ast.expr) -> list[ast.expr] | None:
    """The operands of a string literal, an f-string or a ``+`` chain holding one; ``None`` for other expressions."""
    if _is_string_literal(node) or isinstance(node, ast.JoinedStr):
        return [node]
    if not (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add)):
        return None
    parts = []
    for side in (node.left, node.right):
        parts += _string_parts(side) or [side]
    return parts if any(_is_string_literal(p) or isinstance(p, ast.JoinedStr) for p in parts) else None


def _joined(parts: list[ast.expr]) -> SqlText:
    pieces: list[str] = []
    part_lines: list[tuple[int, int]] = []
    length = 0
    for part in parts:
        part_lines.append((length, part.lineno))
        values = part.values if isinstance(part, ast.JoinedStr) else [part]
        for value in values:
            if _is_string_literal(value):
                piece = value.value
            else:
                computed = value.value if isinstance(value, ast.FormattedValue) else value
                # Quotes dropped: inside SQL they would read as the start of a string literal.
                piece = "{" + re.sub(r"[\'\"]", "", ast.unparse(computed)) + "}"
            pieces.append(piece)
            length += len(piece)
    return SqlText("".join(pieces), tuple(part_lines))


def _is_string_literal(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def _without_comments_and_literals(sql: str) -> str:
    """``sql`` with comments and quoted literals blanked, keeping every offset and line break."""
    return SQL_COMMENT_OR_LITERAL.sub(lambda match: re.sub(r"[^\n]", " ", match.group()), sql)


def _previous_word_start(text: str, offset: int) -> int:
    """Where the word (or sign) before ``offset`` starts, so that a message shows ``FROM alarms``."""
    before = re.search(r"(\w+|\S)\s*\Z", text[max(0, offset - 200):offset])
    return offset - len(before.group()) if before else offset


def _string_literals(tree: ast.Module) -> Iterator[str]:
    nodes = list(ast.walk(tree))
    docstrings = _docstrings(nodes)
    return (node.value for node in nodes if _is_string_literal(node) and id(node) not in docstrings)


def _docstrings(nodes: list[ast.AST]) -> set[int]:
    return {
        id(node.body[0].value)
        for node in nodes
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body and isinstance(node.body[0], ast.Expr) and _is_string_literal(node.body[0].value)
    }


def _cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """Each elementary cycle once, as a closed path starting at its smallest package name."""
    found: set[tuple[str, ...]] = set()

    def walk(path: list[str]) -> None:
        for successor in sorted(graph.get(path[-1], ())):
            if successor == path[0]:
                found.add((*path, successor))
            elif successor > path[0] and successor not in path:
                walk([*path, successor])

    for start in sorted(graph):
        walk([start])
    return [list(cycle) for cycle in sorted(found)]


# --- the real tree -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def architecture() -> Architecture:
    return load_architecture()


def test_the_tree_breaks_no_rule(architecture: Architecture) -> None:
    violations = check_tree(ROOT, architecture)
    if violations:
        listing = "\n".join(map(str, violations))
        pytest.fail(f"{len(violations)} violations of architecture.toml:\n{listing}", pytrace=False)


def test_every_top_level_package_is_declared(architecture: Architecture) -> None:
    declared = {name.split(".")[0] for name in architecture.packages}
    on_disk = {path.parent.name for path in ROOT.glob("*/__init__.py")}
    assert on_disk - declared == set()


def test_the_allowed_arrows_name_declared_packages_and_form_no_cycle(architecture: Architecture) -> None:
    arrows = [ImportEdge(p.name, target, "architecture.toml", 0)
              for p in architecture.packages.values() for target in p.may_import]
    assert {edge.target for edge in arrows} <= set(architecture.packages)
    assert find_cycles(arrows) == []


def test_table_ownership_follows_the_migrations(architecture: Architecture) -> None:
    assert architecture.table_owners["devices"] == "ingest"
    assert architecture.table_owners["latest_values"] == "ingest"
    assert architecture.table_owners["schema_migrations"] == "ingest"
    assert architecture.table_owners["dead_letters"] == "gateway"
    assert architecture.table_owners["alarms"] == "rules"
    assert architecture.table_owners["anomaly_models"] == "rules"
    assert architecture.table_owners["fund_ledger"] == "dispatch"
    assert architecture.table_owners["web_users"] == "dashboard"


def test_docs_show_the_table_as_architecture_toml_has_it(architecture: Architecture) -> None:
    text = DOC.read_text(encoding="utf-8")
    assert TABLE_BEGIN in text and TABLE_END in text, f"docs/architecture.md lacks the markers {TABLE_BEGIN}"
    shown = text.split(TABLE_BEGIN, 1)[1].split(TABLE_END, 1)[0].strip()
    rendered = render_table(architecture)
    if shown != rendered:
        pytest.fail(f"stale table: run python tests/test_architecture.py and paste its output\n"
                    f"{table_difference(shown, rendered)}", pytrace=False)


def test_a_stale_table_shows_the_rows_that_differ() -> None:
    shown = "| Package | Tables |\n|---|---|\n| `ingest` | `sites` |\n| `rules` | `alarms` |"
    rendered = "| Package | Tables |\n|---|---|\n| `ingest` | `devices`, `sites` |\n| `rules` | `alarms` |"
    assert table_difference(shown, rendered).splitlines()[2:] == [
        "@@ -3 +3 @@", "-| `ingest` | `sites` |", "+| `ingest` | `devices`, `sites` |",
    ]


# --- each rule on a planted violation ------------------------------------------------------------------------


def _violations(architecture: Architecture, source: str, path: str) -> list[str]:
    return [str(v) for v in check_sources({path: source}, architecture)]


def test_an_import_arrow_not_in_the_table_fails(architecture: Architecture) -> None:
    source = "import logging\n\nfrom gateway.service import Gateway\n"
    assert _violations(architecture, source, "simulators/planted.py") == [
        "simulators/planted.py:3: import-arrow: simulators may not import gateway (gateway.service.Gateway); "
        "simulators may import: gateway.protocol"
    ]


def test_a_leaf_may_import_nothing_of_the_project(architecture: Architecture) -> None:
    assert _violations(architecture, "import ingest.records\n", "gateway/protocol/planted.py") == [
        "gateway/protocol/planted.py:1: import-arrow: gateway.protocol may not import ingest (ingest.records); "
        "gateway.protocol may import: nothing of the project"
    ]


def test_an_import_of_the_test_suite_fails(architecture: Architecture) -> None:
    [violation] = _violations(architecture, "from tests.anomaly import series\n", "benchmarks/planted.py")
    assert violation.startswith("benchmarks/planted.py:1: import-arrow: benchmarks may not import tests")


def test_allowed_arrows_subpackages_and_relative_imports_pass(architecture: Architecture) -> None:
    sources = {
        "simulators/planted.py": "from gateway.protocol import topic_for\nfrom gateway import protocol\n",
        "dispatch/fund/planted.py": "from dispatch._private import helper\nfrom ..orders import Order\n",
        "rules/anomaly/planted.py": "from rules.engine import RuleEngine\nimport ingest.records\n",
    }
    assert check_sources(sources, architecture) == []


def test_importing_another_packages_private_name_fails(architecture: Architecture) -> None:
    assert _violations(architecture, "from ingest.registry import _row_to_device\n", "rules/planted.py") == [
        "rules/planted.py:1: private-name: rules imports ingest.registry._row_to_device, private to ingest"
    ]


def test_importing_another_packages_private_module_fails(architecture: Architecture) -> None:
    assert _violations(architecture, "import dispatch._planted.tools\n", "dashboard/planted.py") == [
        "dashboard/planted.py:1: private-name: dashboard imports dispatch._planted.tools, private to dispatch"
    ]


def test_a_private_name_reached_as_an_attribute_of_an_imported_module_fails(architecture: Architecture) -> None:
    source = "from rules import alarms\n\n\ndef row(conn):\n    return alarms._row(conn)\n"
    assert _violations(architecture, source, "dashboard/planted.py") == [
        "dashboard/planted.py:5: private-name: dashboard uses rules.alarms._row, private to rules"
    ]


def test_a_private_name_reached_through_a_dotted_import_fails(architecture: Architecture) -> None:
    source = "import rules.alarms\n\nROW = rules.alarms._row\n"
    assert _violations(architecture, source, "dispatch/planted.py") == [
        "dispatch/planted.py:3: private-name: dispatch uses rules.alarms._row, private to rules"
    ]


def test_a_private_name_reached_by_getattr_with_a_literal_name_fails(architecture: Architecture) -> None:
    source = "import rules.alarms as ra\n\nROW = getattr(ra, '_row')\n"
    assert _violations(architecture, source, "dispatch/planted.py") == [
        "dispatch/planted.py:3: private-name: dispatch uses rules.alarms._row, private to rules"
    ]


def test_own_private_names_dunders_and_unimported_names_pass(architecture: Architecture) -> None:
    source = (
        "from rules import alarms\nfrom dispatch.workorders import queries\n\n"
        "NAME = alarms.__name__\nFIRST = queries._first\nrules = {}\nrules._cache = None\n"
    )
    assert _violations(architecture, source, "dispatch/planted.py") == []


def test_import_module_of_a_project_module_fails(architecture: Architecture) -> None:
    source = "import importlib\n\nalarms = importlib.import_module('rules.alarms')\n"
    assert _violations(architecture, source, "dashboard/planted.py") == [
        "dashboard/planted.py:3: dynamic-import: importlib.import_module('rules.alarms') imports a project module; "
        "import it statically"
    ]


def test_dunder_import_of_a_project_module_fails(architecture: Architecture) -> None:
    [violation] = _violations(architecture, "kpi = __import__('dispatch.kpi')\n", "dashboard/planted.py")
    assert violation.startswith("dashboard/planted.py:1: dynamic-import: __import__('dispatch.kpi')")


@pytest.mark.parametrize(("source", "call"), [
    ("import importlib as il\n\nil.import_module('rules.alarms')\n",
     "il.import_module('rules.alarms') imports a project module (il.import_module is importlib.import_module)"),
    ("from importlib import import_module as load\n\nload('rules.alarms')\n",
     "load('rules.alarms') imports a project module (load is importlib.import_module)"),
    ("import builtins\n\nbuiltins.__import__('rules.alarms')\n",
     "builtins.__import__('rules.alarms') imports a project module"),
])
def test_an_importer_under_another_name_fails(architecture: Architecture, source: str, call: str) -> None:
    assert _violations(architecture, source, "dashboard/planted.py") == [
        f"dashboard/planted.py:3: dynamic-import: {call}; import it statically"
    ]


def test_a_project_module_looked_up_in_sys_modules_fails(architecture: Architecture) -> None:
    source = "import sys\n\nregistry = sys.modules['ingest.registry']\nSELF = sys.modules[__name__]\n"
    assert _violations(architecture, source, "rules/planted.py") == [
        "rules/planted.py:3: dynamic-import: sys.modules['ingest.registry'] reaches a project module; "
        "import it statically"
    ]


def test_import_module_of_a_computed_name_fails(architecture: Architecture) -> None:
    source = "from importlib import import_module\n\n\ndef load(name):\n    return import_module(name)\n"
    assert _violations(architecture, source, "dashboard/planted.py") == [
        "dashboard/planted.py:5: dynamic-import: import_module(name) imports a computed name, which may be a "
        "project module; import project modules statically"
    ]


def test_import_module_of_a_third_party_module_passes(architecture: Architecture) -> None:
    source = "import importlib\n\nyaml = importlib.import_module('yaml')\n"
    assert _violations(architecture, source, "dashboard/planted.py") == []


def test_sql_naming_another_packages_table_fails(architecture: Architecture) -> None:
    source = 'QUERY = """\n    SELECT a.id\n      FROM alarms a\n      join Devices d ON d.id = a.device_id\n"""\n'
    assert _violations(architecture, source, "dispatch/planted.py") == [
        "dispatch/planted.py:3: foreign-table: dispatch names table alarms, owned by rules ('FROM alarms'); "
        "call rules's functions instead",
        "dispatch/planted.py:4: foreign-table: dispatch names table devices, owned by ingest ('join Devices'); "
        "call ingest's functions instead",
    ]


@pytest.mark.parametrize("statement", [
    "INSERT INTO sites VALUES (1)", "UPDATE sites SET name = ''", "DELETE FROM sites", "LOCK TABLE sites",
    "SELECT 1 FROM ONLY sites", "DROP TABLE IF EXISTS public.sites", "COPY sites TO STDOUT",
    "COPY sites (id, name) FROM STDIN", "TRUNCATE sites", "TRUNCATE TABLE ONLY sites",
    "DELETE FROM silences USING sites", "CREATE INDEX ON sites (name)", "select * from sites",
])
def test_every_sql_verb_that_names_a_table_is_checked(architecture: Architecture, statement: str) -> None:
    [violation] = _violations(architecture, f"conn.execute({statement!r})\n", "rules/planted.py")
    assert violation.startswith("rules/planted.py:1: foreign-table: rules names table sites, owned by ingest")


def test_every_table_of_a_comma_list_is_checked(architecture: Architecture) -> None:
    source = 'QUERY = """\n    SELECT w.id\n      FROM work_orders w, alarms a\n     WHERE a.id = w.alarm_id\n"""\n'
    assert _violations(architecture, source, "dispatch/planted.py") == [
        "dispatch/planted.py:3: foreign-table: dispatch names table alarms, owned by rules ('FROM …, alarms'); "
        "call rules's functions instead"
    ]


@pytest.mark.parametrize("relations", [
    "generate_series(1, 3) AS g(i), (SELECT 1) s, LATERAL unnest(%s) u, ONLY public.sites",
    "silences s JOIN alarms a USING (id), sites", "silences s JOIN alarms a ON a.id = s.id AND a.x IN (1, 2), sites",
])
def test_a_list_item_after_functions_subqueries_and_joins_is_checked(architecture: Architecture,
                                                                      relations: str) -> None:
    [violation] = _violations(architecture, f"QUERY = 'SELECT 1 FROM {relations} WHERE true'\n", "rules/planted.py")
    assert violation.startswith("rules/planted.py:1: foreign-table: rules names table sites, owned by ingest")


def test_commas_outside_a_relation_list_pass(architecture: Architecture) -> None:
    source = (
        "A = 'SELECT EXTRACT(EPOCH FROM now()), devices FROM silences'\n"
        "B = 'SELECT devices FROM silences WHERE id IN (1, 2) ORDER BY id, sites'\n"
        "C = 'UPDATE alarms SET state = 1 FROM silences s WHERE s.id = alarms.id RETURNING id, sites'\n"
    )
    assert _violations(architecture, source, "rules/planted.py") == []


def test_literal_parts_joined_by_plus_are_one_statement(architecture: Architecture) -> None:
    source = 'QUERY = (\n    "SELECT id"\n    + " FROM "\n    + "alarms"\n)\n'
    assert _violations(architecture, source, "dispatch/planted.py") == [
        "dispatch/planted.py:4: foreign-table: dispatch names table alarms, owned by rules ('FROM alarms'); "
        "call rules's functions instead"
    ]


def test_a_literal_sql_identifier_of_another_packages_table_fails(architecture: Architecture) -> None:
    source = "from psycopg import sql\n\nALARMS = sql.Identifier('public', 'alarms')\n"
    assert _violations(architecture, source, "dispatch/planted.py") == [
        "dispatch/planted.py:3: foreign-table: dispatch names table alarms, owned by rules "
        "(\"sql.Identifier('public', 'alarms')\"); call rules's functions instead"
    ]


# The forms the project's own queries take; each must still be read as SQL.
@pytest.mark.parametrize(("source", "line"), [
    ('INDEX = 1\nQ = f"""SELECT ts, vals[{INDEX}] AS value\n  FROM sites WHERE id = %(d)s"""\n', 3),
    ('from psycopg import sql\n\n_FROM = sql.SQL("""FROM sites s JOIN silences x\n    ON x.id = s.id""")\n', 3),
    ('first(None, """x.id IN (SELECT s.id\n    FROM sites s)""")\n', 2),
    ('_SELECT = "SELECT 1"\n\n\ndef rows(conn):\n    return conn.execute(_SELECT\n + " JOIN sites s ON true")\n', 6),
    ('QUERY = """\n    -- the sites, with a CTE first\n    WITH x AS (SELECT 1)\n    SELECT * FROM x, sites\n"""\n', 4),
])
def test_sql_in_the_forms_the_code_uses_is_checked(architecture: Architecture, source: str, line: int) -> None:
    [violation] = _violations(architecture, source, "rules/planted.py")
    assert violation.startswith(f"rules/planted.py:{line}: foreign-table: rules names table sites, owned by ingest")


def test_plain_english_that_mentions_a_table_passes(architecture: Architecture) -> None:
    source = (
        'import logging\n\nlog = logging.getLogger(__name__)\n'
        'MESSAGE = "could not read the state from devices"\n'
        'log.warning("Update the devices from the registry, then join sites to %s", "x")\n'
        "NOTE = 'select a table from sites'\n"
    )
    assert _violations(architecture, source, "rules/planted.py") == []


@pytest.mark.parametrize(("source", "shown"), [
    ('T = "alarms"\nQUERY = f"SELECT id FROM {T}"\n', "FROM {T}"),
    ('def count(conn, table):\n    return conn.execute("SELECT count(*) FROM " + table)\n', "FROM {table}"),
    ('\nQUERY = "DELETE FROM %s WHERE id = 1"\n', "FROM %s"),
])
def test_a_table_name_computed_at_run_time_fails(architecture: Architecture, source: str, shown: str) -> None:
    assert _violations(architecture, source, "dispatch/planted.py") == [
        f"dispatch/planted.py:2: dynamic-sql: dispatch names a table computed at run time ({shown!r}); "
        "name tables literally so that their owner can be checked"
    ]


def test_computed_conditions_and_columns_pass(architecture: Architecture) -> None:
    source = (
        'def page(conn, where, column):\n'
        '    conn.execute(f"SELECT {column} FROM work_orders w JOIN work_order_events e ON {where} WHERE {where}")\n'
        'Q = "SELECT EXTRACT(EPOCH FROM %(t)s), trim(BOTH FROM %s) FROM work_orders WHERE x IS DISTINCT FROM %s"\n'
    )
    assert _violations(architecture, source, "dispatch/planted.py") == []


def test_a_migration_naming_another_packages_table_fails(architecture: Architecture) -> None:
    migration = (
        "-- Open alarms by site, for the board.\n"
        "CREATE VIEW open_alarms AS\n"
        "    SELECT a.id, s.name FROM alarms a JOIN public.sites s ON s.id = a.site_id;\n"
    )
    advice = "a migration names another package's table only in a foreign key to a package it may import"
    assert _violations(architecture, migration, "dispatch/migrations/0099_planted.sql") == [
        f"dispatch/migrations/0099_planted.sql:3: foreign-table: dispatch names table alarms, owned by rules "
        f"('FROM alarms'); {advice}",
        f"dispatch/migrations/0099_planted.sql:3: foreign-table: dispatch names table sites, owned by ingest "
        f"('JOIN public.sites'); {advice}",
    ]


def test_a_migrations_foreign_key_against_the_arrows_fails(architecture: Architecture) -> None:
    migration = "CREATE TABLE planted (\n    order_id bigint NOT NULL REFERENCES work_orders (id)\n);\n"
    assert _violations(architecture, migration, "rules/migrations/0099_planted.sql") == [
        "rules/migrations/0099_planted.sql:2: foreign-table: rules names table work_orders, owned by dispatch "
        "('REFERENCES work_orders'); a migration names another package's table only in a foreign key to a "
        "package it may import"
    ]


def test_a_migrations_foreign_keys_along_the_arrows_comments_and_literals_pass(architecture: Architecture) -> None:
    migration = (
        "-- Work orders of a site; alarms from devices arrive through rules.alarms.\n"
        "CREATE TABLE planted (\n"
        "    site_id  text   NOT NULL REFERENCES sites (id),\n"
        "    alarm_id bigint REFERENCES public.alarms(id) /* alarms is rules' table */\n"
        ");\n"
        "INSERT INTO dispatch_cursors (name, last_id) VALUES ('alarm_transitions', 0);\n"
    )
    assert _violations(architecture, migration, "dispatch/fund/migrations/0099_planted.sql") == []


def test_sql_naming_own_tables_words_inside_names_and_docstrings_pass(architecture: Architecture) -> None:
    source = (
        '"""Reads from devices through ingest.registry."""\n'
        'OWN = "SELECT * FROM alarms JOIN silences USING (id)"\n'
        'WORDS = "SELECT * FROM alarm_devices, pg_sites"\n'
        'MESSAGE = f"no update devices_x for {1}"\n'
    )
    assert _violations(architecture, source, "rules/planted.py") == []


def test_benchmarks_may_name_any_table(architecture: Architecture) -> None:
    assert _violations(architecture, 'Q = "SELECT count(*) FROM readings"\n', "benchmarks/planted.py") == []


def test_an_import_cycle_between_packages_fails() -> None:
    planted = Architecture(
        packages={"a": Package("a", "", ("b",)), "b": Package("b", "", ("c",)), "c": Package("c", "", ("a",))},
        table_owners={},
    )
    sources = {"a/one.py": "import b.two\n", "b/two.py": "from c import three\n", "c/three.py": "\n\nimport a\n"}
    assert [str(v) for v in check_sources(sources, planted)] == [
        "a/one.py:1: import-cycle: a → b → c → a (a/one.py:1 imports b; b/two.py:1 imports c; c/three.py:3 imports a)"
    ]


def test_an_arrow_against_the_table_that_closes_a_cycle_fails_twice(architecture: Architecture) -> None:
    sources = {"ingest/planted.py": "from rules.alarms import Alarm\n", "rules/planted.py": "import ingest\n"}
    assert [v.rule for v in check_sources(sources, architecture)] == ["import-arrow", "import-cycle"]


if __name__ == "__main__":
    print(render_table(load_architecture()))
