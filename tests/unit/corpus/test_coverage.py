"""Every corpus capture is asserted by some corpus test module, and every case names a file.

Loads each ``tests/unit/corpus/test_*.py`` by path and unions their ``CASES`` keys.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from tests.corpus import CORPUS, all_capture_paths

_HERE = Path(__file__).parent


def _load(path: Path) -> ModuleType:
    """The module at ``path``, under the dotted name pytest gives it (reused if loaded)."""
    name = f"tests.unit.corpus.{path.stem}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # Registered before running: dataclasses look their module up in sys.modules.
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def _cases_by_module() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in sorted(_HERE.glob("test_*.py")):
        if path.resolve() == Path(__file__).resolve():
            continue
        cases = getattr(_load(path), "CASES", None)
        if isinstance(cases, dict):
            found[path.name] = {str(key) for key in cases}
    return found


def test_every_capture_is_in_some_cases() -> None:
    covered = set().union(*_cases_by_module().values())
    missing = [path for path in all_capture_paths() if path not in covered]
    assert not missing, f"{len(missing)} captures are in no CASES:\n  " + "\n  ".join(missing)


def test_every_case_names_an_existing_capture() -> None:
    dangling = sorted(
        f"{module}: {key}"
        for module, keys in _cases_by_module().items()
        for key in keys
        if not (CORPUS / key).is_file()
    )
    assert not dangling, "CASES keys without a file:\n  " + "\n  ".join(dangling)
