#!/usr/bin/env python3
"""asha.py LSTMSWEEP WORKDIR - an asha search ([search] method = asha) of
`lstmsweep run`, whole: 9 bitcount configurations x 2 seeds, rungs 1, 3, 9,
27 epochs, eta 3.

  1. straight: the search runs to its end.  Every job has exactly one
     final row (ok at 27 epochs, or stopped at a rung with its rung's
     epochs and a message naming it), and no paused job is left over; the
     rungs took in 9, >= 3, >= 1, >= 1 configurations; the search log has
     a result line per configuration and rung and a decision per
     configuration; the rows agree with the log (done <-> ok, stopped <->
     stopped); a rerun runs nothing and writes the same log.
  2. curves: each job that reached 27 epochs through its pauses has,
     epoch by epoch, the train_loss of the same job in a grid run of the
     file (search.method = grid), straight through, to the last digit
     written.
  3. kill -9: the search again, killed at up to 6 random moments (3 at
     least) and rerun until
     it ends: after every start the log begins with what it held before
     (the decisions logged before a kill come out again, in the same
     order, from the replay of the results file); at the end every job has
     exactly one final row, as in 1.
  4. shards: --shard 0/2 and 1/2 each search their own configurations
     (disjoint, together all 9), each with its own log.
Each check prints "ok ..." or "FAIL ..."; the exit status is the count of
failures."""
import csv
import os
import random
import signal
import subprocess
import sys
import time

LS, WORK = sys.argv[1], sys.argv[2]
failures = 0


def check(cond, what):
    global failures
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    failures += 0 if cond else 1


def sweep_text(name, method="asha", bits=10, train_size=300, results=None):
    """The sweep of these tests (also tests/serve-asha.py's, without results)."""
    where = f"results = {results}\n" if results else ""
    return f"""[sweep]
name = {name}
{where}seeds = 1, 2

[search]
method = {method}
min_epochs = 1
eta = 3

[bitcount]
bits = {bits}
train_size = {train_size}
val_size = 200
batch = 50
hidden = 4, 8, 16
lr = 0.001, 0.01, 0.03
epochs = 27
"""


def write_sweep(name, method="asha", bits=10, train_size=300, results=None):
    path = f"{WORK}/{name}.ini"
    with open(path, "w") as f:
        f.write(sweep_text(name, method, bits, train_size, f"{WORK}/{results or name}.csv"))
    return path


def run(path, *args, timeout=600):
    return subprocess.run([LS, "run", path, "--threads-per-job", "1", "--quiet", *args],
                          capture_output=True, text=True, timeout=timeout)


def rows(name):
    with open(f"{WORK}/{name}.csv") as f:
        return list(csv.DictReader(f))


def log_lines(name):
    with open(f"{WORK}/{name}-search.csv") as f:
        text = f.read()
    lines = text.split("\n")
    return lines[1:-1] if text.endswith("\n") else lines[1:-1]  # a torn last line dropped


def decisions(lines):
    """The log without its sequence numbers: (config, rung, event, value)."""
    return [tuple(r[2:8]) for r in csv.reader(lines)]


def check_final(name, what):
    final = {}
    mine = [r for r in rows(name) if r["search"]]  # a grid's rows may share the file
    tags = {r["search"] for r in mine}
    check(len(tags) == 1, f"{what}: the search's rows carry one search tag ({sorted(tags)})")
    for r in mine:
        if r["status"] in ("ok", "stopped", "diverged", "failed"):
            final.setdefault(r["job_id"], []).append(r)
    ids = {r["job_id"] for r in mine}
    once = len(final) == 18 and all(len(v) == 1 for v in final.values()) and ids == set(final)
    check(once, f"{what}: 18 jobs, each with exactly one final row "
          f"({len(final)} with one, {sum(len(v) > 1 for v in final.values())} with more)")
    st = [v[0] for v in final.values()]
    good = all((r["status"] == "ok" and r["epochs_run"] == "27") or
               (r["status"] == "stopped" and r["epochs_run"] in ("1", "3", "9")
                and "asha: stopped at rung" in r["message"]) for r in st)
    check(good, f"{what}: ok rows at 27 epochs, stopped rows at a rung epoch with its rung "
          f"named: {sorted((r['status'], r['epochs_run']) for r in st)}")
    rung_of = {"1": "1", "3": "2", "9": "3", "27": "4"}
    check(all(r["rung"] == rung_of[r["epochs_run"]] for r in mine),
          f"{what}: every row's rung column is its rung (1 at 1 epoch ... 4 at 27)")
    return final


def main():
    os.makedirs(WORK, exist_ok=True)
    # 1. straight through
    path = write_sweep("s")
    p = run(path)
    check(p.returncode == 0, f"the search runs to its end (exit {p.returncode}) "
          + p.stderr.strip().splitlines()[-3] if p.stderr.strip() else "")
    final = check_final("s", "straight")
    log = list(csv.reader(log_lines("s")))
    per_rung = {}
    for r in log:
        if r[6] == "result":
            per_rung.setdefault(int(r[4]), set()).add(r[2])
    sizes = [len(per_rung.get(k, ())) for k in range(4)]
    check(sizes[0] == 9 and sizes[1] >= 3 and sizes[2] >= 1 and sizes[3] >= 1,
          f"rungs 1, 3, 9, 27 took in {sizes} configurations (9, >=3, >=1, >=1)")
    fate = {}
    for r in log:
        if r[6] in ("stopped", "done"):
            fate.setdefault(r[2], []).append(r[6])
    check(len(fate) == 9 and all(len(v) == 1 for v in fate.values()),
          f"the log gives each of the 9 configurations one end: {sorted(fate.values())}")
    jobs_of = {r[2]: r[3].split() for r in log}
    agree = all(final[j][0]["status"] == ("ok" if fate[c][0] == "done" else "stopped")
                for c, js in jobs_of.items() for j in js)
    check(agree, "the rows agree with the log (done: ok rows; stopped: stopped rows)")
    before = decisions(log_lines("s"))
    p = run(path)
    check(p.returncode == 0 and "0 paused, 0 ok" in p.stderr and decisions(log_lines("s")) == before,
          "a rerun of the finished search trains nothing and replays the same log")

    # 2. curves of the jobs that went through every pause vs a straight grid,
    # run into the same results file: other jobs (no tag), the search's
    # rows untouched and its rerun the same
    grid = write_sweep("g", method="grid", results="s")
    p = run(grid)
    check(p.returncode == 0, f"the grid of the same configurations runs into the search's "
          f"results file (exit {p.returncode})")
    by_config = {}
    for r in rows("s"):
        by_config.setdefault((r["search"] != "", r["hidden"], r["lr"], r["seed"]), r["job_id"])
    curves = {}
    with open(f"{WORK}/s-curves.csv") as f:
        for r in csv.DictReader(f):
            curves.setdefault(r["job_id"], {})[int(r["epoch"])] = r["train_loss"]
    done = [v[0] for v in final.values() if v[0]["status"] == "ok"]
    pairs = [(by_config[(True, *k)], by_config.get((False, *k))) for k in
             ((r["hidden"], r["lr"], r["seed"]) for r in done)]
    same = pairs and all(g and curves[s] == curves[g] and len(curves[s]) == 27 for s, g in pairs)
    check(same, f"the {len(done)} job(s) trained through every pause have the grid's "
          f"train_loss at each of the 27 epochs")
    p = run(path)
    check(p.returncode == 0 and "0 paused, 0 ok" in p.stderr and decisions(log_lines("s")) == before,
          "with the grid's 18 rows in the file, the search's rerun trains nothing, same log")
    check_final("s", "beside the grid")

    # 3. kill -9 at random moments
    path = write_sweep("k", bits=17, train_size=60000)  # ~10 s: time to kill it
    rng = random.Random(int(os.environ.get("ASHA_TEST_SEED", "1")))
    # Each start replays the results file into a new log (renamed into
    # place whole), so every look at the log must begin with the last look.
    prefix_ok, kills, seen = True, 0, []
    for attempt in range(40):
        p = subprocess.Popen([LS, "run", path, "--threads-per-job", "1", "--quiet"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if kills < 6:
            time.sleep(rng.uniform(0.2, 1.2))
        if kills < 6 and p.poll() is None:
            os.kill(p.pid, signal.SIGKILL)
            kills += 1
        p.communicate(timeout=600)
        now = decisions(log_lines("k")) if os.path.exists(f"{WORK}/k-search.csv") else []
        if now[:len(seen)] != seen:
            prefix_ok = False
            print(f"  start {attempt + 1}: the log lost or changed decisions made before:\n"
                  f"  before {seen[-3:]}\n  now    {now[:len(seen)][-3:]}")
        seen = now
        if p.returncode == 0:
            break
    # a fast machine may end the search before the sixth kill: three at least
    check(kills >= 3, f"killed with SIGKILL {kills} times while it ran (3 to 6)")
    check(prefix_ok, "every restart replayed the decisions logged before the kill, in order")
    check(p.returncode == 0, f"the rerun ends the search (exit {p.returncode})")
    check_final("k", "after the kills")

    # 4. shards: each searches its own configurations, together all of them
    done = []
    for i in (0, 1):
        p = run(write_sweep("s"), "--shard", f"{i}/2", "--set", f"sweep.results={WORK}/h{i}.csv")
        ids = {r["job_id"] for r in rows(f"h{i}") if r["status"] in ("ok", "stopped")}
        units = sum(1 for line in log_lines(f"h{i}") if ",0,1,result," in line)
        done.append((p.returncode, ids, units))
    a, b = done[0][1], done[1][1]
    check(all(rc == 0 for rc, _, _ in done) and not a & b and len(a | b) == 18
          and done[0][2] + done[1][2] == 9 and min(done[0][2], done[1][2]) >= 1,
          f"--shard 0/2 and 1/2 search {done[0][2]} and {done[1][2]} of the 9 configurations, "
          f"their jobs disjoint ({len(a & b)} shared) and together all 18 ({len(a | b)})")
    print(f"asha: {failures} failure(s)")
    return min(failures, 100)


if __name__ == "__main__":
    sys.exit(main())
