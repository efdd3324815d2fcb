#!/usr/bin/env python3
"""numa-guest.py LSTMSWEEP WORKDIR [MNIST_DIR] - the NUMA checks of the
runner, run inside a machine of two NUMA nodes x two cores (tests/numa.sh
boots one with ../shared/tools/numa-vm.sh).  Each check prints "ok ..." or
"FAIL ..."; the exit status is the number of failures (0: all passed).

  1. `lstmsweep topo` sees both nodes and their four cores;
  2. a sweep of one-core jobs of both tasks: every job's team on the cores of
     one node (the cpus and numa_node columns against the kernel's
     /sys/devices/system/node/nodeN/cpulist), both nodes used, four jobs at
     once; each job's data copy and model on its own node (the runner's own
     check, "numa" lines), and each data copy's pages, asked of the kernel
     with move_pages(2) by this script while the job runs, on the node of
     the job's cores, and bound there (its mapping's policy in
     /proc/PID/numa_maps); the mnist data has one copy per node, at two
     addresses;
  3. threads_per_job = 2: each job gets two cores of one node;
  4. under taskset to node 0's cores: every job on node 0, and the one
     copy of each data set on node 0.
The copies are told apart by address: the runner logs each job's data copy
(the address and size of its largest buffer), and this script asks the
kernel where the pages of exactly that range are."""
import csv
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from numa_pages import area_policy, page_nodes  # noqa: E402

LS, WORK = sys.argv[1], sys.argv[2]
MNIST = sys.argv[3] if len(sys.argv) > 3 else ""
failures = 0


def check(cond, what):
    global failures
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    failures += not cond


def cpulist(text):
    cpus = set()
    for part in text.strip().split(","):
        if part:
            a, _, b = part.partition("-")
            cpus.update(range(int(a), int(b or a) + 1))
    return cpus


def node_cpus():
    base = "/sys/devices/system/node"
    return {int(d[4:]): cpulist(open(f"{base}/{d}/cpulist").read())
            for d in os.listdir(base) if re.fullmatch(r"node\d+", d)}


NODES = node_cpus()


def write_sweep(name, mnist_jobs=True, bitcount_hidden="4, 8"):
    path = f"{WORK}/{name}.ini"
    with open(path, "w") as f:
        f.write(f"[sweep]\nname = {name}\nresults = {WORK}/{name}.csv\nseeds = 1, 2\n"
                f"[bitcount]\nbits = 10\ntrain_size = 500\nbatch = 50\n"
                f"hidden = {bitcount_hidden}\nepochs = 30\n")
        if mnist_jobs and MNIST:
            f.write(f"[mnist]\ndata = {MNIST}\ntrain_size = 600\nval_size = 200\n"
                    f"batch = 50\nhidden = 8, 12\nepochs = 2\n")
    return path


NUMA_LINE = re.compile(r"numa  (\w+) on node (\d+): data copy at (0x[0-9a-f]+) "
                       r"\((\d+) bytes\) on node ([\d,-]+|\?), model on node ([\d,-]+|\?)(.*)")


def run_sweep(name, args=(), prefix=()):
    """Run the sweep, asking the kernel about each data copy while its job
    runs; returns (rows, numa lines, {job: kernel's answer}, log text)."""
    log_path = f"{WORK}/{name}.log"
    env = dict(os.environ, OMP_NUM_THREADS="1")
    with open(log_path, "w") as log:
        p = subprocess.Popen([*prefix, LS, "run", write_sweep(name, **SWEEPS[name]), *args],
                             stdout=log, stderr=subprocess.STDOUT, env=env)
        seen, kernel = set(), {}
        while True:
            done = p.poll() is not None
            for m in NUMA_LINE.finditer(open(log_path).read()):
                job = m.group(1)
                if job not in seen:
                    seen.add(job)
                    try:
                        addr = int(m.group(3), 16)
                        kernel[job] = (page_nodes(p.pid, addr, int(m.group(4))),
                                       area_policy(p.pid, addr))
                    except OSError:
                        pass            # the job (or the process) ended first
            if done:
                break
            time.sleep(0.2)
    text = open(log_path).read()
    with open(f"{WORK}/{name}.csv") as f:
        rows = list(csv.DictReader(f))
    return rows, [m.groups() for m in NUMA_LINE.finditer(text)], kernel, text


def max_concurrent(text):
    running = best = 0
    for line in text.splitlines():
        if re.search(r"Z start ", line):
            running += 1
            best = max(best, running)
        elif re.search(r"Z end ", line):
            running -= 1
    return best


def check_rows(rows, what, want_nodes=None, width=1):
    ok = all(r["status"] == "ok" for r in rows)
    check(ok and rows, f"{what}: {len(rows)} jobs, all ok")
    placed = all(r["numa_node"] and cpulist(r["cpus"]) <= NODES[int(r["numa_node"])]
                 and len(cpulist(r["cpus"])) == width for r in rows)
    check(placed, f"{what}: every job's {width} cpu(s) inside its node "
          f"({', '.join(r['cpus'] + '@' + r['numa_node'] for r in rows)})")
    used = {int(r["numa_node"]) for r in rows if r["numa_node"]}
    if want_nodes is not None:
        check(used == want_nodes, f"{what}: nodes used {sorted(used)}, want {sorted(want_nodes)}")


def check_memory(lines, kernel, what, bound=True):
    bad = [f"{job[:6]}@{node}: data {dn}, model {mn}" for job, node, _, _, dn, mn, rest
           in lines if not node == dn == mn or rest]
    check(lines and not bad, f"{what}: the runner finds every job's data and model on its node "
          f"({len(lines)} jobs){': not ' + '; '.join(bad) if bad else ''}")
    asked = {job: k for job, (k, _) in kernel.items()}
    agree = all(set(asked[job]) == {int(node)} for job, node, *_ in lines if job in asked)
    check(len(asked) >= len(lines) // 2 and agree,
          f"{what}: move_pages(2) puts each data copy asked ({len(asked)}) on its job's "
          f"node: {sorted((j[:6] + '@' + n, sorted(asked[j].items())) for j, n, *_ in lines if j in asked)}")
    if bound:
        # The copies are bound (mbind) to their node, so that the kernel's
        # NUMA balancing cannot move their pages later: the check above only
        # sees where they are at one moment.
        policy = {job: pol for job, (_, pol) in kernel.items()}
        # hwloc's HWLOC_MEMBIND_BIND is MPOL_BIND, or MPOL_PREFERRED_MANY
        # on kernels that have it (5.15+): both keep the balancer off.
        want = {job: {f"bind:{node}", f"prefer (many):{node}"}
                for job, node, *_ in lines if job in policy}
        check(want and all(policy[j] in w for j, w in want.items()),
              f"{what}: each data copy asked is bound to its job's node in numa_maps: "
              f"{sorted((j[:6], policy[j]) for j in want)}")


SWEEPS = {"both": {}, "wide": {"mnist_jobs": False, "bitcount_hidden": "6"},
          "pinned": {}}


def main():
    out = subprocess.run([LS, "topo"], capture_output=True, text=True).stdout
    check("4 core(s) in 2 NUMA node(s)" in out, "topo sees 4 cores in 2 nodes: "
          + out.splitlines()[1] if len(out.splitlines()) > 1 else out)

    rows, lines, kernel, text = run_sweep("both", ["--threads-per-job", "1"])
    check_rows(rows, "one-core jobs", want_nodes={0, 1})
    check(max_concurrent(text) == 4, f"four one-core jobs at once (saw {max_concurrent(text)})")
    check_memory(lines, kernel, "one-core jobs")
    if MNIST:
        mnist_ids = {r["job_id"] for r in rows if r["task"] == "mnist"}
        copies = {(node, addr) for job, node, addr, *_ in lines if job in mnist_ids}
        by_node = {node for node, _ in copies}
        check(len(copies) == 2 and by_node == {"0", "1"},
              f"the mnist data: one copy on each node ({sorted(copies)})")

    rows, lines, kernel, text = run_sweep("wide", ["--threads-per-job", "2"])
    check_rows(rows, "two-thread jobs", width=2)

    node0 = ",".join(str(c) for c in sorted(NODES[0]))
    rows, lines, kernel, text = run_sweep("pinned", ["--threads-per-job", "1"],
                                          prefix=("taskset", "-c", node0))
    check_rows(rows, "under taskset to node 0", want_nodes={0})
    check_memory(lines, kernel, "under taskset to node 0", bound=False)
    if MNIST:
        mnist_ids = {r["job_id"] for r in rows if r["task"] == "mnist"}
        copies = {(node, addr) for job, node, addr, *_ in lines if job in mnist_ids}
        check(len(copies) == 1 and {n for n, _ in copies} == {"0"},
              f"under taskset to node 0: one mnist copy, on node 0 ({sorted(copies)})")
    print(f"numa-guest: {failures} failure(s)")
    return min(failures, 100)


if __name__ == "__main__":
    sys.exit(main())
