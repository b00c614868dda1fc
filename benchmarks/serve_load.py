"""Load test of the recommendation service (`movielens-lessons serve`): throughput and p50/p99 latency.

Three models trained on ml-latest-small's user-temporal training part (each user's earliest 80 %)
through the CLI (`split`, then `train NAME --config experiments/ml-latest-small.toml --protocol
user-temporal`: the leaderboard's parameters) are served by ONE `python -m movielens_lessons serve`
process on 127.0.0.1. For each model × request kind × number of concurrent users, a locust client
(headless, driven from Python, in its own process) runs a closed loop: every simulated user sends its
next request as soon as the previous answer arrives (no think time; --wait S: a random pause, S seconds on average), first
for --warmup seconds that are not counted, then for --duration seconds that are. Request kinds:

- known-user: ``GET /users/{userId}/recommendations?k=10&model=NAME`` for a random userId of the data;
- fold-in: ``POST /recommendations`` with 20 random movies (and their ratings) of a random real user,
  sent as an anonymous history; a model that cannot fold in answers 422: "not supported".

Reference in the same invocation: ``GET /health`` at each concurrency (the web stack's own floor).
Latency is measured by the client (request sent → body read), so it includes the client's own
scheduling delay: client and server share this machine's cores. Each cell also reports the CPU the
server, the client and every other process used during it (a busy machine shows there).

    MOVIELENS_DATA_DIR=../shared/data python benchmarks/serve_load.py [--workdir DIR --reuse]
        [--models ease,als,xgboost-ranker] [--users 1,10,50] [--duration 10] [--out load.json]
        [--wait 1] [--server-python VENV/bin/python] [--quick]

Acceptance bars (judged at 50 concurrent users who pause between requests, ``--wait 1``, as
``docs/serving.md`` reports them): EASE known-user top-10 p99 < 50 ms, EASE fold-in p99 < 100 ms.
Back to back (the default) the p99 is queueing: 50 in flight need > 1,000 requests/s for 50 ms. Prints a Markdown table and the bars; --out writes the raw numbers as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEFAULT_CONFIG = Path(__file__).resolve().parents[1] / "experiments" / "ml-latest-small.toml"
DEFAULT_MODELS = "ease,als,xgboost-ranker"
PROTOCOL = "user-temporal"  # the config's protocol whose settings the models are trained with
SPLIT = ["--strategy", "user-temporal", "--test-size", "0.2"]
KINDS = ("known-user", "fold-in")
#: (model, kind, users) → the acceptance bar on p99 milliseconds.
BARS = {("ease", "known-user", 50): 50.0, ("ease", "fold-in", 50): 100.0}
N_REQUESTS = 2000  # distinct requests per kind, drawn with replacement by the simulated users


# --- setup: models, requests, server ----------------------------------------------------------


def cli(*args: str, log: Path | None = None) -> str:
    """Run ``python -m movielens_lessons ARGS``; stop with its stderr if it fails."""
    proc = subprocess.run(
        [sys.executable, "-m", "movielens_lessons", *args], capture_output=True, text=True
    )
    if log is not None:
        log.write_text(proc.stderr)
    if proc.returncode != 0:
        sys.exit(f"movielens-lessons {' '.join(args)} failed:\n{proc.stderr}")
    return proc.stdout


def train_models(names: list[str], workdir: Path, config: Path, reuse: bool) -> dict[str, Path]:
    """Split ratings.csv (user-temporal) and train each model on the training part → {name: folder}."""
    from movielens_lessons.data.locate import release_dir

    folder = release_dir("ml-latest-small")
    split_dir = workdir / "split"
    if not (reuse and (split_dir / "train.csv").is_file()):
        cli("split", "--ratings", str(folder / "ratings.csv"), *SPLIT, "--out", str(split_dir))
    out: dict[str, Path] = {}
    for name in names:
        model_dir = workdir / "models" / name
        if reuse and (model_dir / "model.json").is_file():
            print(f"reusing {model_dir}", file=sys.stderr)
        else:
            t0 = time.perf_counter()
            cli(
                "train",
                name,
                "--ratings",
                str(split_dir / "train.csv"),
                "--movies",
                str(folder / "movies.csv"),
                "--config",
                str(config),
                "--protocol",
                PROTOCOL,
                "--out",
                str(model_dir),
                log=workdir / f"train-{name}.log",
            )
            print(f"trained {name} in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
        out[name] = model_dir
    return out


def make_requests(train_csv: Path, n: int, history: int, seed: int) -> dict[str, list]:
    """``{"known-user": [userId, ...], "fold-in": [[{"movieId", "rating"}, ...], ...]}``."""
    import numpy as np
    import pandas as pd

    ratings = pd.read_csv(train_csv, usecols=["userId", "movieId", "rating"])
    rng = np.random.default_rng(seed)
    users = ratings["userId"].unique()
    by_user = {u: g for u, g in ratings.groupby("userId")}
    eligible = [u for u in users if len(by_user[u]) >= history]
    histories = []
    for u in rng.choice(eligible, size=n):
        rows = by_user[u].iloc[rng.choice(len(by_user[u]), size=history, replace=False)]
        histories.append(
            [
                {"movieId": int(m), "rating": float(r)}
                for m, r in zip(rows["movieId"], rows["rating"], strict=True)
            ]
        )
    return {"known-user": [int(u) for u in rng.choice(users, size=n)], "fold-in": histories}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(url: str, timeout: float = 5.0) -> tuple[int, bytes]:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def post(url: str, body: dict, timeout: float = 30.0) -> tuple[int, bytes]:
    import urllib.error
    import urllib.request

    req = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def start_server(
    folders: dict[str, Path], port: int, log: Path, python: str = sys.executable
) -> subprocess.Popen:
    """One ``serve`` process for every model; returns once ``/health`` lists them all."""
    args = [a for f in folders.values() for a in ("--model", str(f))]
    handle = log.open("w")
    proc = subprocess.Popen(
        [python, "-m", "movielens_lessons", "serve", *args, "--port", str(port)],
        stdout=handle,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"the server exited with code {proc.returncode}:\n{log.read_text()}")
        try:
            status, body = get(f"http://127.0.0.1:{port}/health", timeout=1.0)
            if status == 200 and set(json.loads(body)["models"]) >= set(folders):
                return proc
        except OSError:
            pass
        time.sleep(0.3)
    proc.terminate()
    sys.exit(f"the server did not answer /health within 300 s:\n{log.read_text()}")


def server_stack(python: str) -> dict:
    """Versions of the server's web stack; uvicorn picks httptools and uvloop when installed."""
    code = (
        "import importlib.metadata as m, json\n"
        "def v(n):\n"
        "    try: return m.version(n)\n"
        "    except m.PackageNotFoundError: return None\n"
        "print(json.dumps({n: v(n) for n in ('fastapi', 'uvicorn', 'pydantic', 'httptools', 'uvloop')}))"
    )
    out = subprocess.run([python, "-c", code], capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of process ``pid`` so far (Linux /proc; None elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def busy_seconds() -> float | None:
    """CPU seconds the whole machine has been busy (every process, all cores; Linux /proc)."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except OSError:
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def peak_rss_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


# --- the load generator (a child process: locust patches the standard library with gevent) -------


def client_main(spec_path: Path) -> None:
    """Run one cell as ``spec`` says and print its raw numbers as JSON on stdout."""
    import random

    import gevent
    from locust import FastHttpUser, between, constant, task
    from locust.env import Environment

    spec = json.loads(spec_path.read_text())
    pool = spec["requests"]
    rng = random.Random(spec["seed"])
    kind, model, k = spec["kind"], spec["model"], spec["k"]
    times: list[float] = []
    statuses: dict[str, int] = {}
    recording = False

    def on_request(response_time: float, exception: Exception | None, response=None, **_) -> None:
        if not recording:
            return
        times.append(response_time)
        code = getattr(response, "status_code", None) if response is not None else None
        key = str(code) if code else type(exception).__name__ if exception else "?"
        statuses[key] = statuses.get(key, 0) + 1

    class Client(FastHttpUser):
        host = spec["host"]
        # uniform in [0, 2·wait]: a fixed pause would keep the users in step, arriving in bursts
        wait_time = between(0.0, 2 * spec["wait"]) if spec["wait"] else constant(0)

        @task
        def one(self) -> None:
            pick = rng.choice(pool)
            if kind == "known-user":
                self.client.get(
                    f"/users/{pick}/recommendations?k={k}&model={model}", name="known-user"
                )
            elif kind == "fold-in":
                self.client.post(
                    "/recommendations",
                    json={"history": pick, "k": k, "model": model},
                    name="fold-in",
                )
            else:
                self.client.get("/health", name="health")

    env = Environment(user_classes=[Client])
    env.events.request.add_listener(on_request)
    runner = env.create_local_runner()
    runner.start(spec["users"], spawn_rate=min(spec["users"], 100))  # all up within ~1 s
    gevent.sleep(spec["warmup"])
    recording = True
    cpu0, server0, busy0 = os.times(), cpu_seconds(spec["server_pid"]), busy_seconds()
    t0 = time.perf_counter()
    gevent.sleep(spec["duration"])
    recording = False
    wall, cpu1, server1 = time.perf_counter() - t0, os.times(), cpu_seconds(spec["server_pid"])
    busy1 = busy_seconds()
    runner.quit()
    cpu = (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)
    server = None if server0 is None or server1 is None else server1 - server0
    busy = None if busy0 is None or busy1 is None else busy1 - busy0
    print(
        json.dumps(
            {
                "times_ms": times,
                "statuses": statuses,
                "wall_s": wall,
                "cpu_s": cpu,
                "server_cpu_s": server,
                "machine_busy_s": busy,
            }
        )
    )


def run_cell(spec: dict, workdir: Path) -> dict:
    """One model × kind × users cell in a fresh client process → summary numbers."""
    import numpy as np

    spec_path = workdir / "cell.json"
    spec_path.write_text(json.dumps(spec))
    proc = subprocess.run(
        [sys.executable, __file__, "--client", str(spec_path)], capture_output=True, text=True
    )
    if proc.returncode != 0:
        sys.exit(f"the load client failed:\n{proc.stderr}")
    raw = json.loads(proc.stdout.strip().splitlines()[-1])
    times = np.asarray(raw["times_ms"], dtype=float)
    ok = sum(n for code, n in raw["statuses"].items() if code.isdigit() and 200 <= int(code) < 300)
    server_cpu, busy = raw["server_cpu_s"], raw["machine_busy_s"]
    others = None if server_cpu is None or busy is None else busy - server_cpu - raw["cpu_s"]
    return {
        "model": spec["model"],
        "kind": spec["kind"],
        "users": spec["users"],
        "supported": True,
        "requests": len(times),
        "rps": len(times) / raw["wall_s"],
        "p50_ms": float(np.percentile(times, 50)) if len(times) else None,
        "p99_ms": float(np.percentile(times, 99)) if len(times) else None,
        "mean_ms": float(times.mean()) if len(times) else None,
        "max_ms": float(times.max()) if len(times) else None,
        "errors": int(len(times) - ok),
        "statuses": raw["statuses"],
        "client_cpu_pct": 100 * raw["cpu_s"] / raw["wall_s"],
        "server_cpu_pct": None if server_cpu is None else 100 * server_cpu / raw["wall_s"],
        "other_cpu_pct": None if others is None else max(0.0, 100 * others / raw["wall_s"]),
        "duration_s": raw["wall_s"],
    }


def supports_fold_in(base: str, model: str, history: list[dict]) -> tuple[bool, str]:
    status, body = post(f"{base}/recommendations", {"history": history, "k": 10, "model": model})
    if status == 200:
        return True, ""
    if status == 422:
        return False, json.loads(body).get("detail", "")
    sys.exit(f"POST /recommendations for {model} answered {status}: {body[:300]!r}")


# --- report ------------------------------------------------------------------------------------


def _ms(value: float | str | None) -> str:
    return "" if value is None else value if isinstance(value, str) else f"{value:.1f}"


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value:.0f}"


def markdown(rows: list[dict]) -> str:
    lines = [
        "| model | request | concurrent users | requests/s | p50 ms | p99 ms | errors "
        "| server CPU % | client CPU % | other processes CPU % |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        if not r["supported"]:
            lines.append(
                f"| {r['model']} | {r['kind']} | {r['users']} | not supported |" + " |" * 6
            )
            continue
        if not r["requests"]:  # not one answer within the measured window
            r = {
                **r,
                "p50_ms": f"> {r['duration_s']:.0f} s",
                "p99_ms": f"> {r['duration_s']:.0f} s",
            }
        lines.append(
            f"| {r['model']} | {r['kind']} | {r['users']} | {r['rps']:.0f} | {_ms(r['p50_ms'])}"
            f" | {_ms(r['p99_ms'])} | {r['errors']} | {_pct(r['server_cpu_pct'])}"
            f" | {_pct(r['client_cpu_pct'])} | {_pct(r['other_cpu_pct'])} |"
        )
    return "\n".join(lines) + "\n"


def judge(rows: list[dict]) -> list[str]:
    lines = []
    for (model, kind, users), bar in BARS.items():
        row = next(
            (r for r in rows if (r["model"], r["kind"], r["users"]) == (model, kind, users)), None
        )
        what = f"{model} {kind} p99 at {users} concurrent users < {bar:.0f} ms"
        if row is None or not row["supported"] or row["p99_ms"] is None:
            lines.append(f"- {what}: not measured")
        else:
            verdict = "PASS" if row["p99_ms"] < bar and row["errors"] == 0 else "FAIL"
            errors = f", {row['errors']} errors" if row["errors"] else ""
            lines.append(f"- {what}: {verdict} ({row['p99_ms']:.1f} ms{errors})")
    return lines


def _load(values: list[float] | None) -> str:
    return "?" if values is None else f"{values[0]:.2f}"


def machine() -> dict:
    return {
        "cpus": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }


# --- main --------------------------------------------------------------------------------------


def run_grid(args: argparse.Namespace, names: list[str], levels: list[int], workdir: Path) -> dict:
    """Train (or reuse) the models, start the server, run every cell → the raw results."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    folders = train_models(names, workdir, args.config, args.reuse)
    pools = make_requests(workdir / "split" / "train.csv", N_REQUESTS, args.history, args.seed)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    t0 = time.perf_counter()
    server = start_server(folders, port, workdir / "server.log", args.server_python)
    print(f"server up in {time.perf_counter() - t0:.1f} s (pid {server.pid})", file=sys.stderr)
    cells = [("-", "health (floor)", u) for u in levels if not args.no_reference]
    cells += [(name, kind, u) for name in names for kind in KINDS for u in levels]
    rows: list[dict] = []
    try:
        unsupported = {}
        for name in names:
            able, why = supports_fold_in(base, name, pools["fold-in"][0])
            if not able:
                unsupported[name] = why
        count = TextColumn("{task.completed}/{task.total}")
        columns = [TextColumn("{task.description}"), BarColumn(), count, TimeElapsedColumn()]
        with Progress(*columns, console=Console(stderr=True)) as bar:
            job = bar.add_task("cells", total=len(cells))
            for model, kind, users in cells:
                bar.update(job, description=f"{model} {kind} × {users}")
                cell = {"model": model, "kind": kind, "users": users}
                if kind == "fold-in" and model in unsupported:
                    rows.append({**cell, "supported": False, "reason": unsupported[model]})
                else:
                    spec = {**cell, "host": base, "k": args.k, "warmup": args.warmup,
                            "duration": args.duration, "seed": args.seed, "wait": args.wait,
                            "requests": pools.get(kind, [0]), "server_pid": server.pid}  # fmt: skip
                    rows.append(run_cell(spec, workdir))
                bar.advance(job)
        server_peak = peak_rss_mib(server.pid)
    finally:
        server.terminate()  # uvicorn drains what is queued first: bounded
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    return {"rows": rows, "unsupported": unsupported, "server_peak_mib": server_peak}


def report(args: argparse.Namespace, result: dict, info: dict, stack: dict, workdir: Path) -> None:
    rows = result["rows"]
    web = ", ".join(f"{k} {v}" for k, v in stack.items() if v)
    http = "httptools" if stack["httptools"] else "h11 (no httptools)"
    loop_impl = "uvloop" if stack["uvloop"] else "asyncio (no uvloop)"
    loop = (
        "no think time"
        if args.wait == 0
        else f"think time uniform in [0, {2 * args.wait:g}] s per user"
    )
    print(
        f"\nMachine: {info['cpus']} CPUs ({info['usable_cpus']} usable), Python {info['python']}, "
        f"{info['platform']}; load average before / after {_load(info['load_average_before'])} / "
        f"{_load(info['load_average'])}. Client (locust, one process) and server (one uvicorn "
        "process) run on the same machine and share its cores; latency is measured by the client; "
        f"CPU % is of one core (the machine has {info['usable_cpus']} × 100 %).\n"
        f"Server: {web}; uvicorn's HTTP parser {http}, event loop {loop_impl}, one worker.\n"
        f"Models trained on ml-latest-small's {PROTOCOL} training part with the parameters of "
        f"{args.config.name}; closed loop, {loop}, {args.warmup:g} s warm-up + "
        f"{args.duration:g} s measured per cell; k = {args.k}, fold-in histories of "
        f"{args.history} rated movies.\n"
    )
    print(markdown(rows))
    for name, why in result["unsupported"].items():
        print(f"{name} fold-in not supported: {why}")
    others = [r["other_cpu_pct"] for r in rows if r.get("other_cpu_pct") is not None]
    if others and max(others) > 20:
        print(f"Warning: other processes used up to {max(others):.0f} % CPU during the cells; "
              "rerun on a quiet machine for numbers to compare.")  # fmt: skip
    if result["server_peak_mib"] is not None:
        print(f"Server peak memory (VmHWM): {result['server_peak_mib']:,.0f} MiB")
    print("\nAcceptance (p99, judged at 50 concurrent users with --wait 1"
          + ("" if args.wait else "; this run has none: its p99 is queueing, "
             "see docs/serving.md") + "):")  # fmt: skip
    print("\n".join(judge(rows)))
    print(f"\n(models and logs in {workdir})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", default=DEFAULT_MODELS, help="comma-separated model names")
    parser.add_argument("--users", default="1,10,50", help="concurrent users, comma-separated")
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds per cell")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds per cell")
    parser.add_argument(
        "--wait",
        type=float,
        default=0.0,
        help="mean think time of each user between requests, s (uniform in [0, 2·S]; default 0)",
    )
    parser.add_argument("--k", type=int, default=10, help="list length asked for")
    parser.add_argument("--history", type=int, default=20, help="movies per fold-in history")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="model parameters")
    parser.add_argument("--workdir", type=Path, help="split, models, logs (default: a temp dir)")
    parser.add_argument(
        "--reuse", action="store_true", help="keep the split and models in --workdir"
    )
    parser.add_argument("--no-reference", action="store_true", help="skip the GET /health floor")
    parser.add_argument("--quick", action="store_true", help="smoke run: ease only, 3 s per cell")
    parser.add_argument("--out", type=Path, help="write the raw numbers as JSON")
    parser.add_argument(
        "--server-python",
        default=sys.executable,
        help="interpreter for the server, e.g. a venv with uvicorn[standard]",
    )
    parser.add_argument("--client", type=Path, help=argparse.SUPPRESS)  # a load client's spec
    args = parser.parse_args()  # fmt: skip
    if args.client is not None:
        client_main(args.client)
        return
    if args.quick:
        args.models, args.duration, args.warmup = "ease", 3.0, 1.0
    load_before = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    names = [m for m in args.models.split(",") if m]
    levels = [int(u) for u in args.users.split(",") if u]
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="serve-load-"))
    workdir.mkdir(parents=True, exist_ok=True)
    result = run_grid(args, names, levels, workdir)
    info = {**machine(), "load_average_before": load_before}
    stack = server_stack(args.server_python)
    report(args, result, info, stack, workdir)
    if args.out is not None:
        settings = {k: str(v) for k, v in vars(args).items() if k != "client"}
        payload = {"machine": info, "server_stack": stack, "args": settings, **result}
        args.out.write_text(json.dumps(payload, indent=2))


if __name__ == "__main__":
    main()
