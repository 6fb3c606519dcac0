"""The kiosk without the ``[lab]`` extra: every module imports, lab commands say what is missing."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from kiosk.lab.extras import LAB_MODULES, LabExtraMissing, require_lab

# Runs first in a child interpreter: the lab extra's packages can neither be imported nor found.
_PRELUDE = textwrap.dedent("""
    import importlib, importlib.abc, importlib.util, pkgutil, sys

    BLOCKED = set({blocked!r})

    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ModuleNotFoundError(f"No module named {{name!r}} (blocked by the test)")
            return None

    sys.meta_path.insert(0, Block())
    _find = importlib.util.find_spec
    importlib.util.find_spec = lambda name, *a: (
        None if name.split(".")[0] in BLOCKED else _find(name, *a))
    """).format(blocked=LAB_MODULES)


def _run(body: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", _PRELUDE + textwrap.dedent(body)],
                          capture_output=True, text=True, timeout=300)


def test_every_kiosk_module_imports_without_the_lab_extra():
    result = _run("""
        import kiosk
        names = [m.name for m in pkgutil.walk_packages(kiosk.__path__, "kiosk.")
                 if m.name != "kiosk.__main__"]  # that one runs the CLI
        for name in names:
            importlib.import_module(name)
        assert not BLOCKED & set(sys.modules), sorted(BLOCKED & set(sys.modules))
        print(len(names), "modules")
        """)
    assert result.returncode == 0, result.stderr[-2000:]
    assert int(result.stdout.split()[0]) > 150


def test_evaluate_without_the_lab_extra_says_what_to_install(tmp_path):
    manifest = tmp_path / "m.csv"
    manifest.write_text("path,media,label,species,frames,events,subject,notes\n")
    result = _run(f"""
        from kiosk.cli import main
        sys.exit(main(["evaluate", {str(manifest)!r}, "--out", {str(tmp_path / "out")!r}],
                      environ={{}}))
        """)
    assert result.returncode == 2, result.stderr[-2000:]
    assert "needs the lab extra" in result.stderr
    assert "liveness-kiosk[lab]" in result.stderr
    assert "Traceback" not in result.stderr


def test_require_lab_passes_when_installed():
    require_lab("kiosk evaluate")  # the test set-up installs the extra


def test_require_lab_names_what_is_missing(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "tqdm" else real(name, *a))
    with pytest.raises(LabExtraMissing, match=r"kiosk evaluate needs the lab extra \(tqdm"):
        require_lab("kiosk evaluate")
