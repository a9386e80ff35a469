"""The workflow on a real scheduler: a one-node Slurm (Debian's slurm-wlm and munge), started
and stopped here, runs a subset of the CI smoke config through Snakemake's slurm executor
plugin with workflow/profiles/slurm; every job goes through sbatch.

Needs root, `apt-get install slurm-wlm munge` and `pip install -e '.[slurm]'` (.ci/run does
both); skipped otherwise. Measured: 5.2–9 minutes on two CPU cores shared with other jobs.
"""
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from importlib.util import find_spec
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DAEMONS = ("munged", "slurmctld", "slurmd", "sbatch", "squeue", "sinfo")
MISSING = [d for d in DAEMONS if not shutil.which(d) and not Path("/usr/sbin", d).exists()]

pytestmark = [
    pytest.mark.skipif(bool(MISSING), reason=f"Slurm is not installed (missing {MISSING}); "
                                             f"apt-get install slurm-wlm munge"),
    pytest.mark.skipif(find_spec("snakemake_executor_plugin_slurm") is None,
                       reason="the slurm executor plugin is not installed: pip install -e '.[slurm]'"),
    pytest.mark.skipif(os.geteuid() != 0, reason="starting slurmctld/slurmd/munged needs root"),
]


def _which(name):
    return shutil.which(name) or str(Path("/usr/sbin", name))


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


SYSTEM_CONF = Path("/etc/slurm/slurm.conf")
SLURM_CONF = """\
ClusterName=sambench
SlurmctldHost={host}
SlurmUser=root
SlurmdUser=root
SlurmctldPort={ctld_port}
SlurmdPort={slurmd_port}
AuthType=auth/munge
AuthInfo=socket={munge_socket}
CredType=cred/munge
StateSaveLocation={base}/state
SlurmdSpoolDir={base}/spool
SlurmctldPidFile={base}/slurmctld.pid
SlurmdPidFile={base}/slurmd.pid
SlurmctldLogFile={base}/slurmctld.log
SlurmdLogFile={base}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
MinJobAge=600
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
NodeName={host} CPUs={cpus} RealMemory=4000 State=UNKNOWN
PartitionName=sambench Nodes=ALL Default=YES MaxTime=INFINITE State=UP
"""


@pytest.fixture
def local_slurm(tmp_path):
    """munged, slurmctld and slurmd on this machine, with their own state under tmp_path;
    yields the environment that points Slurm's commands at them, then stops them."""
    base = tmp_path / "slurm"
    for d in ("state", "spool", "munge"):
        (base / d).mkdir(parents=True)
    host = socket.gethostname().split(".")[0]
    munge_socket = base / "munge" / "munge.socket"
    # The default path: the slurm-jobstep plugin drops SLURM_* variables (SLURM_CONF too)
    # before its srun inside each job, so srun finds the config only where Slurm looks by default.
    conf = SYSTEM_CONF
    if conf.exists():
        pytest.skip(f"{conf} exists: this machine has its own Slurm, which this test will not overwrite")
    conf.parent.mkdir(parents=True, exist_ok=True)
    conf.write_text(SLURM_CONF.format(host=host, base=base, munge_socket=munge_socket, cpus=os.cpu_count(),
                                      ctld_port=_free_port(), slurmd_port=_free_port()))
    env = {**os.environ, "SLURM_CONF": str(conf)}
    started = []
    try:
        started.append(subprocess.Popen(
            [_which("munged"), "--foreground", "--force", f"--socket={munge_socket}",
             f"--pid-file={base}/munge/munged.pid", f"--log-file={base}/munge/munged.log",
             f"--seed-file={base}/munge/munged.seed"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT))
        _wait(lambda: munge_socket.exists(), 20, "munged did not create its socket")
        for daemon in ("slurmctld", "slurmd"):
            started.append(subprocess.Popen([_which(daemon), "-D", *(["-c"] if daemon == "slurmctld" else [])],
                                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT))
            time.sleep(1)
        _wait(lambda: _node_state(env) == "idle", 60,
              f"the Slurm node did not become idle; see {base}/slurmctld.log and {base}/slurmd.log")
        yield env, base
    finally:
        for process in reversed(started):  # only the daemons started here, by their own pids
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        conf.unlink(missing_ok=True)


def _node_state(env):
    out = subprocess.run(["sinfo", "-h", "-o", "%T"], env=env, capture_output=True, text=True)
    return out.stdout.strip() if out.returncode == 0 else None


def _wait(predicate, seconds, message):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    raise AssertionError(message)


def smoke_subset(path: Path) -> Path:
    """config/test.yaml's main grid, one subsample rate: synthesize, pretrain, two cells (the
    baseline and SAM), aggregate, report: every rule of the DAG, six jobs."""
    config = yaml.safe_load((ROOT / "config" / "test.yaml").read_text())
    main = next(g for g in config["grids"] if g["name"] == "main")
    config["grids"] = [{**main, "subsample_rate": [1.0]}]
    config["cluster"] = {"slurm_partition": "sambench", "mem_mb": 1000, "runtime": 30}
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.mark.slow
def test_slurm_smoke_dag_runs_every_job_through_sbatch(local_slurm, tmp_path):
    env, base = local_slurm
    workdir = tmp_path / "work"
    workdir.mkdir()
    config = smoke_subset(tmp_path / "smoke.yaml")
    env = {**env, "PATH": f"{BIN}{os.pathsep}{env['PATH']}",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))}
    command = [str(BIN / "snakemake"), "-s", str(ROOT / "Snakefile"), "--directory", str(workdir),
               "--configfile", str(config), "--profile", str(ROOT / "workflow" / "profiles" / "slurm"),
               "--jobs", "2", "--cores", str(os.cpu_count()), "--latency-wait", "5",
               "--default-resources", "slurm_partition=sambench", "mem_mb=1000", "runtime=30",
               "--slurm-status-command", "squeue", "--slurm-init-seconds-before-status-checks", "2"]
    run = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    log = run.stdout + run.stderr
    job_logs = "".join(f"\n--- {p}\n{p.read_text()[-3000:]}" for p in (workdir / ".snakemake").glob("slurm_logs/**/*.log"))
    assert run.returncode == 0, log[-4000:] + job_logs

    job_ids = re.findall(r"submitted with SLURM jobid (\d+)", log)
    rules = re.findall(r"^rule (\w+):", log, re.M)
    assert len(job_ids) == 6 and len(set(job_ids)) == 6, log[-6000:]
    assert re.findall(r"^localrule (\w+):", log, re.M) == ["all"], "a job ran outside Slurm"  # `all` runs nothing
    assert sorted(set(rules)) == ["aggregate", "finetune", "pretrain", "report", "synthesize"], rules
    controller = (base / "slurmctld.log").read_text()
    for job_id in job_ids:  # the controller saw each submission
        assert re.search(rf"JobId={job_id}\b", controller), job_id
    assert (workdir / "reports" / "build" / "smoke" / "report.pdf").exists()
