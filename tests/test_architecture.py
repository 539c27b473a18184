"""The architecture checks itself: every file's imports and SQL against ``architecture.toml``.

Rules, each with its name as it appears in a failure (``path:line: rule: what``):

- ``import-arrow``: a package imports only itself and the packages ``architecture.toml`` lets it import.
- ``private-name``: no import of another package's private module or name (a leading underscore).
- ``dynamic-import``: no ``importlib.import_module`` / ``__import__`` of a project module, nor of a computed
  name (which may be one); imports are static so that readers and type checkers can follow them.
- ``foreign-table``: SQL in a package names only tables it owns (after FROM, JOIN, INTO, UPDATE or TABLE).
  A package owns the tables and views its ``migrations/*.sql`` create, and those its code creates.
- ``import-cycle``: the packages' imports form no cycle.

Each rule is shown failing on a planted violation, and the whole tree is checked in one test that lists every
violation at once. ``python tests/test_architecture.py`` prints the table that docs/architecture.md shows.
"""

from __future__ import annotations

import ast
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

CREATED_RELATION = re.compile(
    r"\bCREATE\s+(?:OR\s+REPLACE\s+)?(?:UNLOGGED\s+)?(?:TABLE|VIEW|MATERIALIZED\s+VIEW)\s+(?:IF\s+NOT\s+EXISTS\s+)?"
    r"(?:public\.)?\"?(\w+)",
    re.IGNORECASE,
)
NAMED_RELATION = re.compile(
    r"\b(FROM|JOIN|INTO|UPDATE|TABLE)\s+(?:ONLY\s+)?(?:IF\s+(?:NOT\s+)?EXISTS\s+)?(?:public\.)?\"?(\w+)",
    re.IGNORECASE,
)
DYNAMIC_IMPORTERS = frozenset({"import_module", "__import__"})


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
    for path in sorted(_project_files(root, architecture, "migrations/*.sql")):
        owner = architecture.package_of(_module_name(path.parent.parent.relative_to(root) / "__init__.py"))
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
    """Every violation in ``sources`` (repository-relative path → Python source), including import cycles."""
    violations: list[Violation] = []
    edges: list[ImportEdge] = []
    for path, source in sources.items():
        found, module_edges = check_module(source, path, architecture)
        violations += found
        edges += module_edges
    return sorted(violations + find_cycles(edges))


def check_module(source: str, path: str, architecture: Architecture) -> tuple[list[Violation], list[ImportEdge]]:
    """One file's violations of the per-file rules, and its arrows to other packages (for the cycle check)."""
    module = _module_name(Path(path))
    package = architecture.package_of(module)
    if package is None:
        raise ValueError(f"{path} is in no package of architecture.toml")
    tree = ast.parse(source, filename=path)
    violations: list[Violation] = []
    edges: list[ImportEdge] = []
    allowed = architecture.packages[package].may_import
    for line, target_module, private in _imports(tree, module, path.endswith("__init__.py")):
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
    violations += _dynamic_imports(tree, path, architecture)
    if not architecture.packages[package].may_name_any_table:
        violations += _foreign_tables(tree, path, package, architecture)
    return violations, edges


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
    """Every violation in the checked packages under ``root``."""
    sources = {
        path.relative_to(root).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted(_project_files(root, architecture, "*.py"))
        if architecture.packages[architecture.package_of(_module_name(path.relative_to(root)))].checked
    }
    return check_sources(sources, architecture)


def render_table(architecture: Architecture) -> str:
    """The Markdown table of packages, arrows and owned tables that docs/architecture.md shows."""
    lines = ["| Package | Job | May import | Owns tables (its migrations or code create them) |", "|---|---|---|---|"]
    for package in architecture.packages.values():
        may_import = ", ".join(f"`{name}`" for name in package.may_import) or "nothing"
        tables = ", ".join(f"`{table}`" for table in architecture.tables_of(package.name)) or "none"
        lines.append(f"| `{package.name}` | {package.job} | {may_import} | {tables} |")
    return "\n".join(lines)


def _project_files(root: Path, architecture: Architecture, pattern: str) -> Iterator[Path]:
    for top in sorted({name.split(".")[0] for name in architecture.packages}):
        yield from (root / top).rglob(pattern)


def _module_name(path: Path) -> str:
    parts = path.with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(tree: ast.Module, module: str, is_package: bool) -> Iterator[tuple[int, str, bool]]:
    """(line, imported module or name, whether a private part is named) for each name each import brings."""
    for node in ast.walk(tree):
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
    return any(part.startswith("_") and not part.endswith("__") for part in dotted.split("."))


def _dynamic_imports(tree: ast.Module, path: str, architecture: Architecture) -> Iterator[Violation]:
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and _called_name(node.func) in DYNAMIC_IMPORTERS and node.args):
            continue
        call = ast.unparse(node.func)
        argument = node.args[0]
        if not (isinstance(argument, ast.Constant) and isinstance(argument.value, str)):
            yield Violation(path, node.lineno, "dynamic-import",
                            f"{call}({ast.unparse(argument)}) imports a computed name, which may be a project "
                            "module; import project modules statically")
        elif argument.value.startswith(".") or architecture.package_of(argument.value) is not None:
            yield Violation(path, node.lineno, "dynamic-import",
                            f"{call}({argument.value!r}) imports a project module; import it statically")


def _called_name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "importlib":
        return func.attr
    return None


def _foreign_tables(tree: ast.Module, path: str, package: str, architecture: Architecture) -> Iterator[Violation]:
    for node in _non_docstring_constants(tree):
        for match in NAMED_RELATION.finditer(node.value):
            table = match.group(2).lower()
            owner = architecture.table_owners.get(table)
            if owner is not None and owner != package:
                line = node.lineno + node.value.count("\n", 0, match.start())
                yield Violation(path, line, "foreign-table",
                                f"{package} names table {table}, owned by {owner} ({match.group(0)!r}); "
                                f"call {owner}'s functions instead")


def _string_literals(tree: ast.Module) -> Iterator[str]:
    return (node.value for node in _non_docstring_constants(tree))


def _non_docstring_constants(tree: ast.Module) -> Iterator[ast.Constant]:
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            yield node


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
    assert shown == render_table(architecture), "stale table: run python tests/test_architecture.py"


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


def test_import_module_of_a_project_module_fails(architecture: Architecture) -> None:
    source = "import importlib\n\nalarms = importlib.import_module('rules.alarms')\n"
    assert _violations(architecture, source, "dashboard/planted.py") == [
        "dashboard/planted.py:3: dynamic-import: importlib.import_module('rules.alarms') imports a project module; "
        "import it statically"
    ]


def test_dunder_import_of_a_project_module_fails(architecture: Architecture) -> None:
    [violation] = _violations(architecture, "kpi = __import__('dispatch.kpi')\n", "dashboard/planted.py")
    assert violation.startswith("dashboard/planted.py:1: dynamic-import: __import__('dispatch.kpi')")


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
    "SELECT 1 FROM ONLY sites", "DROP TABLE IF EXISTS public.sites",
])
def test_every_sql_verb_that_names_a_table_is_checked(architecture: Architecture, statement: str) -> None:
    [violation] = _violations(architecture, f"conn.execute({statement!r})\n", "rules/planted.py")
    assert violation.startswith("rules/planted.py:1: foreign-table: rules names table sites, owned by ingest")


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
