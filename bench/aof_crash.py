"""Does a SIGKILLed redis-server keep every write it acknowledged? By `appendfsync` policy.

Run: `.venv/bin/python -m bench.aof_crash --policy everysec --disk-load` (and `--policy always`).
A client sends pipelines of 200 SETs of 2 kB plus an INCR of a counter, for 1-3 s, then SIGKILLs
Redis right after a reply: every pipeline acknowledged so far should be in the append-only file.
Restarted, Redis reports its counter; fewer than acknowledged means acknowledged writes were lost.
`--disk-load` writes a large file with fdatasync meanwhile: a slow fsync is when `everysec`
defers writing its buffer (up to 2 s) while it goes on answering. Each trial stops by itself.
"""

import argparse
import random
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

from insights.embedded import free_port, redis_server_binary, stop_process, wait_for_redis

VALUE = b"x" * 2000
SETS_PER_PIPELINE = 200
DISK_LOAD_MB = 3000


def start(data: Path, port: int, policy: str) -> subprocess.Popen[bytes]:
    """A redis-server with an AOF under `policy`, on loopback."""
    command = [redis_server_binary(), "--port", str(port), "--bind", "127.0.0.1"]
    command += ["--dir", str(data), "--appendonly", "yes", "--appendfsync", policy, "--save", ""]
    with (data / "redis.log").open("ab") as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True
        )
    wait_for_redis(f"redis://127.0.0.1:{port}/0", 30.0, process=process, log=data / "redis.log")
    return process


def write_until(client: redis.Redis, deadline: float, rng: random.Random) -> int:
    """Pipelines until `deadline`; the counter's value in the last acknowledged one."""
    acknowledged = int(client.get("counter") or 0)
    while time.monotonic() < deadline:
        pipe = client.pipeline(transaction=False)
        for _ in range(SETS_PER_PIPELINE):
            pipe.set(f"k{rng.randrange(50_000)}", VALUE)
        pipe.incr("counter")
        acknowledged = int(pipe.execute()[-1])
    return acknowledged


@contextmanager
def disk_load(directory: Path, enabled: bool) -> Iterator[None]:
    """Keep the disk busy with large synced writes while the trials run."""
    if not enabled:
        yield
        return
    # The loop ends with this process ($PPID), even if it is killed before `finally`.
    script = (
        f"while kill -0 $PPID 2>/dev/null; do dd if=/dev/zero of={directory}/load bs=1M "
        f"count={DISK_LOAD_MB} conv=fdatasync status=none; done; rm -f {directory}/load"
    )
    load = subprocess.Popen(["sh", "-c", script], start_new_session=True)
    try:
        yield
    finally:
        stop_process(load, grace_s=2.0)
        (directory / "load").unlink(missing_ok=True)


def run(policy: str, trials: int, load: bool, seed: int) -> None:
    """Crash Redis `trials` times; print each trial and the total."""
    rng, port, lost_trials, pipelines, writing_s = random.Random(seed), free_port(), 0, 0, 0.0
    with tempfile.TemporaryDirectory(prefix="aof-crash-") as tmp:
        data = Path(tmp)
        with disk_load(data, load):
            for trial in range(1, trials + 1):
                server = start(data, port, policy)
                client = redis.Redis(port=port)
                before, began = int(client.get("counter") or 0), time.monotonic()
                acknowledged = write_until(client, began + rng.uniform(1, 3), rng)
                writing_s += time.monotonic() - began
                server.send_signal(signal.SIGKILL)
                server.wait()
                client.close()
                server = start(data, port, policy)
                with redis.Redis(port=port) as restarted:
                    kept = int(restarted.get("counter") or 0)
                stop_process(server)
                lost, pipelines = acknowledged - kept, pipelines + acknowledged - before
                lost_trials += lost > 0
                print(f"trial {trial}: acknowledged {acknowledged}, kept {kept}, lost {lost}")
    print(
        f"appendfsync {policy}{' under disk load' if load else ''}: {lost_trials} of {trials} "
        f"crashes lost acknowledged writes; {pipelines / writing_s:,.0f} pipelines of "
        f"{SETS_PER_PIPELINE} SETs acknowledged per second of writing"
    )


def main() -> None:
    """Parse the arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--policy", choices=("everysec", "always"), default="everysec")
    parser.add_argument("--trials", type=int, default=12)
    parser.add_argument("--disk-load", action="store_true", help="busy the disk with dd")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    run(args.policy, args.trials, args.disk_load, args.seed)


if __name__ == "__main__":
    main()
