"""The engine's arrangement as rules: no import circles (every import counted, also those inside functions);
a method's folder imports only what lies below it, never the run-level modules nor another method; no file
outside a method's folder names that method; engine/ never imports streamlit."""
from __future__ import annotations

import ast
import re
from pathlib import Path

from engine import methods

ROOT = Path(__file__).resolve().parents[1]
ENGINE = ROOT / "engine"
# The run-level modules: they read the method registry; a method folder must not reach up to them.
RUN_LEVEL = {"engine.train", "engine.evaluate", "engine.preflight", "engine.jobs", "engine.cli", "engine.report",
             "engine.export", "engine.settings", "engine.runs", "engine.chat", "engine.methods", "engine.__main__"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in ENGINE.rglob("*.py")}


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The engine modules this file imports, wherever the import statement is."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parent + ([base] if base else []))
            for alias in node.names:  # `from . import runs` imports the module engine.runs
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base)
    return {m for m in found if m in known and m != name}


def graph() -> dict[str, set[str]]:
    found = modules()
    edges = {name: imports(name, path, set(found)) for name, path in found.items()}
    edges["engine.methods"] |= {f"engine.methods.{n}" for n in methods.NAMES}  # the registry's importlib line
    return edges


def test_the_engine_has_no_import_circles():
    edges = graph()
    cycles, state = [], {}

    def visit(node, stack):
        state[node] = "open"
        for nxt in sorted(edges[node]):
            if state.get(nxt) == "open":
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = "done"

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])
    assert not cycles, "\n".join(" -> ".join(c) for c in cycles)


def test_a_method_folder_imports_only_what_lies_below_it():
    edges = graph()
    wrong = []
    for name in methods.NAMES:
        folder = f"engine.methods.{name}"
        for module, targets in edges.items():
            if module == folder or module.startswith(folder + "."):
                for target in targets:
                    other_method = target.startswith("engine.methods.") and target.split(".")[2] in methods.NAMES \
                        and target.split(".")[2] != name
                    if target in RUN_LEVEL or any(target.startswith(r + ".") for r in RUN_LEVEL - {"engine.methods"}) \
                            or other_method:
                        wrong.append(f"{module} imports {target}")
    assert not wrong, wrong


def test_no_file_outside_a_methods_folder_names_it():
    files = [*ENGINE.rglob("*.py"), *(ROOT / "pages").glob("*.py"), ROOT / "studio.py"]
    found = []
    for name in methods.NAMES:
        folder = ENGINE / "methods" / name
        word = re.compile(rf"\b{name}\b", re.IGNORECASE)
        for path in files:
            if folder in path.parents:
                continue
            for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
                if word.search(line) and not line.strip().startswith(f'"{name}",'):  # the registry's line
                    found.append(f"{path.relative_to(ROOT)}:{lineno}: {line.strip()}")
    assert not found, "\n".join(found)


def test_the_engine_never_imports_streamlit():
    found = [name for name, targets in ((n, imports(n, p, {"streamlit"} | set(modules()))) for n, p in
                                        modules().items()) if "streamlit" in targets]
    assert not found
