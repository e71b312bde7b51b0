#!/usr/bin/env python3
"""Benchmark the examples and write the figures into a markdown file.

    python3 bench/report.py [--runs N] [--out BENCHMARKS.md]

For each example, runs `claimscript bench` at --concurrency 1 and 2 and, when
`node` is on PATH, `node bench/nodevm.mjs` (the same script run the way
self-hosted Logto runs it, with node:vm). fetch-balance gets its loopback mock
balance service (examples/fetch-balance/mock_server.py on 127.0.0.1:8787),
started here and stopped afterwards. Then it runs the `inflight` example
(1,000 runs each awaiting a loopback fetch: with a 20 ms fetch, and with one
long enough for all of them to be pending at once), reads the criterion
micro-benchmarks' medians from target/criterion when `cargo bench` has made
them, and checks the RBAC example against the targets of issue 8.

The generated section replaces whatever lies between `<!-- bench:begin -->`
and `<!-- bench:end -->` in the output file (created with just those markers
when missing; appended at its end when the file has neither marker); the rest
of the file is left untouched. The section is also printed to stdout; progress
goes to stderr. The CLI is $CLAIMSCRIPT, else target/release/claimscript.
Any failing command stops the report with a non-zero exit status and leaves
the output file as it was. Python 3.11 standard library only.
"""

import argparse
import datetime
import json
import os
import platform
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"
EXAMPLES = ["rbac", "abac-beta", "organizations", "m2m", "deny-balance", "fetch-balance", "auth0-roles", "auth0-m2m"]
# node:vm runs Logto's script form only.
AUTH0 = {"auth0-roles", "auth0-m2m"}
MOCK = ("127.0.0.1", 8787)  # fetch-balance's input.json and grants.toml name this address
INFLIGHT = "target/release/examples/inflight"
# (runs, fetch delay in ms): the scenario, and every run pending at once.
INFLIGHT_CASES = [(1000, 20), (1000, 2000)]
MICRO = ["input/parse_json", "input/parse_tree", "input/marshal", "input/marshal_tree", "instantiate", "run/rbac", "run/empty", "output/validate"]
GIB = 1 << 30


def fail(message):
    sys.exit(f"report.py: {message}")


def progress(message):
    print(message, file=sys.stderr, flush=True)


def run_json(cmd, key="p50_us"):
    """Run `cmd` in the repository; return its stdout parsed as one JSON object with `key`."""
    progress(f"$ {shlex.join(cmd)}")
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    try:
        result = json.loads(done.stdout)
    except json.JSONDecodeError:
        result = None
    if done.returncode != 0 or not isinstance(result, dict) or key not in result:
        detail = (done.stderr.strip() or done.stdout.strip() or "no output")[-2000:]
        fail(f"`{shlex.join(cmd)}` failed (exit status {done.returncode}):\n{detail}")
    return result


def capture(cmd):
    """The first line a command prints, or None when it cannot be run."""
    try:
        done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = done.stdout.strip().splitlines()
    return lines[0] if done.returncode == 0 and lines else None


def proc_field(path, key):
    try:
        for line in Path(path).read_text().splitlines():
            name, _, value = line.partition(":")
            if name.strip() == key:
                return value.strip()
    except OSError:
        pass
    return None


def loadavg():
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def machine(node):
    mem_kb = proc_field("/proc/meminfo", "MemTotal")
    memory = f"{int(mem_kb.split()[0]) / 1024**2:.1f} GiB" if mem_kb else "unknown"
    commit = capture(["git", "rev-parse", "--short", "HEAD"])
    if commit and capture(["git", "status", "--porcelain"]):
        commit += " (with uncommitted changes)"
    return [
        ("nproc", capture(["nproc"]) or str(os.cpu_count())),
        ("CPU", proc_field("/proc/cpuinfo", "model name") or "unknown"),
        ("memory", memory),
        ("kernel", platform.release()),
        ("load average at start", loadavg()),
        ("rustc", capture(["rustc", "--version"]) or "not found"),
        ("node", capture([node, "--version"]) if node else "not on PATH (node:vm not run)"),
        ("commit", commit or "unknown"),
    ]


def port_open(address):
    try:
        socket.create_connection(address, timeout=0.2).close()
        return True
    except OSError:
        return False


def start_mock(commands):
    """Start fetch-balance's mock service; return (process, its stderr file)."""
    if port_open(MOCK):
        fail(f"{MOCK[0]}:{MOCK[1]} is already in use; fetch-balance needs its own mock there")
    cmd = ["python3" if shutil.which("python3") else sys.executable, "examples/fetch-balance/mock_server.py"]
    commands.append(f"{shlex.join(cmd)} &  # fetch-balance's mock, stopped afterwards")
    progress(f"$ {shlex.join(cmd)} &")
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=log)
    deadline = time.monotonic() + 10
    while not port_open(MOCK):
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_mock(proc, log)
            log.seek(0)
            fail(f"the fetch-balance mock did not start:\n{log.read().decode(errors='replace')[-2000:]}")
        time.sleep(0.05)
    return proc, log


def stop_mock(proc, log):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    log.close()


def bench_example(name, cli, node, runs, commands):
    """{"c1": ..., "c2": ..., "node": ... or None} for one example."""
    script, data = f"examples/{name}/script.js", f"examples/{name}/input.json"
    grants = Path(REPO, "examples", name, "grants.toml")
    extra = ["--grants", f"examples/{name}/grants.toml"] if grants.exists() else []
    results = {}
    for c in (1, 2):
        cmd = [cli, "bench", script, "--input", data, *extra, "-n", str(runs), "--concurrency", str(c)]
        commands.append(shlex.join(cmd))
        results[f"c{c}"] = run_json(cmd)
    results["node"] = None
    if node and name not in AUTH0:
        cmd = [node, "bench/nodevm.mjs", script, data, str(runs)]
        commands.append(shlex.join(cmd))
        results["node"] = run_json(cmd)
    return results


def num(value, digits=1):
    return f"{value:,.{digits}f}"


def table(results):
    c1, c2, nd = results["c1"], results["c2"], results["node"]

    def row(label, key, digits=1, on_node=True):
        cells = [num(c1[key], digits), num(c2[key], digits)]
        if nd is None:
            cells.append("—")
        else:
            cells.append(num(nd[key], digits) if on_node else "—")
        return f"| {label} | " + " | ".join(cells) + " |"

    node_head = "node:vm" if nd else "node:vm (not run)"
    lines = [
        f"| | claimscript c=1 | claimscript c=2 | {node_head} |",
        "|---|---:|---:|---:|",
        row("p50 µs", "p50_us"),
        row("p90 µs", "p90_us"),
        row("p99 µs", "p99_us"),
        row("runs/s", "runs_per_sec", 0),
        row("fuel per run", "fuel_per_run", 0, on_node=False),
        row("instantiate µs", "instantiate_us", on_node=False),
        row("compile ms", "compile_ms", on_node=False),
        row("artifact bytes", "artifact_bytes", 0, on_node=False),
        row("peak memory bytes", "peak_memory_bytes", 0, on_node=False),
    ]
    if nd:
        ratio = f"{nd['p50_us'] / c1['p50_us']:.1f}×"
        lines.append(f"| node:vm p50 ÷ claimscript p50 (c=1) | | | **{ratio}** |")
    return lines


def raise_open_files(wanted):
    """Raise the soft limit on open files (each run in flight holds a socket)."""
    try:
        import resource
    except ImportError:
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def run_inflight(commands):
    """The inflight example's JSON for each case."""
    if not Path(REPO, INFLIGHT).is_file():
        fail(f"no {INFLIGHT}: build it with `cargo build --release -p claimscript --example inflight`")
    raise_open_files(8192)
    results = []
    for runs, delay in INFLIGHT_CASES:
        cmd = [INFLIGHT, str(runs), str(delay), "2"]
        commands.append(shlex.join(cmd))
        results.append(run_json(cmd, key="peak_rss_bytes"))
    return results


def read_micro():
    """{name: median ns} from criterion's estimates, or {} when absent."""
    medians = {}
    for name in MICRO:
        path = Path(REPO, "target", "criterion", name.replace("/", "_"), "new", "estimates.json")
        try:
            medians[name] = json.loads(path.read_text())["median"]["point_estimate"]
        except (OSError, ValueError, KeyError, TypeError):
            pass
    return medians


def inflight_table(results):
    lines = [
        "| runs | fetch delay | most fetches pending at once | runs with claims | errors | wall ms (2nd round) | peak RSS | host heap peak |",
        "|---:|---:|---:|---:|---|---:|---:|---:|",
    ]
    for r in results:
        rounds = r["rounds"]
        claims = min(x["claims"] for x in rounds)
        errors = sorted({e for x in rounds for e in x["errors"]})
        lines.append(
            f"| {r['runs']:,} | {r['fetch_delay_ms']} ms | {r['most_fetches_pending_at_once']:,} | {claims:,} "
            f"| {'; '.join(errors) or 'none'} | {num(rounds[-1]['wall_ms'], 0)} "
            f"| {r['peak_rss_bytes'] / GIB:.3f} GiB | {r['peak_host_heap_bytes'] / 2**20:.0f} MiB |"
        )
    return lines


def micro_table(medians):
    if not medians:
        return ["No criterion results in target/criterion: run"
                " `cargo bench -p claimscript --bench hot_paths` first (`make bench` does)."]
    lines = ["| micro-benchmark | median |", "|---|---:|"]
    for name in MICRO:
        if name in medians:
            ns = medians[name]
            lines.append(f"| `{name}` | {ns / 1000:.2f} µs |" if ns >= 1000 else f"| `{name}` | {ns:.0f} ns |")
    return lines


def targets_table(rbac, inflight):
    c1, c2 = rbac["c1"], rbac["c2"]
    worst = max(inflight, key=lambda r: r["peak_rss_bytes"])
    errors = sorted({e for r in inflight for x in r["rounds"] for e in x["errors"]})
    short = [r for r in inflight for x in r["rounds"] if x["claims"] != r["runs"]]
    rows = [
        ("p50 per run (c=1)", "≤ 50 µs", f"{c1['p50_us']:.1f} µs", c1["p50_us"] <= 50),
        ("p99 per run (c=1)", "≤ 250 µs", f"{c1['p99_us']:.1f} µs", c1["p99_us"] <= 250),
        ("runs/s at concurrency 2", "≥ 30,000", f"{c2['runs_per_sec']:,.0f}", c2["runs_per_sec"] >= 30000),
        ("instantiation", "≤ 20 µs", f"{c1['instantiate_us']:.1f} µs", c1["instantiate_us"] <= 20),
        ("compiling a script, engine warm", "≤ 100 ms", f"{c1['compile_ms']:.1f} ms", c1["compile_ms"] <= 100),
        ("peak linear memory per run", "≤ 4 MiB", f"{c1['peak_memory_bytes'] / 2**20:.2f} MiB",
         c1["peak_memory_bytes"] <= 4 * 2**20),
        ("1,000 runs in flight: peak RSS", "≤ 1 GiB", f"{worst['peak_rss_bytes'] / GIB:.3f} GiB"
         f" ({worst['fetch_delay_ms']} ms fetch)", worst["peak_rss_bytes"] <= GIB),
        ("1,000 runs in flight: slot exhaustion or other errors", "none",
         "; ".join(errors) or ("runs without claims" if short else "none"), not errors and not short),
    ]
    lines = ["| target (RBAC example) | wanted | measured | met |", "|---|---|---|---|"]
    for label, wanted, measured, met in rows:
        lines.append(f"| {label} | {wanted} | {measured} | {'yes' if met else '**no**'} |")
    return lines


def section(info, when, commands, all_results, nodevm_mode, inflight, medians):
    out = [
        "## Benchmarks",
        "",
        "Generated by `bench/report.py`; everything between the bench markers is rewritten on each run.",
        "",
        f"- date: {when}",
        *(f"- {key}: {value}" for key, value in info),
        "",
        "Each run of `claimscript bench` covers input marshalling, instantiation, the call and"
        " output validation. `node bench/nodevm.mjs` runs the same script the way self-hosted"
        " Logto does (a new `runInNewContext` for the script and another for the call, every run)"
        " and times it from building the payload to the settled result"
        + (f" (mode: {nodevm_mode})." if nodevm_mode else "; it was not run: node is not on PATH.")
        + " Auth0-style examples have no node:vm column: Logto's runner takes Logto's form only."
        " Percentiles are nearest-rank; a denial counts as a completed run.",
        "",
        "Commands (from the repository root):",
        "",
        "```sh",
        *commands,
        "```",
    ]
    out += [
        "",
        "### Targets",
        "",
        "Issue 8's targets for the RBAC example on this machine, from the figures below.",
        "",
        *targets_table(all_results["rbac"], inflight),
    ]
    for name, results in all_results.items():
        out += ["", f"### {name}", "", *table(results)]
    out += [
        "",
        "### 1,000 runs in flight",
        "",
        "`inflight` compiles a script that awaits one `fetch` from a server on loopback (run in a"
        " child process, so that the RSS is the embedder's alone), sets"
        " `EngineConfig::max_concurrent_runs` to the number of runs, starts them all at once, twice"
        " (the first round also pays for first use of the pool's slots), and reports the peak RSS"
        " (`VmHWM`) and the most fetches the server saw pending at once. With a 20 ms fetch the"
        " runs overlap only partly: starting 1,000 runs takes longer than 20 ms on two cores.",
        "",
        *inflight_table(inflight),
        "",
        "### Micro-benchmarks",
        "",
        "`cargo bench -p claimscript --bench hot_paths -- --warm-up-time 1 --measurement-time 3`"
        " (criterion; medians):",
        "",
        *micro_table(medians),
    ]
    return "\n".join(out) + "\n"


def write(path, generated):
    text = path.read_text() if path.exists() else f"{BEGIN}\n{END}\n"
    begin, end = text.find(BEGIN), text.find(END)
    if begin == -1 and end == -1:
        text = text + ("" if text.endswith("\n") or not text else "\n") + f"{BEGIN}\n{END}\n"
        begin, end = text.find(BEGIN), text.find(END)
    if begin == -1 or end == -1 or end < begin:
        fail(f"{path}: expected `{BEGIN}` followed by `{END}`")
    head, tail = text[: begin + len(BEGIN)], text[end:]
    path.write_text(f"{head}\n{generated}{tail}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20000, help="measured runs per command (default 20000)")
    parser.add_argument("--out", type=Path, default=REPO / "BENCHMARKS.md", help="markdown file to update")
    args = parser.parse_args()
    if args.runs < 1:
        fail("--runs must be at least 1")

    # Commands run in the repository root: the default CLI path is relative to it, while a
    # relative $CLAIMSCRIPT is taken from the current directory (a bare name from PATH).
    cli = os.environ.get("CLAIMSCRIPT") or ""
    if "/" in cli:
        cli = os.path.abspath(cli)
    cli = cli or "target/release/claimscript"
    if not (shutil.which(cli) or Path(REPO, cli).is_file()):
        fail(f"no claimscript CLI at {cli}: build it with `cargo build --release -p claimscript-cli` or set $CLAIMSCRIPT")
    node = "node" if shutil.which("node") else None
    info = machine(node)
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")

    commands, all_results = [], {}
    for name in EXAMPLES:
        mock = start_mock(commands) if name == "fetch-balance" else None
        try:
            all_results[name] = bench_example(name, cli, node, args.runs, commands)
        finally:
            if mock:
                stop_mock(*mock)

    inflight = run_inflight(commands)
    medians = read_micro()
    modes = {r["node"]["mode"] for r in all_results.values() if r["node"]}
    nodevm_mode = ", ".join(f"`{mode}`" for mode in sorted(modes))
    generated = section(info, when, commands, all_results, nodevm_mode, inflight, medians)
    write(args.out, generated)
    sys.stdout.write(generated)


if __name__ == "__main__":
    main()
