"""The Spark engine on a Spark standalone cluster: a master and a worker started here on loopback,
each its own JVM, the executor a third, launched by the worker. The path a cluster takes (no local
master, none of the local settings, the executors' Python as a cluster's is set up: hccwatch
installed for them, as docs/batch.md asks) must write the bytes the embedded engine writes."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from result_files import same_files

from hccwatch.population.run import run_batch
from hccwatch.population.spark_engine import spark_available
from support import AS_OF

WHY_NOT = spark_available()
pytestmark = [
    pytest.mark.spark,
    pytest.mark.skipif(WHY_NOT is not None, reason=f"Spark tests skipped: {WHY_NOT}"),
]
# A hang guard for the cluster's start (a JVM each), not a performance bound.
START_TIMEOUT_S = 180


def _wait_for(log: Path, pattern: str, proc: subprocess.Popen[bytes]) -> re.Match[str]:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace") if log.exists() else ""
        found = re.search(pattern, text)
        if found:
            return found
        if proc.poll() is not None:
            break
        time.sleep(0.2)
    pytest.fail(f"{log.name}: no line matching {pattern!r}:\n{log.read_text(errors='replace')[-4000:]}")


def _start(home: Path, cls: str, args: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [str(home / "bin" / "spark-class"), cls, *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # its own process group: stopped whole, whatever it started
        )


def _stop(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def _stop_active_context() -> None:
    # The engine reuses the running context (getOrCreate): another test's local one must go, or
    # the cluster's master would never be asked for.
    from pyspark import SparkContext

    active = SparkContext._active_spark_context
    if active is not None:
        active.stop()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    import pyspark

    home = Path(pyspark.__file__).parent
    base = tmp_path_factory.mktemp("standalone")
    env = {
        **os.environ,
        "SPARK_HOME": str(home),
        "SPARK_LOG_DIR": str(base / "logs"),
        "SPARK_WORKER_DIR": str(base / "work"),
        # No REST submission server (a fixed port, 6066) and no web UIs: nothing but the two ports.
        "SPARK_MASTER_OPTS": "-Dspark.master.rest.enabled=false -Dspark.ui.enabled=false",
        "SPARK_WORKER_OPTS": "-Dspark.ui.enabled=false",
    }
    master_log, worker_log = base / "master.log", base / "worker.log"
    master = _start(
        home,
        "org.apache.spark.deploy.master.Master",
        ["--host", "127.0.0.1", "--port", "0", "--webui-port", "0"],
        master_log,
        env,
    )
    worker: subprocess.Popen[bytes] | None = None
    try:
        port = _wait_for(master_log, r"service 'sparkMaster' on port (\d+)", master).group(1)
        url = f"spark://127.0.0.1:{port}"
        worker = _start(
            home,
            "org.apache.spark.deploy.worker.Worker",
            [
                url,
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--webui-port",
                "0",
                "--cores",
                "2",
                "--memory",
                "1g",
            ],
            worker_log,
            env,
        )
        _wait_for(worker_log, r"Successfully registered with master", worker)
        _stop_active_context()
        yield url
    finally:
        _stop_active_context()
        if worker is not None:
            _stop(worker)
        _stop(master)


def test_a_standalone_cluster_writes_the_bytes_of_the_embedded_engine(
    cluster: str, export_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The executors' Python: this interpreter, where hccwatch is installed (a cluster's image or
    # packed environment, in docs/batch.md). Nothing else of the driver's reaches them.
    monkeypatch.setenv("PYSPARK_PYTHON", sys.executable)
    run_batch(export_dir, tmp_path / "duckdb", as_of=AS_OF)
    run_batch(export_dir, tmp_path / "cluster", as_of=AS_OF, engine="spark", spark_master=cluster)
    from pyspark import SparkContext

    active = SparkContext._active_spark_context
    assert active is not None and active.master == cluster  # the cluster did the work
    same_files(tmp_path / "duckdb", tmp_path / "cluster")
