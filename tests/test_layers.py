"""The package has no import cycle, counting imports made inside functions (grimp sees those too).

import-linter's contracts keep the layers pointing down; a cycle inside one
layer (the line mode and its readers once imported each other) is caught here.
"""

from __future__ import annotations

import grimp


def test_no_module_imports_one_that_imports_it_back() -> None:
    graph = grimp.build_graph("qmpshell")
    cycles = [
        (module, imported)
        for module in sorted(graph.modules)
        for imported in graph.find_modules_directly_imported_by(module)
        if graph.chain_exists(importer=imported, imported=module)
    ]
    assert cycles == []


def test_every_package_is_installed() -> None:
    """A plain ``pip install .`` takes the packages pyproject.toml lists: a new sub-package left out
    of that list works in the editable checkout and is missing everywhere else."""
    from pathlib import Path

    import tomllib

    root = Path(__file__).resolve().parent.parent
    listed = set(tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {
        ".".join(path.parent.relative_to(root).parts) for path in (root / "qmpshell").rglob("__init__.py")
    }
    assert found == listed
