"""House rules that keep the app small, fast to start and easy to grow (DESIGN §3, §4).

The import graph is built from the source with `ast` (relative imports resolved; imports inside functions
count, imports under `if TYPE_CHECKING:` do not), so a rule breaks here before it breaks at runtime.
"""

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import oncall_tui

PACKAGE = Path(oncall_tui.__file__).parent
FED_BY_CONSTRUCTOR = ("ui/screens", "ui/widgets")  # never reach a feature through the App


# -- the import graph ------------------------------------------------------------------------------------
def module_files(root: Path = PACKAGE) -> dict[str, tuple[Path, bool]]:
    """Every module of the package: dotted name → (file, is a package)."""
    out = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts.pop()
        out[".".join(parts)] = (path, is_package)
    return out


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _import_nodes(node: ast.AST):
    """Import statements that run (at import time or when a function runs); not those for type checkers."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _is_type_checking(child):
            for stmt in child.orelse:
                yield from _import_nodes_of(stmt)
            continue
        yield from _import_nodes_of(child)


def _import_nodes_of(node: ast.AST):
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        yield node
    yield from _import_nodes(node)


def _imports(name: str, path: Path, is_package: bool, *, type_checking: bool = False):
    """(module, [imported names]) per import statement, relative imports made absolute."""
    tree = ast.parse(path.read_text(), filename=str(path))
    nodes = ast.walk(tree) if type_checking else _import_nodes(tree)
    here = name if is_package else name.rpartition(".")[0]
    for node in nodes:
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, []
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                parts = here.split(".")
                module = ".".join(parts[: len(parts) - (node.level - 1)] + ([module] if module else []))
            yield module, [alias.name for alias in node.names]


def imported_names(name: str, path: Path, is_package: bool, *, type_checking: bool = False) -> set[str]:
    """Absolute dotted names this module imports (`from a import b` gives a and a.b)."""
    out = set()
    for module, names in _imports(name, path, is_package, type_checking=type_checking):
        out.add(module)
        out.update(f"{module}.{n}" for n in names)
    return out


def import_graph(root: Path = PACKAGE) -> dict[str, set[str]]:
    """module → the package's modules it imports. `from pkg import sub` is an edge to pkg.sub, not to pkg;
    the implicit import of a module's parent packages is not an edge (as for Python's circular imports)."""
    modules = module_files(root)

    def nearest(dotted: str) -> str | None:
        while dotted and dotted not in modules:
            dotted = dotted.rpartition(".")[0]
        return dotted or None

    graph = {}
    for name, (path, is_package) in modules.items():
        deps = set()
        for module, names in _imports(name, path, is_package):
            subs = [f"{module}.{n}" for n in names if f"{module}.{n}" in modules]
            deps.update(subs)
            if len(subs) < len(names) or not names:  # something from the module itself
                deps.add(nearest(module))
        deps.discard(None)
        deps.discard(name)
        graph[name] = deps
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One shortest cycle per strongly connected component, as [a, b, …, a]."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def visit(v: str) -> None:  # Tarjan; the graph is small enough for recursion
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(component)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    found = []
    for component in components:
        start = min(component)
        paths = {start: [start]}
        frontier = [start]
        while frontier:  # breadth first: the first way back to start is a shortest cycle
            back = [v for v in frontier if start in graph[v]]
            if back:
                found.append(paths[back[0]] + [start])
                break
            nxt = []
            for v in frontier:
                for w in sorted(graph[v] & component):
                    if w not in paths:
                        paths[w] = paths[v] + [w]
                        nxt.append(w)
            frontier = nxt
    return sorted(found)


def test_the_graph_sees_the_imports_it_should():
    graph = import_graph()
    assert "oncall_tui.args" in graph["oncall_tui.cli"]
    assert "oncall_tui.ui.app" in graph["oncall_tui.cli"]  # an import inside a function counts
    assert "oncall_tui.ui.widgets.model_panel" in graph["oncall_tui.ui.registry_ui"]  # relative, resolved
    assert "oncall_tui.ui.silencing" not in graph["oncall_tui.ui.screens.silences"]  # TYPE_CHECKING only
    assert "oncall_tui.stack" not in graph["oncall_tui.stack.local"]  # `from pkg import sub` is pkg.sub


def test_a_cycle_is_found_and_printed():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"e2"}, "e2": {"e"}}
    assert sorted(cycles(graph)) == [["a", "b", "c", "a"], ["e", "e2", "e"]]


def test_no_module_imports_a_module_that_imports_it_back():
    found = cycles(import_graph())
    assert not found, "import cycles:\n" + "\n".join("  " + " -> ".join(c) for c in found)


# -- textual only in ui/ ---------------------------------------------------------------------------------
def test_nothing_outside_ui_imports_textual_in_the_source():
    offenders = []
    for name, (path, is_package) in module_files().items():
        if name == "oncall_tui.ui" or name.startswith("oncall_tui.ui."):
            continue
        for target in imported_names(name, path, is_package, type_checking=True):
            if target == "textual" or target.startswith("textual."):
                offenders.append(f"{name} imports {target}")
    assert not offenders, "\n".join(sorted(set(offenders)))


def modules_outside_ui():
    for info in pkgutil.walk_packages(oncall_tui.__path__, "oncall_tui."):
        if not info.name.startswith("oncall_tui.ui"):
            yield info.name


def run(code):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def test_nothing_outside_ui_imports_textual():
    names = sorted(modules_outside_ui())
    code = (
        "import importlib, sys\n"
        f"for name in {names!r}:\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except ImportError as exc:\n"
        "        if 'textual' in str(exc): raise\n"
        "print(sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.')))\n"
    )
    result = run(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_first_frame_path_does_not_import_mlflow_kubernetes_or_pandas():
    result = run("import sys, oncall_tui.cli, oncall_tui.ui.app\n"
                 "print(sorted({m.split('.')[0] for m in sys.modules} & {'mlflow', 'kubernetes', 'pandas'}))")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


# -- screens and widgets are fed by their constructor -------------------------------------------------------
def app_api() -> set[str]:
    """What a screen may use of the App: Textual's public App API (push_screen, notify, theme…), nothing
    the project adds to it (features such as silencing, registry, cluster, signals, runbooks, audit)."""
    from textual.app import App

    return {name for name in dir(App) if not name.startswith("_")}


def app_feature_uses(source: str, filename: str = "<source>") -> list[str]:
    """`<x>.app.<attr>`, `app.<attr>` and `getattr(<x>.app or app, "<attr>")` with attr outside the App API."""
    allowed = app_api()
    found = []
    for node in ast.walk(ast.parse(source, filename=filename)):
        owner = attr = None
        if isinstance(node, ast.Attribute):
            owner, attr = node.value, node.attr
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in {"getattr", "hasattr"}
              and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant)):
            owner, attr = node.args[0], str(node.args[1].value)
        is_app = (isinstance(owner, ast.Attribute) and owner.attr == "app") or (
            isinstance(owner, ast.Name) and owner.id == "app")
        if is_app and attr not in allowed:
            found.append(f"{filename}:{node.lineno}: {ast.unparse(node)}")
    return found


def test_the_feature_check_catches_what_it_should():
    source = ("class S:\n"
              "    def f(self):\n"
              "        self.app.silencing.open_form([])\n"
              "        self.app.incidents.open()\n"  # a feature nobody has written yet
              "        self.cluster.app.audit\n"
              "        getattr(self.app, 'registry', None)\n"
              "        app = self.app\n"
              "        app.signals.zoom(None)\n"
              "        self.app.push_screen(None); self.app.notify('x'); self.app.theme; self.app.pop_screen()\n")
    assert len(app_feature_uses(source)) == 5


def test_screens_and_widgets_never_reach_a_feature_through_the_app():
    found = []
    for folder in FED_BY_CONSTRUCTOR:
        for path in sorted((PACKAGE / folder).rglob("*.py")):
            found += app_feature_uses(path.read_text(), str(path.relative_to(PACKAGE)))
    assert not found, "give the screen what it needs in its constructor instead:\n" + "\n".join(found)


def test_test_modules_have_unique_names():
    """tests/ has no __init__.py: two test files with one name make pytest stop at collection."""
    from collections import Counter
    from pathlib import Path

    names = Counter(p.name for p in (Path(__file__).resolve().parents[1]).rglob("test_*.py"))
    assert not [name for name, count in names.items() if count > 1]
