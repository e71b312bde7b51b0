#!/usr/bin/env python3
"""Benchmark the claims service over loopback HTTP with wrk and oha, beside the
in-process run and a Node.js HTTP server running the same script with
node:vm per request (bench/nodevm-server.mjs), all in one run.

    python3 bench/service.py [--seconds 10] [--out BENCHMARKS.md]

Needs `target/release/claimscript` (or $CLAIMSCRIPT), `wrk`, `oha` (or $OHA;
`make bench-deps` installs both) and `node`.
What it measures, for the RBAC example (examples/rbac):

* in-process: `claimscript bench -n 20000`, concurrency 1 (the run alone);
* one connection, back to back (`wrk -t1 -c1`): the p50 of a request, and
  so what HTTP adds over the in-process run;
* throughput: `wrk -t1 -c16` (keep-alive), requests per second;
* a constant rate: `oha -q 5000 -c 50 --latency-correction`, 5,000
  requests/s sent on schedule whatever the responses do (an open loop, so a
  slow response does not hold the next request back and hide its wait),
  its p99: the target's "p99 at 5,000 requests/s";
* a paced load: `wrk -t1 -c50` with each connection waiting 10 ms after
  each response (a closed loop, about 4,500 requests/s; the connections
  fall into step and arrive in bursts), its p99, a harsher figure kept
  beside the other;
* the same one-connection and throughput runs against the Node.js server.

wrk and oha share the 2 cores with the server, as the targets say. The generated
section replaces what lies between `<!-- service:begin -->` and
`<!-- service:end -->` in the output file (appended when missing).
"""

import argparse
import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BEGIN, END = "<!-- service:begin -->", "<!-- service:end -->"
SCRIPT = "examples/rbac/script.js"
INPUT = "examples/rbac/input.json"
LUA = "bench/wrk-post.lua"


def fail(message):
    sys.exit(f"service.py: {message}")


def start(cmd, marker, env=None):
    """Start a server; return (process, base URL) once it prints its URL."""
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    line = proc.stdout.readline()
    url = next((w for w in line.split() if w.startswith("http://")), None)
    if not url or marker not in line:
        proc.kill()
        fail(f"{' '.join(cmd)} did not start: {line!r}")
    return proc, url.rstrip("/")


def stop(proc):
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()


def wrk(url, connections, seconds, delay_ms=0, body=True):
    """wrk against url: POST the RBAC input, or a GET when body is False."""
    env = dict(os.environ, WRK_BODY=str(REPO / INPUT) if body else "", WRK_DELAY_MS=str(delay_ms))
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s", "-s", LUA, url]
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, env=env)
    line = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    try:
        result = json.loads(line)
    except json.JSONDecodeError:
        fail(f"{' '.join(cmd)}: no result: {done.stdout}{done.stderr}")
    if result["errors"]:
        fail(f"{' '.join(cmd)}: {result['errors']} errors ({result['non_2xx']} not 2xx)")
    result["command"] = (
        f"wrk -t1 -c{connections} -d{seconds}s -s {LUA}"
        + (f" (WRK_DELAY_MS={delay_ms})" if delay_ms else "")
        + ("" if body else " (GET, WRK_BODY empty)")
    )
    return result


def oha(tool, url, rate, connections, seconds):
    cmd = [
        tool, "--no-tui", "-z", f"{seconds}s", "-q", str(rate), "-c", str(connections), "--latency-correction",
        "-m", "POST", "-T", "application/json", "-D", INPUT, "--output-format", "json", url,
    ]
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    try:
        out = json.loads(done.stdout)
    except json.JSONDecodeError:
        fail(f"{' '.join(cmd)}: no result: {done.stdout}{done.stderr}")
    statuses = out.get("statusCodeDistribution", {})
    if out["summary"]["successRate"] != 1 or set(statuses) != {"200"}:
        fail(f"{' '.join(cmd)}: not every request succeeded: {statuses} {out.get('errorDistribution')}")
    us = lambda q: round(out["latencyPercentiles"][q] * 1e6)
    return {
        "requests": sum(statuses.values()),
        "requests_per_sec": round(out["summary"]["requestsPerSec"], 1),
        "p50_us": us("p50"),
        "p90_us": us("p90"),
        "p99_us": us("p99"),
        "p99.9_us": us("p99.9"),
        "command": f"oha --no-tui -z {seconds}s -q {rate} -c {connections} --latency-correction -m POST -T application/json -D {INPUT}",
    }


def in_process(cli):
    cmd = [cli, "bench", SCRIPT, "--input", INPUT, "-n", "20000"]
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    if done.returncode != 0:
        fail(f"{' '.join(cmd)}: {done.stderr}")
    result = json.loads(done.stdout)
    result["command"] = " ".join(["claimscript"] + cmd[1:])
    return result


def section(when, ours, node, inproc, seconds):
    overhead = ours["c1"]["p50_us"] - inproc["p50_us"]
    # What the service adds beyond a request that does nothing at all.
    own = ours["c1"]["p50_us"] - ours["floor"]["p50_us"] - inproc["p50_us"]
    ratio = ours["c16"]["requests_per_sec"] / node["c16"]["requests_per_sec"]
    rows = [
        ("requests/s, 16 connections", f"{ours['c16']['requests_per_sec']:,.0f}", f"{node['c16']['requests_per_sec']:,.0f}", "≥ 12,000"),
        ("p50, 1 connection", f"{ours['c1']['p50_us']} µs", f"{node['c1']['p50_us']} µs", ""),
        ("p50 of `GET /health`, 1 connection (HTTP alone, no run)", f"{ours['floor']['p50_us']} µs", f"{node['floor']['p50_us']} µs", ""),
        ("HTTP over the in-process run, p50", f"{overhead:.0f} µs", "", "≤ 25 µs"),
        ("the same, less the `GET /health` floor", f"{own:.0f} µs", "", ""),
        (
            f"p99 at {ours['rate']['requests_per_sec']:,.0f} requests/s, constant rate (oha, 50 connections)",
            f"{ours['rate']['p99_us']:,} µs",
            "",
            "≤ 2,000 µs at 5,000/s",
        ),
        (
            f"p99 at {ours['paced']['requests_per_sec']:,.0f} requests/s, 50 connections paced 10 ms (wrk, in bursts)",
            f"{ours['paced']['p99_us']:,} µs",
            "",
            "",
        ),
        ("requests/s, ours ÷ Node.js", f"{ratio:.1f}×", "", "≥ 10×"),
    ]
    lines = [
        f"### Service over loopback HTTP (generated {when} by `python3 bench/service.py`)",
        "",
        f"RBAC example, keep-alive, wrk and oha on the same 2 cores, {seconds} s per run. In-process "
        f"reference: `{inproc['command']}`, p50 {inproc['p50_us']:.1f} µs.",
        "",
        "| measure | `claimscript serve` | Node.js + node:vm | target |",
        "|---|---:|---:|---|",
    ]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    lines += ["", "Commands:", ""]
    for label, result in [
        ("ours", ours["floor"]), ("ours", ours["c1"]), ("ours", ours["c16"]), ("ours", ours["rate"]), ("ours", ours["paced"]),
        ("node", node["floor"]), ("node", node["c1"]), ("node", node["c16"]),
    ]:
        lines.append(f"- {label}: `{result['command']}`: {json.dumps({k: v for k, v in result.items() if k != 'command'})}")
    lines.append("")
    return "\n".join(lines)


def write(path, generated):
    text = path.read_text() if path.exists() else ""
    begin, end = text.find(BEGIN), text.find(END)
    if begin == -1 or end == -1 or end < begin:
        text = text + ("" if text.endswith("\n") or not text else "\n") + f"{BEGIN}\n{END}\n"
        begin, end = text.find(BEGIN), text.find(END)
    path.write_text(f"{text[: begin + len(BEGIN)]}\n{generated}{text[end:]}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--out", type=Path, default=REPO / "BENCHMARKS.md")
    args = parser.parse_args()
    cli = os.path.abspath(os.environ.get("CLAIMSCRIPT") or str(REPO / "target/release/claimscript"))
    oha_tool = os.environ.get("OHA") or shutil.which("oha") or str(Path.home() / ".cargo/bin/oha")
    for tool, hint in [(cli, "cargo build --release -p claimscript-cli"), ("wrk", "apt-get install wrk"), (oha_tool, "make bench-deps"), ("node", "apt-get install nodejs")]:
        if not shutil.which(tool):
            fail(f"{tool} not found ({hint})")
    inproc = in_process(cli)
    with tempfile.TemporaryDirectory() as data:
        server, base = start(
            [cli, "serve", "--script", f"rbac={SCRIPT}", "--addr", "127.0.0.1:0", "--data-dir", data, "--log-level", "warn"],
            "listening",
        )
        try:
            url = f"{base}/v1/scripts/rbac/run"
            wrk(url, 4, 2)  # warm-up
            ours = {
                "floor": wrk(f"{base}/health", 1, args.seconds, body=False),
                "c1": wrk(url, 1, args.seconds),
                "c16": wrk(url, 16, args.seconds),
                "rate": oha(oha_tool, url, 5000, 50, args.seconds),
                "paced": wrk(url, 50, args.seconds, delay_ms=10),
            }
        finally:
            stop(server)
    node_server, node_base = start(["node", "bench/nodevm-server.mjs", SCRIPT, "0"], "listening")
    try:
        url = f"{node_base}/run"
        wrk(url, 4, 2)
        node = {
            "floor": wrk(f"{node_base}/health", 1, args.seconds, body=False),
            "c1": wrk(url, 1, args.seconds),
            "c16": wrk(url, 16, args.seconds),
        }
    finally:
        stop(node_server)
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    generated = section(when, ours, node, inproc, args.seconds)
    write(args.out, generated)
    sys.stdout.write(generated)


if __name__ == "__main__":
    main()
