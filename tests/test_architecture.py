"""The layout rules of the ``terms`` package, read from the source (docs/development.md).

- At most twelve modules sit directly in ``terms/``; the rest live in packages
  that say who owns what.
- Module-level imports inside ``terms`` form no cycle.
- The domain (``documents``, ``workflow``, ``reads``) imports nothing, at any
  level, from what serves or integrates it (``serving``, ``integrations``,
  ``api``, ``web``, ``admin``): those listen to the domain's events instead.
"""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "terms"
DOMAIN = ("documents", "workflow", "reads")
OUTER = ("serving", "integrations", "api", "web", "admin")


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if "migrations" in parts:
            continue
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _package_of(module: str, path: Path) -> str:
    return module if path.name == "__init__.py" else module.rpartition(".")[0]


def _targets(module: str, node: ast.AST) -> set[str]:
    """The ``terms`` modules an import statement loads (their packages included,
    except the importing module's own)."""
    names: list[str] = []
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    elif isinstance(node, ast.ImportFrom):
        base = node.module or ""
        if node.level:
            package = _package_of(module, MODULES[module]).split(".")
            package = package[: len(package) - node.level + 1]
            base = ".".join(package + ([base] if base else []))
        names = [base]
        names += [f"{base}.{alias.name}" for alias in node.names]
    loaded = set()
    for name in names:
        if name.split(".")[0] != "terms":
            continue
        parts = name.split(".")
        for end in range(1, len(parts) + 1):
            prefix = ".".join(parts[:end])
            if prefix in MODULES:
                loaded.add(prefix)
    # A module's own packages are imported before it, whatever it names.
    return {
        name for name in loaded if name != module and not module.startswith(name + ".")
    }


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _module_level(tree: ast.Module):
    """Import statements run when the module is imported (not in functions)."""
    pending = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If) and not _is_type_checking(node):
            pending.extend(node.body + node.orelse)
        elif isinstance(node, ast.Try):
            pending.extend(node.body + node.orelse + node.finalbody)
            for handler in node.handlers:
                pending.extend(handler.body)
        elif isinstance(node, ast.With):
            pending.extend(node.body)


def _graph(level: str) -> dict[str, set[str]]:
    graph = {}
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(), str(path))
        nodes = (
            _module_level(tree)
            if level == "module"
            else (
                n for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom)
            )
        )
        graph[module] = set().union(*(_targets(module, node) for node in nodes))
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in graph.get(node, ()):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_graph_is_read_from_the_source():
    graph = _graph("module")
    # Known edges: if the reader broke, these would vanish and the rules
    # below would pass on an empty graph.
    assert "terms.models" in graph["terms.workflow.services"]
    assert "terms.documents.document" in graph["terms.workflow.services"]
    assert len(MODULES) > 60


def test_few_modules_sit_directly_in_the_package():
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(top) <= 12, top


def test_module_level_imports_form_no_cycle():
    assert _cycles(_graph("module")) == []


def test_the_cycle_check_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [
        ["a", "b", "c"]
    ]


def test_the_domain_imports_nothing_from_what_serves_it():
    graph = _graph("any")
    outer = tuple(f"terms.{name}" for name in OUTER)
    wrong = {
        module: sorted(t for t in targets if t.startswith(outer))
        for module, targets in graph.items()
        if module.startswith(tuple(f"terms.{name}" for name in DOMAIN))
    }
    assert {module: targets for module, targets in wrong.items() if targets} == {}


def test_the_layout_in_the_docs_names_what_the_package_holds():
    """docs/development.md draws the tree: every package of ``terms/`` is in
    it, and every module it names exists where it says."""
    import re

    text = (PACKAGE.parent / "docs" / "development.md").read_text()
    tree = text.split("```", 2)[1]
    named_packages = set(re.findall(r"^  (\w+)/", tree, flags=re.M))
    packages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()} - {
        "migrations",
        "management",
    }
    assert packages <= named_packages, sorted(packages - named_packages)
    block = tree.split("\nterms/", 1)[1].split("\nfixtures/", 1)[0]
    current = None
    missing = []
    for line in block.splitlines():
        package = re.match(r"^  (\w+)/", line)
        if package:
            current = package.group(1)
        elif re.match(r"^  \S", line):
            current = None  # a module of terms/ itself
        for module in set(re.findall(r"\b(\w+)\.py\b", line)) - {"manage"}:
            places = [PACKAGE, *([PACKAGE / current] if current else [])]
            if not any((place / f"{module}.py").exists() for place in places):
                missing.append((current, module))
    assert missing == []
