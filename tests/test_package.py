"""The package installs as `mono`, `mono.bounds`, `mono.construct`, regular and editable."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

import mono
from mono.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_cli_version_and_help(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert mono.__version__ in capsys.readouterr().out
    assert main([]) == 0
    out = capsys.readouterr().out
    for command in ("bounds", "eval", "verify"):
        assert command in out


def test_editable_install_maps_the_source_folders():
    import mono.bounds
    import mono.construct

    assert Path(mono.bounds.__file__).parent == ROOT / "bounds"
    assert Path(mono.construct.__file__).parent == ROOT / "construct"


def test_regular_install_contains_every_module(tmp_path):
    """A non-editable build ships every module of bounds/ and construct/ under mono."""
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps",
         "--target", str(target), str(ROOT)],
        check=True, capture_output=True, timeout=300,
    )
    for folder, package in (("bounds", "mono/bounds"), ("construct", "mono/construct")):
        shipped = {p.name for p in (target / package).glob("*.py")}
        source = {p.name for p in (ROOT / folder).glob("*.py")}
        assert source <= shipped, f"{folder}: missing {sorted(source - shipped)}"
    assert not (target / "tests").exists()
    # Import from the regular install only: run from an empty folder with it first on the path.
    env = dict(os.environ, PYTHONPATH=str(target))
    probe = "import mono.bounds, mono.construct, mono.cli; print(mono.bounds.__file__)"
    out = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=env,
                         check=True, capture_output=True, text=True).stdout
    assert out.strip().startswith(str(target))
