"""The public surface: each face's ``__all__`` is sorted and names exactly what it exports."""

from __future__ import annotations

import importlib
import types

import pytest

FACES = ["platonicam.onvif", "platonicam.discovery"]


@pytest.mark.parametrize("module_name", FACES)
def test_all_is_sorted_and_complete(module_name: str) -> None:
    module = importlib.import_module(module_name)
    exported = module.__all__
    assert exported == sorted(exported), f"{module_name}.__all__ is not sorted"
    public = {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and not isinstance(value, types.ModuleType)
        and name not in {"annotations"}
    }
    assert set(exported) == public, (
        f"{module_name}: exported but not in __all__: {sorted(public - set(exported))}; "
        f"in __all__ but missing: {sorted(set(exported) - public)}"
    )


def test_importing_the_root_package_is_cheap() -> None:
    # `import platonicam` must not pull in httpx or lxml (the CLI and device import what they use).
    import subprocess
    import sys

    code = "import sys, platonicam; print('httpx' in sys.modules, 'lxml' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
