#!/usr/bin/env python3
"""The measuring half of scripts/bench.sh (standard library only).

  bench.py run PLAN RESULTS     check every run answers 200, warm each target, then the rounds; one JSON line per run
  bench.py report RESULTS DOC   print the table; write the ratios between the markers of DOC

PLAN is the tab-separated file scripts/bench.sh writes once its processes are up, one run per line:
  run  target  instance  load  url  token  clients  warm(0|1)  metrics_url  roles
where roles is "proxy=PID,upstream=PID,..." (a role's CPU is that process and its descendants: nginx's workers).
Settings come from the environment: BENCH_WARMUP, BENCH_ROUNDS, BENCH_DURATION, BENCH_CONNECTIONS, BENCH_NOISE,
BENCH_LOAD_CORE, BENCH_WRK_SCRIPT.
"""

import json
import os
import re
import statistics
import subprocess
import sys
import time
import urllib.request

CLK_TCK = os.sysconf("SC_CLK_TCK")
ROLES = ["proxy", "upstream", "silo", "redis", "log", "wrk"]
BEGIN = "<!-- bench:results:begin -->"
END = "<!-- bench:results:end -->"


def env_num(name, default):
    return float(os.environ.get(name, default))


# ---------------------------------------------------------------------------------------------------------------- CPU
def process_table():
    """pid -> (ppid, utime + stime in ticks) for every process."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # After the command: state(0) ppid(1) ... utime(11) stime(12)
        table[int(entry)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
    return table


def role_ticks(roles, table):
    """CPU ticks of each role: its process and every descendant."""
    children = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    result = {}
    for role, pid in roles.items():
        total, stack = 0, [pid]
        while stack:
            p = stack.pop()
            if p in table:
                total += table[p][1]
                stack.extend(children.get(p, []))
        result[role] = total
    return result


def system_ticks():
    """(user + nice + system, steal) of the whole machine, in ticks; irq and softirq (loopback) are left out."""
    with open("/proc/stat", encoding="ascii") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    return values[0] + values[1] + values[2], values[7] if len(values) > 7 else 0


# ---------------------------------------------------------------------------------------------------------------- wrk
UNITS = {"us": 1.0, "ms": 1e3, "s": 1e6, "m": 6e7, "h": 3.6e9}


def parse_time(text):
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    return float(m.group(1)) * UNITS[m.group(2)] if m else float("nan")


def parse_wrk(out):
    result = {"requests": 0, "rps": 0.0, "p50_us": float("nan"), "p99_us": float("nan"), "non2xx": 0, "errors": 0}
    if m := re.search(r"(\d+) requests in", out):
        result["requests"] = int(m.group(1))
    if m := re.search(r"Requests/sec:\s+([\d.]+)", out):
        result["rps"] = float(m.group(1))
    for pct, key in (("50", "p50_us"), ("99", "p99_us")):
        if m := re.search(rf"^\s+{pct}(?:\.0+)?%\s+(\S+)", out, re.M):
            result[key] = parse_time(m.group(1))
    if m := re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out):
        result["non2xx"] = int(m.group(1))
    if m := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out):
        result["errors"] = sum(int(g) for g in m.groups())
    return result


def run_wrk(run, seconds):
    """Runs wrk on the load core; returns (parsed output, wrk's own CPU seconds)."""
    cmd = ["taskset", "-c", os.environ.get("BENCH_LOAD_CORE", "1"), "wrk", "-t1",
           f"-c{int(env_num('BENCH_CONNECTIONS', 64))}", f"-d{max(1, round(seconds))}s", "--latency", "--timeout", "5s"]
    env = dict(os.environ)
    if run["token"] or run["clients"]:
        cmd += ["-s", os.environ["BENCH_WRK_SCRIPT"]]
        env["BENCH_TOKEN"] = run["token"]
        env["BENCH_CLIENTS"] = str(run["clients"])
    cmd.append(run["url"])
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.exit(f"error: wrk failed on {run['run']} ({proc.returncode}):\n{out}")
    return parse_wrk(out), usage.ru_utime + usage.ru_stime


def check_answers(run, result, phase):
    bad = result["non2xx"] + result["errors"]
    if result["requests"] == 0 or bad * 2 > result["requests"]:
        sys.exit(f"error: {run['run']} ({run['url']}) answered non-2xx or failed for {bad} of {result['requests']} "
                 f"requests during {phase}: a misconfigured target, not a benchmark")


def scrape_limiter_failures(url):
    """gateway_ratelimit_backend_failures_total summed over its series (decisions that missed the budget)."""
    if not url or url == "-":
        return 0
    with urllib.request.urlopen(url, timeout=5) as response:
        text = response.read().decode()
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith("gateway_ratelimit_backend_failures_total"))


# ---------------------------------------------------------------------------------------------------------------- run
def read_plan(path):
    runs = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip() or line.startswith("#"):
                continue
            name, target, instance, load, url, token, clients, warm, metrics, roles = line.rstrip("\n").split("\t")
            runs.append({"run": name, "target": target, "instance": instance, "load": load, "url": url,
                         "token": "" if token == "-" else token, "clients": int(clients), "warm": warm == "1",
                         "metrics": metrics,
                         "roles": {r.split("=")[0]: int(r.split("=")[1]) for r in roles.split(",") if r}})
    return runs


def precheck(run):
    request = urllib.request.Request(run["url"])
    if run["token"]:
        request.add_header("Authorization", "Bearer " + run["token"])
    if run["clients"]:
        request.add_header("X-Forwarded-For", "10.0.0.1")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status = response.status
    except urllib.error.HTTPError as e:
        status = e.code
    if status != 200:
        sys.exit(f"error: {run['run']} answered {status} to GET {run['url']}, not 200: a misconfigured target")


def measure(run, duration):
    roles = run["roles"]
    failures0 = scrape_limiter_failures(run["metrics"])
    cpu0, (busy0, steal0), t0 = role_ticks(roles, process_table()), system_ticks(), time.monotonic()
    result, wrk_seconds = run_wrk(run, duration)
    cpu1, (busy1, steal1), t1 = role_ticks(roles, process_table()), system_ticks(), time.monotonic()
    failures1 = scrape_limiter_failures(run["metrics"])
    elapsed = t1 - t0
    seconds = {role: (cpu1[role] - cpu0[role]) / CLK_TCK for role in roles}
    seconds["wrk"] = wrk_seconds
    ours = sum(seconds.values())
    requests = max(result["requests"], 1)
    result.update({
        "run": run["run"], "target": run["target"], "load": run["load"],
        "cpu_us": {role: s * 1e6 / requests for role, s in seconds.items()},
        # Cores' worth of CPU that other processes (including the idle targets) took during the run.
        "other_cores": max(0.0, (busy1 - busy0) / CLK_TCK - ours) / elapsed,
        "steal_cores": (steal1 - steal0) / CLK_TCK / elapsed,
        "limiter_failures": failures1 - failures0,
    })
    return result


def cmd_run(plan_path, results_path):
    runs = read_plan(plan_path)
    warmup, rounds = env_num("BENCH_WARMUP", 60), int(env_num("BENCH_ROUNDS", 3))
    duration, noise = env_num("BENCH_DURATION", 10), env_num("BENCH_NOISE", 0.10)
    for run in runs:
        precheck(run)
    print(f"all {len(runs)} runs answer 200")

    # Warm-up: each .NET process once, its time shared between the loads it serves (JIT and tiering see them all).
    instances = {}
    for run in runs:
        if run["warm"]:
            instances.setdefault(run["instance"], []).append(run)
    for instance, members in instances.items():
        share = max(1.0, warmup / len(members))
        print(f"warming {instance} for {share * len(members):.0f} s", flush=True)
        for run in members:
            check_answers(run, run_wrk(run, share)[0], "warm-up")

    with open(results_path, "w", encoding="utf-8") as out:
        for round_no in range(1, rounds + 1):
            order = runs if round_no % 2 else list(reversed(runs))  # alternate, and reverse every other round
            for run in order:
                for attempt in (1, 2):
                    result = measure(run, duration)
                    check_answers(run, result, f"round {round_no}")
                    noisy = result["other_cores"] > noise or result["steal_cores"] > noise
                    if not noisy or attempt == 2:
                        break
                    print(f"  {run['run']}: other processes took {result['other_cores']:.2f} cores; running it again")
                result.update({"round": round_no, "noisy": noisy})
                out.write(json.dumps(result) + "\n")
                out.flush()
                mark = "  NOISY" if noisy else ""
                proxy = result["cpu_us"].get("proxy")
                proxy_text = f"proxy {proxy:.0f} us/req" if proxy is not None else "no proxy"
                print(f"round {round_no} {run['run']:<32} {result['rps']:>10.0f} req/s  p99 {result['p99_us'] / 1000:.2f} ms"
                      f"  {proxy_text}  others {result['other_cores']:.2f} cores{mark}", flush=True)


# ------------------------------------------------------------------------------------------------------------- report
def median(values):
    values = [v for v in values if v == v]  # drop NaN
    return statistics.median(values) if values else float("nan")


def fmt(value, digits=2):
    return "—" if value != value else f"{value:.{digits}f}"


def aggregate(results):
    """Per run: medians over rounds, and the medians of the per-round ratios to plain YARP and nginx (same load)."""
    by_round = {(r["round"], r["target"], r["load"]): r for r in results}
    names = list(dict.fromkeys(r["run"] for r in results))
    rows = []
    for name in names:
        mine = [r for r in results if r["run"] == name]
        row = {"run": name, "rounds": len(mine), "noisy": sum(r["noisy"] for r in mine),
               "rps": median([r["rps"] for r in mine]), "p50_us": median([r["p50_us"] for r in mine]),
               "p99_us": median([r["p99_us"] for r in mine]),
               "limiter_failures": sum(r["limiter_failures"] for r in mine),
               "cpu_us": {role: median([r["cpu_us"][role] for r in mine if role in r["cpu_us"]])
                          for role in ROLES if any(role in r["cpu_us"] for r in mine)}}
        for base in ("yarp", "nginx"):
            pairs = [(r, by_round.get((r["round"], base, r["load"]))) for r in mine]
            pairs = [(r, b) for r, b in pairs if b]
            row[f"rps_x_{base}"] = median([r["rps"] / b["rps"] for r, b in pairs if b["rps"]])
            if base == "yarp":
                cost = [(r, b["cpu_us"].get("proxy", 0)) for r, b in pairs]
                row["cpu_x_yarp"] = {role: median([r["cpu_us"][role] / c for r, c in cost if c and role in r["cpu_us"]])
                                     for role in row["cpu_us"] if role != "wrk"}
                row["p50_x_yarp"] = median([r["p50_us"] / b["p50_us"] for r, b in pairs if b["p50_us"]])
                row["p99_x_yarp"] = median([r["p99_us"] / b["p99_us"] for r, b in pairs if b["p99_us"]])
        rows.append(row)
    return rows


def machine():
    model = "unknown CPU"
    with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    try:
        dotnet = subprocess.run(["dotnet", "--version"], capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        dotnet = "?"
    return f"`nproc` {len(os.sched_getaffinity(0))}, {model}, Linux {os.uname().release}, .NET SDK {dotnet}"


def print_table(rows):
    head = (f"{'run':<32} {'req/s':>9} {'p50 ms':>7} {'p99 ms':>7} {'xYARP':>6} {'xnginx':>6}  "
            f"{'CPU us/req: proxy':>17} {'upstream':>8} {'silo':>6} {'redis':>6} {'log':>5} {'wrk':>5}  {'lim.fail':>8} noisy")
    print(head)
    print("-" * len(head))
    for row in rows:
        cpu = row["cpu_us"]
        cells = [fmt(cpu.get(role, float("nan")), 1) for role in ROLES]
        print(f"{row['run']:<32} {row['rps']:>9.0f} {fmt(row['p50_us'] / 1000):>7} {fmt(row['p99_us'] / 1000):>7} "
              f"{fmt(row['rps_x_yarp']):>6} {fmt(row['rps_x_nginx']):>6}  {cells[0]:>17} {cells[1]:>8} {cells[2]:>6} "
              f"{cells[3]:>6} {cells[4]:>5} {cells[5]:>5}  {row['limiter_failures']:>8.0f} {row['noisy']}/{row['rounds']}")


def doc_section(rows, settings):
    lines = [BEGIN, "",
             f"Measured on: {machine()}; {settings}.", "",
             "| run | req/s ÷ plain YARP | req/s ÷ nginx | proxy CPU/req ÷ YARP's | silo CPU/req ÷ YARP's proxy "
             "| p50 ÷ YARP's | p99 ÷ YARP's | limiter failures | noisy rounds |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for row in rows:
        cpu = row.get("cpu_x_yarp", {})
        lines.append(f"| {row['run']} | {fmt(row['rps_x_yarp'])} | {fmt(row['rps_x_nginx'])} | "
                     f"{fmt(cpu.get('proxy', float('nan')))} | {fmt(cpu.get('silo', float('nan')))} | "
                     f"{fmt(row['p50_x_yarp'])} | {fmt(row['p99_x_yarp'])} | {row['limiter_failures']:.0f} | "
                     f"{row['noisy']}/{row['rounds']} |")
    lines += ["", END]
    return "\n".join(lines)


def cmd_report(results_path, doc_path, section_path):
    with open(results_path, encoding="utf-8") as f:
        results = [json.loads(line) for line in f if line.strip()]
    if not results:
        sys.exit("error: no results")
    rows = aggregate(results)
    print_table(rows)
    settings = (f"{max(r['round'] for r in results)} rounds of {os.environ.get('BENCH_DURATION', '10')} s, "
                f"{os.environ.get('BENCH_WARMUP', '60')} s warm-up, wrk -t1 -c{os.environ.get('BENCH_CONNECTIONS', '64')}, "
                f"upstream {os.environ.get('BENCH_UPSTREAM', 'nginx')}")
    section = doc_section(rows, settings)
    with open(section_path, "w", encoding="utf-8") as f:
        f.write(section + "\n")
    if doc_path == "-":
        print(f"\nratios written to {section_path} only (a short or partial run never updates docs/benchmarks.md)")
        return
    with open(doc_path, encoding="utf-8") as f:
        text = f.read()
    if BEGIN not in text or END not in text:
        sys.exit(f"error: {doc_path} has no {BEGIN} ... {END} markers")
    before, rest = text.split(BEGIN, 1)
    after = rest.split(END, 1)[1]
    with open(doc_path, "w", encoding="utf-8") as f:
        f.write(before + section + after)
    print(f"\nratios written to {doc_path}")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "run":
        cmd_run(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 5 and sys.argv[1] == "report":
        cmd_report(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.exit(__doc__)
