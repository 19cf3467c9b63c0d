"""The teaching notebooks in notebooks/ run top to bottom and are stored without outputs.

Each notebook is executed by nbclient in a fresh kernel (cwd = notebooks/, headless
matplotlib through MPLBACKEND=Agg).  The kernel must be *this* interpreter: a
``python3`` kernelspec found elsewhere (say in ~/.local/share/jupyter) could run another
Python without ``mono``.  So the ``python3`` spec is used only when it launches
``sys.executable``; otherwise the kernel is started from a temporary spec that does.
A cell prepended to the in-memory copy of each notebook asserts that the kernel's
``sys.prefix`` is ours.

The notebooks are independent, so they run concurrently (two kernels at a time, one per
core) in one event loop; each notebook still gets its own pass/fail.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel  # noqa: E402
from jupyter_client.manager import AsyncKernelManager  # noqa: E402

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
PATHS = sorted(NOTEBOOKS.glob("*.ipynb"))
EXPECTED = 4
CELL_TIMEOUT = 120          # seconds per cell; each notebook runs in well under a minute
CONCURRENT_KERNELS = 2      # the notebooks are single-threaded numpy: one kernel per core
MAX_STORED_OUTPUT = 2_000   # bytes of outputs a stored notebook may carry (we store none)

# jupyter_client replaces these argv[0] names by sys.executable when it launches a kernel
_PLAIN_PYTHON = {"python", f"python{sys.version_info[0]}",
                 f"python{sys.version_info[0]}.{sys.version_info[1]}"}


def launches_this_python(argv) -> bool:
    """True if a kernelspec's argv starts the interpreter running this test."""
    if not argv:
        return False
    if argv[0] in _PLAIN_PYTHON:
        return True
    # compare the paths, not their symlink targets: a venv's python is a symlink to the
    # base interpreter, which would run without the venv's packages
    return os.path.abspath(argv[0]) == os.path.abspath(sys.executable)


def kernel_manager(tmp_path: Path) -> AsyncKernelManager:
    """A kernel manager whose kernel runs ``sys.executable -m ipykernel_launcher``."""
    try:
        spec = KernelSpecManager().get_kernel_spec("python3")
    except NoSuchKernel:
        spec = None
    if spec is not None and launches_this_python(spec.argv):
        return AsyncKernelManager(kernel_name="python3")
    kernels = tmp_path / "kernels"
    (kernels / "mono-test").mkdir(parents=True, exist_ok=True)
    (kernels / "mono-test" / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "mono test kernel", "language": "python"}))
    return AsyncKernelManager(kernel_name="mono-test",
                              kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(kernels)]))


def _prefix_check_cell():
    return nbformat.v4.new_code_cell(
        "import sys\n"
        f"assert sys.prefix == {sys.prefix!r}, "
        "f'the kernel runs {sys.executable}, not the interpreter of the test'")


async def _run_all(paths, tmp_path: Path) -> dict:
    """Execute every notebook; map its name to None (success) or the exception raised."""
    gate = asyncio.Semaphore(CONCURRENT_KERNELS)

    async def run(path: Path):
        nb = nbformat.read(path, as_version=4)
        nb.cells.insert(0, _prefix_check_cell())
        client = nbclient.NotebookClient(
            nb, km=kernel_manager(tmp_path), timeout=CELL_TIMEOUT, allow_errors=False,
            resources={"metadata": {"path": str(NOTEBOOKS)}})   # the kernel's cwd
        async with gate:
            await client.async_execute()     # raises CellExecutionError at a failing cell
        errors = [out for cell in nb.cells if cell.cell_type == "code"
                  for out in cell.outputs if out.output_type == "error"]
        if errors:
            raise AssertionError(f"{path.name}: error outputs {errors}")

    results = await asyncio.gather(*(run(p) for p in paths), return_exceptions=True)
    return {p.name: r for p, r in zip(paths, results)}


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    saved = os.environ.get("MPLBACKEND")
    os.environ["MPLBACKEND"] = "Agg"          # inherited by the kernels
    try:
        return asyncio.run(_run_all(PATHS, tmp_path_factory.mktemp("kernels")))
    finally:
        if saved is None:
            os.environ.pop("MPLBACKEND", None)
        else:
            os.environ["MPLBACKEND"] = saved


def test_four_notebooks_exist():
    assert len(PATHS) == EXPECTED, [p.name for p in PATHS]


@pytest.mark.parametrize("path", PATHS, ids=[p.name for p in PATHS])
def test_stored_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.nbformat == 4
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code, "a notebook without code"
    assert any(cell.cell_type == "markdown" for cell in nb.cells), "a notebook without prose"
    stored = sum(len(json.dumps(cell.outputs)) for cell in code)
    assert stored <= MAX_STORED_OUTPUT, f"{path.name} stores {stored} bytes of outputs; clear them"
    assert all(cell.execution_count is None for cell in code), "execution counts left in"


@pytest.mark.parametrize("path", PATHS, ids=[p.name for p in PATHS])
def test_runs_top_to_bottom(path, executed):
    failure = executed[path.name]
    if failure is not None:
        raise failure


def test_kernel_choice_prefers_this_interpreter(tmp_path):
    # the fallback spec starts sys.executable; a foreign python3 spec is not trusted
    assert launches_this_python(["python", "-m", "ipykernel_launcher"])
    assert launches_this_python([sys.executable, "-m", "ipykernel_launcher"])
    assert not launches_this_python(["/opt/elsewhere/bin/python3", "-m", "ipykernel_launcher"])
    assert not launches_this_python([])
    km = kernel_manager(tmp_path)
    spec = km.kernel_spec
    assert launches_this_python(spec.argv)
