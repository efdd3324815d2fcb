#!/usr/bin/env python3
"""serve-asha.py LSTMSWEEP WORKDIR - an asha search in `lstmsweep serve`,
whole: 9 bitcount configurations x 2 seeds (rungs 1, 3, 9, 27 epochs, eta
3), next to a grid over the same configurations, with the server killed
(SIGKILL) twice while the search runs.

  1. the search and the grid are accepted (201); the same search under
     another name is refused with 409 and a JSON error naming the sweep.
  2. while it runs, GET /sweeps/s/search.csv is the audit log; every
     restart of the server replays the store's rung record, so the log
     after the restart begins with what it held before the kill.  Then
     paused, it drains and starts nothing; resumed, it goes on.
  3. both sweeps end "done".  The search's export: 18 jobs, each with one
     final row (ok at 27 epochs, or stopped at a rung epoch with its rung
     named), one search tag, every row's rung column its rung; the grid's:
     18 ok rows without a tag, ids disjoint from the search's.
  4. the log gives each configuration one end, and the rows agree with it.
  5. each search job that reached 27 epochs - through its pauses and the
     kills - has the grid's train_loss at every epoch (the curves files).
  6. `lstmsweep fetch s -o X.csv --curves X-curves.csv --search
     X-search.csv` and `lstmsweep report X.csv`: the report's search
     section, with the configuration the search chose.
Each check prints "ok ..." or "FAIL ..."; the exit status is the count of
failures (77: skipped)."""
import csv
import io
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import asha  # noqa: E402  (its sweep; it reads the same two arguments)

LS, WORK = sys.argv[1], sys.argv[2]
failures = 0
server = None


def check(cond, what):
    global failures
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    failures += 0 if cond else 1


def sweep_text(name, method):
    return asha.sweep_text(name, method, bits=17, train_size=20000)


def ports_logged():
    if not os.path.exists(f"{WORK}/serve.log"):
        return []
    with open(f"{WORK}/serve.log") as f:
        return re.findall(r"^serving on port (\d+)", f.read(), re.M)


def start():
    global server
    had = len(ports_logged())
    log = open(f"{WORK}/serve.log", "a")
    os.makedirs(f"{WORK}/data", exist_ok=True)  # bitcount needs none; the server wants a root
    server = subprocess.Popen([LS, "serve", "--state", f"{WORK}/state", "--listen",
                               "127.0.0.1:0", "--data-root", f"{WORK}/data"], stdout=log, stderr=log,
                              env=dict(os.environ, OMP_NUM_THREADS="1"))
    for _ in range(200):
        ports = ports_logged()
        if len(ports) > had and os.path.exists(f"{WORK}/state/token"):
            token = open(f"{WORK}/state/token").read().strip()
            return f"http://127.0.0.1:{ports[-1]}/api/v1", token
        time.sleep(0.1)
    raise SystemExit("the server did not start")


def call(url, token, path, body=None):
    req = urllib.request.Request(url + path, data=body.encode() if body is not None else None,
                                 headers={"Authorization": f"Bearer {token}",
                                          "Content-Type": "text/plain"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def decisions(text):
    """The log's lines without their sequence numbers."""
    return [tuple(r[2:8]) for r in list(csv.reader(io.StringIO(text)))[1:]]


def main():
    os.makedirs(WORK, exist_ok=True)
    url, token = start()
    # 1. submissions
    st_s, _ = call(url, token, "/sweeps", sweep_text("s", "asha"))
    st_g, _ = call(url, token, "/sweeps?priority=-2", sweep_text("g", "grid"))
    check(st_s == 201 and st_g == 201, f"the search and the grid are accepted ({st_s}, {st_g})")
    st, body = call(url, token, "/sweeps", sweep_text("s2", "asha"))
    err = json.loads(body).get("error", "") if body.startswith("{") else body
    check(st == 409 and "'s'" in err, f"the same search as s2: {st} {err!r}")

    # 2. kill -9 twice while the search runs, once it has logged more than
    # at the last kill (plus a random wait); the log survives in order
    rng = random.Random(int(os.environ.get("ASHA_TEST_SEED", "1")))
    prefix_ok, seen, kills = True, [], 0
    for _ in range(2):
        for _ in range(600):
            st, text = call(url, token, "/sweeps/s/search.csv")
            if st == 200 and len(decisions(text)) > len(seen) + 2:
                break
            time.sleep(0.1)
        time.sleep(rng.uniform(0, 1.0))
        st, text = call(url, token, "/sweeps/s/search.csv")
        before = decisions(text) if st == 200 else []
        server.send_signal(signal.SIGKILL)
        server.wait()
        kills += 1
        url, token = start()
        for _ in range(100):   # the driver rewrites the log once it replays
            st, text = call(url, token, "/sweeps/s/search.csv")
            now = decisions(text) if st == 200 else []
            if len(now) >= len(before):
                break
            time.sleep(0.1)
        if now[:len(before)] != before:
            prefix_ok = False
            print(f"  after kill {kills}: {before[-2:]} became {now[:len(before)][-2:]}")
        seen = now
    check(prefix_ok and len(seen) > 4, f"after each of {kills} kills the log begins with what it "
          f"held before ({len(seen)} line(s) at the last look)")

    # 2b. pause the search while it runs: its running jobs drain (back to
    # the queue with their checkpoints), nothing starts; resumed, it goes on
    st, _ = call(url, token, "/sweeps/s/pause", "")
    drained = False
    for _ in range(400):
        _, body = call(url, token, "/sweeps/s")
        if json.loads(body)["jobs"]["running"] == 0:
            drained = True
            break
        time.sleep(0.1)
    time.sleep(0.5)
    _, body = call(url, token, "/sweeps/s")
    still = json.loads(body)["jobs"]["running"]
    st2, _ = call(url, token, "/sweeps/s/resume", "")
    check(st == 200 and drained and still == 0 and st2 == 200,
          f"paused, the search drains and starts nothing ({still} running), then resumes "
          f"({st}, {drained}, {st2})")

    # 3. both end
    state = {}
    for _ in range(1200):
        for n in ("s", "g"):
            st, body = call(url, token, f"/sweeps/{n}")
            state[n] = json.loads(body).get("state") if st == 200 else st
        if state["s"] == "done" and state["g"] == "done":
            break
        time.sleep(0.25)
    check(state == {"s": "done", "g": "done"}, f"both sweeps end done ({state})")
    rows = {}
    for n in ("s", "g"):
        st, text = call(url, token, f"/sweeps/{n}/results.csv")
        rows[n] = list(csv.DictReader(io.StringIO(text))) if st == 200 else []
    s, g = rows["s"], rows["g"]
    rung_of = {"1": "1", "3": "2", "9": "3", "27": "4"}
    good = len(s) == 18 and len({r["job_id"] for r in s}) == 18 and all(
        (r["status"] == "ok" and r["epochs_run"] == "27") or
        (r["status"] == "stopped" and r["epochs_run"] in ("1", "3", "9") and
         "asha: stopped at rung" in r["message"]) for r in s)
    check(good, "the search's export: 18 jobs, each ok at 27 epochs or stopped at a rung: "
          f"{sorted((r['status'], r['epochs_run']) for r in s)}")
    check(len({r["search"] for r in s}) == 1 and s[0]["search"] and
          all(r["rung"] == rung_of.get(r["epochs_run"]) for r in s),
          "one search tag; every row's rung column is its rung")
    check(len(g) == 18 and all(r["status"] == "ok" and not r["search"] and not r["rung"]
                               for r in g) and not {r["job_id"] for r in s} & {r["job_id"] for r in g},
          "the grid's export: 18 ok rows, no tag or rung, ids disjoint from the search's")

    # 4. log and rows agree
    st, text = call(url, token, "/sweeps/s/search.csv")
    log = list(csv.reader(io.StringIO(text)))[1:]
    fate = {}
    for r in log:
        if r[6] in ("done", "stopped"):
            fate.setdefault(r[2], []).append(r[6])
    status = {r["job_id"]: r["status"] for r in s}
    agree = len(fate) == 9 and all(len(v) == 1 for v in fate.values()) and all(
        status.get(j) == ("ok" if fate[r[2]][0] == "done" else "stopped")
        for r in log if r[2] in fate for j in r[3].split())
    check(agree, f"the log gives each of the 9 configurations one end, as the rows say "
          f"({sorted(v[0] for v in fate.values())})")

    # 5. curves through pauses and kills = straight through
    curves = {}
    for n in ("s", "g"):
        st, text = call(url, token, f"/sweeps/{n}/curves.csv")
        for r in csv.DictReader(io.StringIO(text)):
            curves.setdefault(r["job_id"], {})[int(r["epoch"])] = r["train_loss"]
    grid_id = {(r["hidden"], r["lr"], r["seed"]): r["job_id"] for r in g}
    done = [r for r in s if r["status"] == "ok"]
    same = done and all(len(curves.get(r["job_id"], {})) == 27 and
                        curves[r["job_id"]] == curves.get(grid_id[(r["hidden"], r["lr"], r["seed"])])
                        for r in done)
    check(same, f"the {len(done)} job(s) that reached 27 epochs have the grid's train_loss "
          "at every epoch")
    # 6. fetched, reported
    x = f"{WORK}/x"
    p = subprocess.run([LS, "fetch", "s", "--state", f"{WORK}/state", "-o", f"{x}.csv",
                        "--curves", f"{x}-curves.csv", "--search", f"{x}-search.csv"],
                       capture_output=True, text=True, timeout=60)
    rep = subprocess.run([LS, "report", f"{x}.csv"], capture_output=True, text=True, timeout=60)
    chosen = re.search(r"chosen: (.*) \(jobs ([0-9a-f ]+)\)", rep.stdout)
    best = {r["job_id"] for r in done}
    check(p.returncode == 0 and rep.returncode == 0 and "Search: " in rep.stdout and chosen
          and set(chosen.group(2).split()) <= best,
          f"fetch --search, then report: its search section chose a configuration that "
          f"reached the last rung ({chosen.group(0) if chosen else rep.stdout[-300:]!r})")
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=60)
    print(f"serve-asha: {failures} failure(s)")
    return min(failures, 100)


if __name__ == "__main__":
    try:
        sys.exit(main())
    finally:
        if server and server.poll() is None:
            server.kill()
