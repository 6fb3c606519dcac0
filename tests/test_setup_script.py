"""scripts/setup.sh, run on a small project of its own: shims stand in for dpkg-query, apt-get,
sudo and id (nothing is installed on this machine), pip installs offline.

Each case was a defect: every run asked apt-get for libglib2.0-0 on Debian 13 (renamed
libglib2.0-0t64); a .venv of another Python, with its interpreter gone or without pip was
used as it was; a Python too old was found only after installing Debian packages; no sudo
gave a bare "sudo: command not found"; an unreachable registry was not named.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "setup.sh"
PYTHON = os.path.realpath(sys.executable)
VENV_DEB = f"python3.{sys.version_info[1]}-venv"
DEBS = [VENV_DEB, "python3-pip", "libgl1", "libegl1", "libglib2.0-0t64", "libfontconfig1",
        "libdbus-1-3", "libxkbcommon0", "libxkbcommon-x11-0", "libxcb1", "libxcb-cursor0",
        "libxcb-icccm4", "libxcb-keysyms1", "libxcb-image0", "libxcb-render-util0",
        "libxcb-randr0", "libxcb-shape0", "libxcb-xinerama0", "libxcb-xkb1", "espeak-ng"]
# What the script runs besides the shims; a PATH of these alone has no sudo.
TOOLS = ["bash", "sh", "cat", "cut", "grep", "readlink", "mktemp", "rm", "dirname",
         "sha256sum", "env"]

# A build backend in the project itself: pip builds its editable wheel with nothing to fetch.
BACKEND = '''\
import base64, hashlib, zipfile

def _wheel(directory):
    info = "setup_probe-0.dist-info/"
    name, files = "setup_probe-0-py3-none-any.whl", {
        info + "METADATA": "Metadata-Version: 2.1\\nName: setup-probe\\nVersion: 0\\n",
        info + "WHEEL": ("Wheel-Version: 1.0\\nGenerator: probe\\nRoot-Is-Purelib: true\\n"
                         "Tag: py3-none-any\\n")}
    record = []
    with zipfile.ZipFile(f"{directory}/{name}", "w") as whl:
        for path, text in files.items():
            whl.writestr(path, text)
            digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest())
            record.append(f"{path},sha256={digest.rstrip(b'=').decode()},{len(text)}")
        whl.writestr(info + "RECORD", "\\n".join(record + [info + "RECORD,,"]) + "\\n")
    return name

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    return _wheel(wheel_directory)

build_editable = build_wheel
'''

SHIMS = {
    # -W: installed when listed in $FAKE_DEBS; -S: every interpreter is Debian's.
    "dpkg-query": '''#!/bin/sh
case "$1" in
  -S) echo "python3-minimal: $2" ;;
  -W) grep -qx "$3" "$FAKE_DEBS" && echo "install ok installed" && exit 0
      echo "dpkg-query: no packages found matching $3" >&2; exit 1 ;;
esac
''',
    "apt-get": '#!/bin/sh\necho "apt-get $*" >> "$FAKE_LOG"\n',
    "id": '#!/bin/sh\n[ "$1" = -u ] && echo "$FAKE_UID"\n',
    "old-python": '#!/bin/sh\n[ "$1" = --version ] && echo "Python 3.9.2" && exit 0\nexit 1\n',
}


@pytest.fixture
def project(tmp_path):
    """A project with this setup script, a pyproject.toml that installs offline, the shims
    and every Debian package installed (libglib under its Debian 13 name)."""
    return make_project(tmp_path)


@pytest.fixture(scope="module")
def made_venv(tmp_path_factory) -> Path:
    """The .venv a first run of setup.sh made, once for the module (the run takes seconds:
    venv, ensurepip, an editable install); a test copies it as its project's first run."""
    folder = make_project(tmp_path_factory.mktemp("template"))
    first = setup(folder)
    assert first.returncode == 0, first.stderr
    return folder / ".venv"


def make_project(tmp_path: Path) -> Path:
    """See :func:`project`."""
    folder = tmp_path / "project"
    (folder / "scripts").mkdir(parents=True)
    shutil.copy(SCRIPT, folder / "scripts" / "setup.sh")
    (folder / "_backend.py").write_text(BACKEND)
    write_pyproject(folder)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in SHIMS.items():
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    for name in TOOLS:
        (bin_dir / name).symlink_to(shutil.which(name))
    (bin_dir / "python3").symlink_to(PYTHON)
    (tmp_path / "debs").write_text("\n".join(DEBS + ["xvfb", "xauth", "postgresql"]) + "\n")
    return folder


def write_pyproject(folder: Path, build_requires: str = "") -> None:
    (folder / "pyproject.toml").write_text(f'''\
[build-system]
requires = [{build_requires}]
build-backend = "_backend"
backend-path = ["."]

[project]
name = "setup-probe"
version = "0"
''')


def setup(project: Path, *args: str, **env: str | None) -> subprocess.CompletedProcess:
    """Run the project's setup.sh; ``env`` adds variables, or with None removes them."""
    tmp = project.parent
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("PIP_", "PYTHON", "VIRTUAL_ENV"))}
    clean.update(PATH=str(tmp / "bin"), FAKE_DEBS=str(tmp / "debs"), FAKE_LOG=str(tmp / "apt"),
                 FAKE_UID="0", PIP_NO_INDEX="1", HOME=str(tmp))
    for name, value in env.items():
        if value is None:
            clean.pop(name, None)
        else:
            clean[name] = value
    return subprocess.run(["bash", str(project / "scripts" / "setup.sh"), *args], env=clean,
                          capture_output=True, text=True, timeout=300)


def apt_calls(project: Path) -> list[str]:
    log = project.parent / "apt"
    return log.read_text().splitlines() if log.exists() else []


def venv_works(project: Path) -> bool:
    return subprocess.run([str(project / ".venv" / "bin" / "python"), "-m", "pip", "--version"],
                          capture_output=True).returncode == 0


def test_a_second_run_installs_nothing(project):
    first = setup(project)
    assert first.returncode == 0, first.stderr
    stamp = (project / ".venv" / ".installed").read_text().split()
    assert stamp[1] == ".".join(map(str, sys.version_info[:3]))  # the venv's Python
    second = setup(project)
    assert second.returncode == 0, second.stderr
    assert (second.stdout, apt_calls(project)) == ("", [])


def test_missing_packages_are_installed_with_the_venv_module_of_this_python(project):
    debs = project.parent / "debs"
    debs.write_text("\n".join(d for d in DEBS[1:] if d != "espeak-ng") + "\n")
    result = setup(project)
    assert result.returncode == 0, result.stderr
    assert f"installing Debian packages: {VENV_DEB} espeak-ng" in result.stdout
    assert apt_calls(project)[-1] == f"apt-get install -y -qq {VENV_DEB} espeak-ng"


@pytest.mark.parametrize("damage, said", [
    ("other_python", ".venv was made by cpython-39"),
    ("python_gone", ".venv/bin/python does not run"),
    ("no_pip", ".venv has no pip"),
])
def test_a_venv_that_cannot_serve_is_made_anew(project, made_venv, damage, said):
    shutil.copytree(made_venv, project / ".venv", symlinks=True)
    assert setup(project).stdout == ""  # the copy serves as it is
    python = project / ".venv" / "bin" / "python"
    python.unlink()
    if damage == "other_python":  # what a venv of Python 3.9 answers
        python.write_text("#!/bin/sh\necho cpython-39\n")
        python.chmod(0o755)
    elif damage == "python_gone":  # the interpreter it linked to was removed by an upgrade
        python.symlink_to("/nonexistent/python3.9")
    else:  # ensurepip failed, or the first run was interrupted
        python.symlink_to(PYTHON)
        for pip in (project / ".venv").glob("lib/python3*/site-packages/pip"):
            shutil.rmtree(pip)
    result = setup(project)
    assert result.returncode == 0, result.stderr
    assert f"setup: {said}" in result.stdout
    assert venv_works(project)


def test_a_python_too_old_stops_before_any_package_is_installed(project):
    (project.parent / "debs").write_text("")
    result = setup(project, PYTHON="old-python")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "setup: Python 3.11 or newer is needed (found Python 3.9.2): install it and name it, "
        "e.g. PYTHON=python3.11 bash scripts/setup.sh"]
    assert apt_calls(project) == []


def test_without_sudo_it_says_what_to_run_as_root(project):
    (project.parent / "debs").write_text("\n".join(DEBS[:-1]) + "\n")
    result = setup(project, FAKE_UID="1000")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "setup: Debian packages are missing and there is no sudo here: as root run apt-get "
        "install espeak-ng; then run this again")
    assert apt_calls(project) == [] and not (project / ".venv").exists()


def test_an_unreachable_registry_is_named(project):
    write_pyproject(project, '"setuptools>=77.0.3"')  # to fetch for the build, as the kiosk's
    result = setup(project, PIP_NO_INDEX=None, PIP_INDEX_URL="http://127.0.0.1:9/simple",
                   PIP_RETRIES="1", PIP_TIMEOUT="5")
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1] == (
        "setup: pip could not reach the package registry (http://127.0.0.1:9/simple): check "
        "the network or proxy, then run this again")
