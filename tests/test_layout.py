"""The house rules of the layout, read from the modules themselves (their imports and
their functions), so anyone can check them and a change that breaks one fails here."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "worker"
#: Longest function (or method) in the package, in lines, decorators excluded.
MAX_FUNCTION_LINES = 80
#: Longest module of ``worker/jobs/``: a job that needs more is two jobs.
MAX_JOB_MODULE_LINES = 250


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path) -> set[str]:
    """Every module ``path`` imports, at any depth (inside functions too), as dotted names."""
    found: set[str] = set()
    package = module_name(path).rsplit(".", 0 if path.name == "__init__.py" else 1)[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolved against this module's package
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def modules(folder: str) -> list[Path]:
    return sorted((PACKAGE / folder).rglob("*.py")) if folder else sorted(PACKAGE.rglob("*.py"))


def importers_of(target: str, paths: list[Path]) -> list[str]:
    return [
        module_name(p)
        for p in paths
        if any(name == target or name.startswith(target + ".") for name in imported(p))
    ]


def test_the_rule_reader_sees_every_kind_of_import(tmp_path: Path) -> None:
    """The import reader itself: plain, from, relative and function-level imports."""
    sample = PACKAGE / "store" / "_layout_probe.py"
    source = (
        "import worker.notify\nfrom worker.notify import plan\nfrom ..notify import deliver\n"
        "def f():\n    from worker.notify.retry import judge_answer\n"
    )
    try:
        sample.write_text(source, encoding="utf-8")
        names = imported(sample)
    finally:
        sample.unlink()
    assert {"worker.notify", "worker.notify.plan", "worker.notify.deliver"} <= names
    assert "worker.notify.retry.judge_answer" in names


def test_the_store_never_calls_into_the_webhook_side() -> None:
    assert importers_of("worker.notify", modules("store")) == []


@pytest.mark.parametrize("folder", ["pipeline", "notify/plan.py"])
def test_decisions_never_import_the_store(folder: str) -> None:
    paths = [PACKAGE / folder] if folder.endswith(".py") else modules(folder)
    assert importers_of("worker.store", paths) == []


def test_the_pipeline_imports_no_edge() -> None:
    """The pure stages import neither the network, the database nor the jobs."""
    edges = ("worker.store", "worker.jobs", "worker.notify", "worker.sources", "httpx")
    assert [m for edge in edges for m in importers_of(edge, modules("pipeline"))] == []


def test_the_feed_job_has_rooms_of_its_own() -> None:
    assert not (PACKAGE / "app.py").exists() and not (PACKAGE / "ingest.py").exists()
    jobs = {p.stem for p in modules("jobs")}
    assert {"seeds", "feeds", "publish", "deliver", "parse_pool", "check", "commit"} <= jobs
    too_long = {
        p.name: n
        for p in modules("jobs")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_JOB_MODULE_LINES
    }
    assert too_long == {}


def test_no_function_is_longer_than_a_screen() -> None:
    too_long = []
    for path in modules(""):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    too_long.append(f"{module_name(path)}.{node.name}: {lines} lines")
    assert too_long == []


def test_every_job_module_says_what_it_does_not_do() -> None:
    says_not = re.compile(r"\b(?:not|nothing|never)\b", re.IGNORECASE)
    silent = [
        module_name(p)
        for p in modules("jobs")
        if not says_not.search(ast.get_docstring(ast.parse(p.read_text(encoding="utf-8"))) or "")
    ]
    assert silent == []


@pytest.mark.parametrize("name", ["decide", "Decision", "Signer"])
def test_one_meaning_per_name(name: str) -> None:
    """Names that read alike in an import line mean one thing: no two modules define them."""
    defining = []
    for path in modules(""):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            targets = [t.id for t in getattr(node, "targets", []) if isinstance(t, ast.Name)]
            if getattr(node, "name", None) == name or name in targets:
                defining.append(module_name(path))
    assert len(defining) <= 1, defining
