/// The PySpark driver program that ships inside mrsh: written into each Spark session directory and started
/// with `spark-submit` (`SparkSession`). It only moves blocks of map output and runs `mrsh spark-task` in
/// every Spark task; no record passes through Python or the JVM one at a time.
enum SparkDriverProgram {
    static let fileName = "mrsh_spark_driver.py"

    static let source = #"""
# mrsh's Spark driver program: written by mrsh into its Spark session directory and started once per session
# with `spark-submit` (see docs/ARCHITECTURE.md, "Running on Spark"). It never touches a record: every task
# runs the mrsh binary shipped with --files (`mrsh spark-task map|reduce`), and what travels through Spark
# is blocks of map output, one per reduce partition, keyed by partition id.
#
# Protocol: SESSION/ready holds {"parallelism": N, "app": ID} once the context is up (or SESSION/failed an
# error text); each line "job REQUEST RESPONSE" on the FIFO SESSION/requests runs the job in REQUEST (a JSON
# file) and writes one JSON line to the FIFO RESPONSE; "cancel TAG" cancels a running job; "stop" ends.
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback

SESSION = sys.argv[1]
BINARY = sys.argv[2]
PARENT = int(os.environ.get("MRSH_SPARK_PARENT", "0"))
IDLE = float(os.environ.get("MRSH_SPARK_IDLE", "0") or "0")


def say(text):
    print("mrsh-driver: " + text, file=sys.stderr, flush=True)


def publish(name, text):
    path = os.path.join(SESSION, name)
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.rename(path + ".tmp", path)


try:
    from pyspark import SparkConf, SparkContext, SparkFiles, TaskContext
except Exception as error:  # no PySpark for this Python
    publish("failed", "cannot import pyspark: %s" % error)
    sys.exit(3)

MARK = re.compile(r"MRSH-TASK-FAILED\{\{(.*?)\}\}", re.S)


class TaskFailed(Exception):
    pass


def task_binary():
    """The shipped mrsh binary, executable (a copy when the fetched file lost its mode)."""
    path = SparkFiles.get(BINARY)
    if os.access(path, os.X_OK):
        return path
    copy = os.path.join(tempfile.gettempdir(), "mrsh-spark-%d-%s" % (os.getuid(), BINARY))
    if not os.access(copy, os.X_OK):
        shutil.copyfile(path, copy + ".tmp%d" % os.getpid())
        os.chmod(copy + ".tmp%d" % os.getpid(), 0o755)
        os.rename(copy + ".tmp%d" % os.getpid(), copy)
    return copy


def run_binary(arguments, work):
    """Runs `mrsh spark-task ARGUMENTS` in `work` with this executor's whole environment; its standard
    output is its result. A failure raises TaskFailed carrying mrsh's one-line message."""
    process = subprocess.run(
        [task_binary(), "spark-task"] + arguments, cwd=work, env=dict(os.environ),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if process.returncode != 0:
        lines = [l for l in process.stderr.decode("utf-8", "replace").splitlines() if l.strip()]
        message = lines[-1] if lines else "the mrsh task ended with status %d" % process.returncode
        if message.startswith("mrsh: error: "):
            message = message[len("mrsh: error: "):]
        raise TaskFailed("MRSH-TASK-FAILED{{%s}}" % message)
    return process.stdout


def attempt_directory():
    return tempfile.mkdtemp(prefix="mrsh-task-")


def attempt_info(phase, task, start):
    """Where and when this attempt ran, for mrsh's history: Spark's attempt number and the executor (its id
    from the executor's log URL; tasks of a local master run in the driver)."""
    context = TaskContext.get()
    found = re.search(r"executorId=([^&]+)", os.environ.get("SPARK_LOG_URL_STDERR", ""))
    where = ("spark executor %s on %s" % (found.group(1), socket.gethostname())) if found else (
        "spark driver on %s" % socket.gethostname())
    return {"phase": phase, "task": task, "attempt": context.attemptNumber() if context else 0, "worker": where,
            "start": start, "end": time.time()}


def map_shuffled(reducers):
    def run(_, items):
        for task, request in items:
            started = time.time()
            work = attempt_directory()
            try:
                path = os.path.join(work, "task.json")
                with open(path, "w") as f:
                    f.write(request)
                answer = json.loads(run_binary(["map", path, work], work))
                # The map output's regions, one block per non-empty partition: bytes, never records.
                with open(answer["blob"], "rb") as blob:
                    for partition, (offset, length) in enumerate(answer["ranges"]):
                        if length > 0:
                            blob.seek(offset)
                            yield (partition, (task, 0, blob.read(length)))
                # The task's result goes to one reducer, which hands it back with its own.
                yield (task % reducers, (task, 1, (answer["result"], attempt_info("map", task, started))))
            finally:
                shutil.rmtree(work, ignore_errors=True)
    return run


def reduce_blocks(requests):
    def run(partition, items):
        started = time.time()
        work = attempt_directory()
        try:
            blocks = os.path.join(work, "blocks")
            os.mkdir(blocks)
            maps = []
            for _, (task, kind, payload) in items:
                if kind == 0:
                    with open(os.path.join(blocks, str(task)), "ab") as f:
                        f.write(payload)
                else:
                    maps.append((task, payload))
            path = os.path.join(work, "task.json")
            with open(path, "w") as f:
                f.write(requests[partition])
            answer = json.loads(run_binary(["reduce", path, blocks], work))
            yield (partition, answer["result"], maps, attempt_info("reduce", partition, started))
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return run


def map_only(item):
    task, request = item
    started = time.time()
    work = attempt_directory()
    try:
        path = os.path.join(work, "task.json")
        with open(path, "w") as f:
            f.write(request)
        result = json.loads(run_binary(["map", path, work], work))["result"]
        return (task, (result, attempt_info("map", task, started)))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run_job(sc, request):
    maps = request["maps"]
    reduces = request["reduces"]
    items = list(enumerate(maps))
    tasks = sc.parallelize(items, max(1, len(items)))
    if not reduces:
        results = dict(tasks.map(map_only).collect())
        return {"maps": [results[t][0] for t in range(len(maps))], "reduces": [],
                "attempts": [results[t][1] for t in range(len(maps))], "now": time.time()}
    reducers = len(reduces)
    shuffled = tasks.mapPartitionsWithIndex(map_shuffled(reducers)).partitionBy(reducers, lambda p: p)
    collected = shuffled.mapPartitionsWithIndex(reduce_blocks(reduces)).collect()
    map_results = {}
    reduce_results = {}
    attempts = {}
    for partition, result, task_results, info in collected:
        reduce_results[partition] = result
        attempts[("reduce", partition)] = info
        for task, (task_result, task_info) in task_results:
            map_results[task] = task_result
            attempts[("map", task)] = task_info
    return {
        "maps": [map_results[t] for t in range(len(maps))],
        "reduces": [reduce_results[p] for p in range(reducers)],
        "attempts": list(attempts.values()),
        "now": time.time(),
    }


def describe(error):
    text = str(error)
    found = MARK.findall(text)
    if found:
        return {"error": found[-1], "task": True}
    first = next((l.strip() for l in text.splitlines() if l.strip()), type(error).__name__)
    first = re.sub(r"^An error occurred while calling [^.]*\.\s*:?\s*", "", first)
    first = re.sub(r"^org\.apache\.spark\.SparkException:\s*", "", first)
    return {"error": first[:400], "task": False}


def respond(path, answer):
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
    except OSError:
        say("the client of %s is gone" % path)
        return
    try:
        os.set_blocking(fd, True)
        with os.fdopen(fd, "w") as f:
            f.write(json.dumps(answer) + "\n")
    except OSError as error:
        say("cannot answer %s: %s" % (path, error))


activity = {"last": time.time(), "running": 0}
lock = threading.Lock()


def serve(sc, request_path, response_path):
    with lock:
        activity["running"] += 1
    try:
        with open(request_path) as f:
            request = json.load(f)
        tag = request["tag"]
        sc.setJobGroup(tag, "mrsh job %s" % tag, interruptOnCancel=True)
        started = time.time()
        try:
            answer = run_job(sc, request)
            say("job %s done in %.2f s" % (tag, time.time() - started))
        except Exception as error:
            say("job %s failed:\n%s" % (tag, traceback.format_exc()))
            answer = describe(error)
        respond(response_path, answer)
    except Exception:
        say(traceback.format_exc())
        respond(response_path, {"error": "the Spark driver program failed (see its log)", "task": False})
    finally:
        with lock:
            activity["running"] -= 1
            activity["last"] = time.time()


def watch(sc):
    """Ends the session when its mrsh process is gone, or after IDLE seconds without a job."""
    while True:
        time.sleep(0.5)
        gone = False
        if PARENT:
            try:
                os.kill(PARENT, 0)
            except ProcessLookupError:
                gone = True
            except PermissionError:
                pass
        with lock:
            idle = activity["running"] == 0 and IDLE > 0 and time.time() - activity["last"] > IDLE
        if gone or idle or sc._jsc.sc().isStopped():
            say("ending the session (%s)" % ("its mrsh process ended" if gone else "idle" if idle else "context stopped"))
            try:
                sc.stop()
            finally:
                os._exit(0)


def wait_for_executors(sc, master):
    """True once an executor registered (at once for local masters); False when the context stopped."""
    if master.startswith("local") and not master.startswith("local-cluster"):
        return True
    while True:
        if sc._jsc.sc().isStopped():
            return False
        if sc._jsc.sc().getExecutorMemoryStatus().size() > 1:
            return True
        time.sleep(0.1)


def main():
    conf = SparkConf()
    try:
        sc = SparkContext(conf=conf)
    except Exception as error:
        say(traceback.format_exc())
        publish("failed", describe(error)["error"])
        sys.exit(3)
    sc.setLogLevel("WARN")
    master = sc.master
    threading.Thread(target=watch, args=(sc,), daemon=True).start()
    if not wait_for_executors(sc, master):
        publish("failed", "the Spark context stopped before any executor registered")
        sys.exit(3)
    requests = os.open(os.path.join(SESSION, "requests"), os.O_RDWR)
    publish("ready", json.dumps({"parallelism": sc.defaultParallelism, "app": sc.applicationId}))
    say("ready: %s, %d slots" % (sc.applicationId, sc.defaultParallelism))
    buffer = b""
    while True:
        chunk = os.read(requests, 65536)
        if not chunk:
            time.sleep(0.1)
            continue
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            words = line.decode().split(" ")
            if words[0] == "job" and len(words) == 3:
                with lock:
                    activity["last"] = time.time()
                threading.Thread(target=serve, args=(sc, words[1], words[2]), daemon=True).start()
            elif words[0] == "cancel" and len(words) == 2:
                sc.cancelJobGroup(words[1])
            elif words[0] == "stop":
                say("stop requested")
                sc.stop()
                os._exit(0)


main()
"""#
}
