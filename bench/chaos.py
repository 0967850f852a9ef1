#!/usr/bin/env python3
"""A chaos soak against real mrsh processes: N seeded runs of mixed jobs and faults, every output compared
byte for byte with an independent answer computed here.

    bench/chaos.py [--runs 1000] [--seed S] [--binary .build/release/mrsh] [--keep]

One coordinator (`mrsh coordinator`, heartbeat timeout 2 s) and three worker processes (`mrsh worker
--join`, one slot each, `--allow-stream`) on loopback; each run submits one job with `mrsh --cluster` and
injects one fault, triggered by the coordinator's task log (after the k-th finished map or reduce task),
not by wall-clock sleeps:

  kill       SIGKILL of one worker                 kill2      SIGKILL of one worker, then of another
  stop       SIGSTOP of one worker until the coordinator declares it lost, then SIGCONT (it rejoins)
  stopresume SIGSTOP of one worker, SIGCONT after the job ended: it must then remove that run's blobs
  killall    SIGKILL of every worker, then three new ones
  corrupt    an extra worker whose shuffle server flips a bit in every block it serves
  hang       an extra worker that stops itself (SIGSTOP) when a reducer first fetches from it
  fullscratch an extra worker whose scratch directory is a 256 KiB tmpfs (root only; else `kill`)
  restart    SIGKILL of the coordinator, restarted on the same address and state directory (only with
             --coordinator-restart: it needs `mrsh coordinator --state-dir`)
  linkcut    one worker's network link brought down until the coordinator declares it lost, then up again
             (only with --netns: every process in a network namespace of its own, joined by a bridge; root)
  none       no fault

Jobs: word count, sort, a join (shuffle and broadcast), a `stream` stage, and a map-only `grep` written to
a directory. Prints one line per failure (seed, run, job, fault, what differed) and a summary; exits 1
when any run failed. Repeat a failure with `--seed S --runs N`: run i depends only on (S, i).
"""
import argparse
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

WORDS = ("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma tau "
         "upsilon phi chi psi omega error warning info debug").split()


def corpus(directory, files=4, lines=1500):
    data = os.path.join(directory, "data")
    os.makedirs(data, exist_ok=True)
    texts = []
    rng = random.Random(7919)
    for i in range(files):
        text = "".join(" ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 9))) + "\n" for _ in range(lines))
        with open(os.path.join(data, f"f{i}.txt"), "w") as f:
            f.write(text)
        texts.append(text)
    return texts


def counts(texts, transform=lambda w: w):
    result = {}
    for text in texts:
        for word in text.split():
            word = transform(word)
            result[word] = result.get(word, 0) + 1
    return result


def answers(texts):
    """Each job's script and its expected output, computed here (not by mrsh)."""
    c = counts(texts)
    wordcount = "".join(f"{w}\t{c[w]}\n" for w in sorted(c, key=lambda s: s.encode()))
    joined = "".join(f"{w}\t{c[w]}\t{c[w]}\n" for w in sorted(c, key=lambda s: s.encode()))
    upper = counts(texts, str.upper)
    streamed = "".join(f"{w}\t{upper[w]}\n" for w in sorted(upper, key=lambda s: s.encode()))
    lines = [line for text in texts for line in text.split("\n")[:-1]]
    sort = "".join(line + "\n" for line in sorted(lines, key=lambda s: s.encode()))
    grep = "".join(line + "\n" for line in lines if "e" in line)
    join = ('let counts = read "data/*.txt" | map words | reduce count; '
            'read "data/*.txt" | map words | join counts on word using {} | reduce count by word, count')
    return {
        "wordcount": ('read "data/*.txt" | map words | reduce count', wordcount, None),
        "sort": ('read "data/*.txt" | sort by record', sort, None),
        "join-shuffle": (join.format("shuffle"), joined, None),
        "join-broadcast": (join.format("broadcast"), joined, None),
        "stream": ('read "data/*.txt" | stream "tr a-z A-Z" | map words | reduce count', streamed, None),
        "grep-write": ('read "data/*.txt" | grep "e" | write out overwrite', grep, "out"),
    }


class Process:
    """A child process whose standard error is collected by a thread."""

    def __init__(self, argv, cwd, env=None):
        self.stderr = []
        self.lock = threading.Lock()
        self.proc = subprocess.Popen(argv, cwd=cwd, env={**os.environ, **(env or {})}, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE if env and env.get("_STDOUT") else subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for line in iter(self.proc.stderr.readline, b""):
            with self.lock:
                self.stderr.append(line.decode(errors="replace"))

    def log(self, start=0):
        with self.lock:
            return "".join(self.stderr[start:])

    def lines(self):
        with self.lock:
            return len(self.stderr)

    def alive(self):
        return self.proc.poll() is None

    def kill(self, sig=signal.SIGKILL):
        if self.alive():
            try:
                os.kill(self.proc.pid, sig)
            except ProcessLookupError:
                pass


class Network:
    """With --netns: a hub namespace with a bridge, and a namespace per process joined to it by a veth pair
    (10.214.0.0/16, only inside the namespaces). `linkcut` brings a worker's veth down and up."""

    def __init__(self):
        self.tag = f"chs{os.getpid() % 100000}"
        self.hub = f"{self.tag}hub"
        self.made = []
        self.next = 0
        self.ip("netns", "add", self.hub)
        self.made.append(self.hub)
        self.ip("-n", self.hub, "link", "add", "br0", "type", "bridge")
        self.ip("-n", self.hub, "link", "set", "br0", "up")

    @staticmethod
    def ip(*args):
        done = subprocess.run(["ip", *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if done.returncode != 0:
            raise RuntimeError(f"ip {' '.join(args)}: {done.stderr.decode().strip()}")

    def host(self):
        """A new namespace on the bridge: (its name, its address, its veth on the hub)."""
        i = self.next
        self.next += 1
        name, veth, address = f"{self.tag}h{i}", f"p{i}", f"10.214.{i // 250}.{i % 250 + 1}"
        self.ip("netns", "add", name)
        self.made.append(name)
        self.ip("-n", name, "link", "add", "eth0", "type", "veth", "peer", "name", veth, "netns", self.hub)
        self.ip("-n", name, "addr", "add", address + "/16", "dev", "eth0")
        self.ip("-n", name, "link", "set", "eth0", "up")
        self.ip("-n", name, "link", "set", "lo", "up")
        self.ip("-n", self.hub, "link", "set", veth, "master", "br0")
        self.ip("-n", self.hub, "link", "set", veth, "up")
        return name, address, veth

    def link(self, veth, up):
        self.ip("-n", self.hub, "link", "set", veth, "up" if up else "down")

    def remove(self, name):
        if name in self.made:
            self.made.remove(name)
            subprocess.run(["ip", "netns", "del", name], stderr=subprocess.DEVNULL)

    def close(self):
        for name in list(reversed(self.made)):
            self.remove(name)


class Cluster:
    def __init__(self, binary, directory, restartable, network=None):
        self.binary, self.directory, self.network = binary, directory, network
        self.hosts = {}  # worker id -> (namespace, address, veth), with --netns
        self.coordinator_host = network.host() if network else None
        self.client_host = network.host() if network else None
        self.token = os.path.join(directory, "token")
        fd = os.open(self.token, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.write(fd, b"chaos-soak-token-" + os.urandom(16).hex().encode() + b"\n")
        os.close(fd)
        self.state = os.path.join(directory, "state") if restartable else None
        self.workers = {}
        self.next_id = 0
        self.address = f"{self.coordinator_host[1]}:7070" if network else "127.0.0.1:0"
        self.start_coordinator()

    def prefix(self, host):
        """The argv prefix that runs a command in `host`'s namespace (nothing without --netns)."""
        return ["ip", "netns", "exec", host[0]] if host else []

    def start_coordinator(self):
        argv = [self.binary, "coordinator", "--listen", self.address, "--token-file", self.token,
                "--scratch", os.path.join(self.directory, "coordinator"), "--heartbeat-interval", "0.2",
                "--heartbeat-timeout", "2"]
        if self.state:
            argv += ["--state-dir", self.state]
        os.makedirs(os.path.join(self.directory, "coordinator"), exist_ok=True)
        self.coordinator = Process(self.prefix(self.coordinator_host) + argv, self.directory, {"MRSH_VERBOSE": "1"})
        deadline = time.time() + 20
        while time.time() < deadline:
            m = re.search(r"mrsh coordinator: listening on (\S+)", self.coordinator.log())
            if m:
                self.address = m.group(1)
                return
            if not self.coordinator.alive():
                break
            time.sleep(0.01)
        raise RuntimeError("the coordinator did not start: " + self.coordinator.log()[-2000:])

    def add_worker(self, env=None, scratch=None):
        wid = f"w{self.next_id}"
        self.next_id += 1
        scratch = scratch or os.path.join(self.directory, "workers", wid)
        os.makedirs(scratch, exist_ok=True)
        argv = [self.binary, "worker", "--join", self.address, "--token-file", self.token, "--slots", "1",
                "--id", wid, "--scratch", scratch, "--retry", "10", "--allow-stream"]
        host = None
        if self.network:
            host = self.network.host()
            self.hosts[wid] = host
            argv += ["--listen", host[1]]
        self.workers[wid] = (
            Process(self.prefix(host) + argv, self.directory, {"MRSH_TEST_SLOW_WORKER": "*:0.02", **(env or {})}),
            scratch)
        return wid

    def forget_dead(self):
        """Removes the namespaces of workers that have ended."""
        for wid, (p, _) in list(self.workers.items()):
            if not p.alive() and wid in self.hosts:
                self.network.remove(self.hosts.pop(wid)[0])

    def live(self):
        return sorted(w for w, (p, _) in self.workers.items() if p.alive())

    def wait_registered(self, ids, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            log = self.coordinator.log()
            if all(f"worker {w} registered" in log for w in ids):
                return True
            time.sleep(0.02)
        return False

    def wait_log(self, needle, count, start, until, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.coordinator.log(start).count(needle) >= count:
                return True
            if until():
                return False
            time.sleep(0.002)
        return False

    def stop(self):
        for p, _ in self.workers.values():
            p.kill(signal.SIGCONT)
            p.kill()
        self.coordinator.kill()


def blob_files(scratch):
    """Files of runs a worker still holds (its store: <scratch>/<run>/...)."""
    found = 0
    for root, _, files in os.walk(scratch):
        found += len(files)
    return found


def map_outputs(scratch):
    """Map output blobs (map-<task>-a<attempt>) a worker's store holds."""
    return sum(1 for _, _, files in os.walk(scratch) for f in files if f.startswith("map-"))


def tmpfs(path):
    os.makedirs(path, exist_ok=True)
    return subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", path],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=random.randrange(1, 1 << 40))
    parser.add_argument("--binary", default=os.path.join(os.path.dirname(__file__), "..", ".build", "release", "mrsh"))
    parser.add_argument("--coordinator-restart", action="store_true",
                        help="also restart the coordinator (needs `mrsh coordinator --state-dir`)")
    parser.add_argument("--netns", action="store_true",
                        help="every process in a network namespace of its own; adds link cuts (root, ip)")
    parser.add_argument("--keep", action="store_true", help="keep the working directory")
    args = parser.parse_args()
    binary = os.path.abspath(args.binary)
    if not os.access(binary, os.X_OK):
        sys.exit(f"chaos: no mrsh binary at {binary} (build it: swift build -c release)")
    directory = tempfile.mkdtemp(prefix="chaos-soak-")
    texts = corpus(directory)
    jobs = answers(texts)
    faults = ["kill", "kill", "kill2", "stop", "stopresume", "killall", "corrupt", "hang", "fullscratch", "none"]
    if args.coordinator_restart:
        faults += ["restart", "restart"]
    network = None
    if args.netns:
        if os.geteuid() != 0 or not shutil.which("ip"):
            sys.exit("chaos: --netns needs root and the ip command")
        network = Network()
        faults += ["linkcut", "linkcut"]
    can_mount = os.geteuid() == 0
    cluster = Cluster(binary, directory, args.coordinator_restart, network)
    print(f"chaos: {args.runs} runs, seed {args.seed}, binary {binary}, in {directory}", flush=True)
    started = time.time()
    failures, tally, mounts = [], {}, []
    try:
        for run in range(args.runs):
            rng = random.Random(args.seed * 1_000_003 + run)
            name = rng.choice(sorted(jobs))
            script, expected, out_dir = jobs[name]
            fault = rng.choice(faults)
            if fault == "fullscratch" and not can_mount:
                fault = "kill"
            extra = None
            cluster.forget_dead()
            while len(cluster.live()) < 3:
                cluster.add_worker()
            if fault in ("corrupt", "hang", "fullscratch"):
                wid = f"w{cluster.next_id}"
                if fault == "corrupt":
                    extra = cluster.add_worker({"MRSH_TEST_CORRUPT_SHUFFLE": wid})
                elif fault == "hang":
                    extra = cluster.add_worker({"MRSH_TEST_STOP_ON_FETCH": wid})
                else:
                    path = os.path.join(directory, "small", wid)
                    if tmpfs(path):
                        mounts.append(path)
                        extra = cluster.add_worker(scratch=path)
                    else:
                        fault = "kill"
            if not cluster.wait_registered(cluster.live()):
                failures.append((run, name, fault, "workers did not register"))
                break
            offset = cluster.coordinator.lines()
            client = Process(cluster.prefix(cluster.client_host) + [binary, "--cluster", cluster.address, "--token-file", cluster.token, "--split-size",
                              "16K", "--reducers", "6", "--quiet", "-e", script], directory, {"_STDOUT": "1"})
            output = []
            reader = threading.Thread(target=lambda: output.append(client.proc.stdout.read()), daemon=True)
            reader.start()
            finished = lambda: not client.alive()
            in_reduce = rng.random() < 0.5 and out_dir is None
            k = rng.randrange(3) if in_reduce else 1 + rng.randrange(8)
            plan = f"{fault}"
            resume = None
            if fault in ("kill", "kill2", "stop", "stopresume", "killall", "restart", "linkcut"):
                if in_reduce:
                    reached = (cluster.wait_log("start reduce-", 1, offset, finished)
                               and cluster.wait_log("done reduce-", k, offset, finished))
                else:
                    reached = cluster.wait_log("done map-", k, offset, finished)
                plan += f" after {k} {'reduce' if in_reduce else 'map'} tasks"
                if reached:
                    live = cluster.live()
                    victim = rng.choice(live)
                    process = cluster.workers[victim][0]
                    if fault == "kill":
                        process.kill()
                    elif fault == "kill2":
                        process.kill()
                        now = cluster.coordinator.lines()
                        if cluster.wait_log("done ", 2, now, finished):
                            others = [w for w in cluster.live() if w != victim]
                            if len(others) > 1:
                                cluster.workers[rng.choice(others)][0].kill()
                    elif fault == "stop":
                        process.kill(signal.SIGSTOP)
                        cluster.wait_log(f"worker {victim} lost", 1, offset, finished, timeout=15)
                        process.kill(signal.SIGCONT)
                    elif fault == "linkcut":
                        veth = cluster.hosts[victim][2]
                        network.link(veth, up=False)
                        cluster.wait_log(f"worker {victim} lost", 1, offset, finished, timeout=15)
                        network.link(veth, up=True)
                    elif fault == "stopresume":
                        process.kill(signal.SIGSTOP)
                        resume = victim
                    elif fault == "killall":
                        for w in live:
                            cluster.workers[w][0].kill()
                        for _ in range(3):
                            cluster.add_worker()
                    elif fault == "restart":
                        cluster.coordinator.kill()
                        cluster.coordinator.proc.wait()
                        cluster.start_coordinator()
                    plan += f" ({victim})" if fault != "restart" else ""
            try:
                status = client.proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                client.kill()
                status = "timeout"
            reader.join(10)
            if extra:
                cluster.workers[extra][0].kill(signal.SIGCONT)
                cluster.workers[extra][0].kill()
                cluster.workers[extra][0].proc.wait()
                if mounts and cluster.workers[extra][1] == mounts[-1]:
                    subprocess.run(["umount", "-l", mounts.pop()], stderr=subprocess.DEVNULL)
            leak = None
            if resume:
                # Resumed after its run ended: it registers again and removes the ended run's map outputs.
                cluster.workers[resume][0].kill(signal.SIGCONT)
                deadline = time.time() + 15
                while time.time() < deadline and map_outputs(cluster.workers[resume][1]) > 0:
                    time.sleep(0.05)
                if map_outputs(cluster.workers[resume][1]) > 0:
                    leak = f"{resume} kept {map_outputs(cluster.workers[resume][1])} map outputs of ended runs"
            got = b"".join(output).decode(errors="replace")
            if out_dir:
                path = os.path.join(directory, out_dir)
                names = sorted(os.listdir(path)) if os.path.isdir(path) else []
                parts = [n for n in names if n.startswith("part-")]
                if names != ["_SUCCESS"] + parts:
                    got = f"files in {out_dir}: {names}"
                else:
                    got = "".join(open(os.path.join(path, n)).read() for n in parts)
            tally[fault] = tally.get(fault, 0) + 1
            if status != 0 or got != expected or leak:
                why = (f"exit {status}" if status != 0 else
                       f"output differs ({len(got)} bytes, expected {len(expected)})" if got != expected else leak)
                failures.append((run, name, plan, why + ": " + client.log()[-300:].strip().replace("\n", " | ")))
                print(f"FAIL seed {args.seed} run {run}: {name}, {plan}: {failures[-1][3]}", flush=True)
            if (run + 1) % 50 == 0:
                print(f"chaos: {run + 1} runs, {len(failures)} failed, {time.time() - started:.0f} s", flush=True)
        # Blobs left behind by finished runs (a worker keeps only what a running job needs).
        time.sleep(1)
        left = {w: blob_files(s) for w, (p, s) in cluster.workers.items() if p.alive()}
    finally:
        cluster.stop()
        if network:
            time.sleep(0.2)
            network.close()
        for path in mounts:
            subprocess.run(["umount", "-l", path], stderr=subprocess.DEVNULL)
        if not args.keep:
            shutil.rmtree(directory, ignore_errors=True)
    seconds = time.time() - started
    print(f"chaos: {args.runs} runs in {seconds:.0f} s ({seconds / max(1, args.runs):.1f} s a run), seed {args.seed}; "
          f"faults {dict(sorted(tally.items()))}; {len(failures)} failed")
    print(f"chaos: files left in live workers' scratch directories after the last run: {left}")
    for run, name, plan, why in failures:
        print(f"  run {run}: {name}, {plan}: {why}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
