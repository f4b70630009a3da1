"""Execute one notebook with nbclient: the sandboxed child of ``grader/notebooks/run.py``.

Standalone on purpose (it imports nothing from the grader): it is copied into the run's temp
folder and started through ``sandbox.run_command``, so it and its kernel live under the sandbox's
limits, user and empty network namespace. The kernel talks to it over Unix sockets (ZMQ ``ipc``),
since loopback TCP is down in a fresh network namespace.

Before the student's first cell it runs the grader's hidden ``setup.py`` (counters the probe reads),
after the last one ``probe.py``; neither stays in the notebook. It writes, in ``--run-dir``: ``executed.ipynb`` (after every cell, so a killed run still leaves
what it produced), ``progress.json`` (the cell being run) and ``status.json`` at the end. The
grader treats all three as untrusted: the student's kernel could have rewritten them.
"""
from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import nbformat
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

HIDDEN_CELL_TIMEOUT_S = 60


def write_json_atomic(path: Path, data: dict) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, path)


def write_notebook_atomic(path: Path, nb) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    nbformat.write(nb, str(tmp))
    os.replace(tmp, path)


def error_of(nb, index: int) -> dict:
    """The error output a failed cell left: {ename, evalue, traceback}."""
    for output in nb.cells[index].get("outputs", []):
        if output.get("output_type") == "error":
            return {"ename": output.get("ename", ""), "evalue": output.get("evalue", ""),
                    "traceback": list(output.get("traceback", []))}
    return {}


class Run:
    """One notebook, one kernel; ``status`` collects what happened for status.json."""

    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.run_dir = Path(args.run_dir).resolve()
        self.nb = nbformat.read(str(self.run_dir / "input.ipynb"), as_version=4)
        self.setup_source = self.take("setup.py")
        self.probe_source = self.take("probe.py")
        self.deadline = time.monotonic() + args.total_timeout
        self.current: int | None = None
        self.status: dict = {"status": "ok", "cell_index": None, "cell_seconds": {}}
        self.started_at = time.monotonic()

    def take(self, name: str) -> str:
        """Read one of the grader's snippets and delete it before any student code runs."""
        path = self.run_dir / name
        text = path.read_text() if path.is_file() else ""
        path.unlink(missing_ok=True)
        return text

    def cell_timeout(self, cell) -> int:
        remaining = self.deadline - time.monotonic()
        return max(1, int(min(self.args.cell_timeout, remaining)))

    def on_cell_start(self, cell, cell_index: int) -> None:
        self.current = cell_index
        self.started_at = time.monotonic()
        write_json_atomic(self.run_dir / "progress.json", {"cell_index": cell_index})

    def on_cell_executed(self, cell, cell_index: int, execute_reply) -> None:
        self.status["cell_seconds"][str(cell_index)] = round(time.monotonic() - self.started_at, 3)
        write_notebook_atomic(self.run_dir / "executed.ipynb", self.nb)

    def client(self) -> NotebookClient:
        km = AsyncKernelManager(kernel_name="python3", transport="ipc", ip=str(self.run_dir / "kernel"))
        return NotebookClient(
            self.nb, km=km, timeout=self.args.cell_timeout, timeout_func=self.cell_timeout,
            startup_timeout=self.args.startup_timeout, interrupt_on_timeout=False, allow_errors=False,
            record_timing=True, shutdown_kernel="immediate",
            resources={"metadata": {"path": str(Path(self.args.cwd).resolve())}},
            on_cell_start=self.on_cell_start, on_cell_executed=self.on_cell_executed,
        )

    def execute(self) -> None:
        client = self.client()
        try:
            with client.setup_kernel(cleanup_kc=True):
                if self.setup_source:
                    self.run_hidden(client, self.setup_source, "setup")
                kernel_alive = self.execute_cells(client)
                if kernel_alive and self.probe_source:
                    self.status["probe_stdout"] = self.run_hidden(client, self.probe_source, "probe")[-200_000:]
        except DeadKernelError:
            self.fail("dead_kernel", self.current)
        except RuntimeError as exc:  # the kernel never came up
            if self.status["status"] == "ok":
                self.status.update(status="kernel_start_failed", message=str(exc)[:2000])
        finally:
            write_notebook_atomic(self.run_dir / "executed.ipynb", self.nb)

    def execute_cells(self, client: NotebookClient) -> bool:
        """Run every cell until one fails; returns whether the kernel can still run the probe."""
        for index, cell in enumerate(self.nb.cells):
            try:
                client.execute_cell(cell, index, execution_count=client.code_cells_executed + 1)
            except CellTimeoutError:
                total = time.monotonic() >= self.deadline - 1
                self.fail("timeout", index, limit="total" if total else "cell")
                return False
            except DeadKernelError:
                self.fail("dead_kernel", index)
                return False
            except CellExecutionError:
                self.fail("error", index, **error_of(self.nb, index))
                return True
        return True

    def run_hidden(self, client: NotebookClient, source: str, name: str) -> str:
        """Run one of the grader's cells (setup before the student's, probe after) without keeping it
        in the notebook; returns what it printed."""
        cell = nbformat.v4.new_code_cell(source)
        self.nb.cells.append(cell)
        hooks = client.timeout_func, client.on_cell_start, client.on_cell_executed
        executed_before = client.code_cells_executed  # the student's In [n] numbering stays as in Jupyter
        client.timeout_func, client.on_cell_start, client.on_cell_executed = (lambda c: HIDDEN_CELL_TIMEOUT_S,
                                                                              None, None)
        try:
            client.execute_cell(cell, len(self.nb.cells) - 1, store_history=False)
        except (CellExecutionError, CellTimeoutError) as exc:
            self.status[f"{name}_error"] = type(exc).__name__
        finally:
            self.nb.cells.pop()
            client.timeout_func, client.on_cell_start, client.on_cell_executed = hooks
            client.code_cells_executed = executed_before
        return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream")

    def fail(self, status: str, index: int | None, **info) -> None:
        self.status.update(status=status, cell_index=index, **info)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run-dir", required=True, help="holds input.ipynb, setup.py and probe.py; receives the "
                                                         "results")
    parser.add_argument("--cwd", required=True, help="the kernel's working directory (the notebook's folder)")
    parser.add_argument("--cell-timeout", type=float, required=True)
    parser.add_argument("--total-timeout", type=float, required=True)
    parser.add_argument("--startup-timeout", type=int, default=60)
    args = parser.parse_args()
    run = Run(args)
    try:
        run.execute()
    finally:
        write_json_atomic(run.run_dir / "status.json", run.status)


if __name__ == "__main__":
    main()
