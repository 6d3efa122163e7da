#!/usr/bin/env python3
"""Measures image-worker against the peer pipeline and the floor; see docs/bench.md.

Usage: bench.py --out DIR --bin IMAGE_WORKER --registry URL --rounds N
                [--formats ext4,erofs] [--queue-jobs N] [--profile IMAGE] NAME=LAYOUT...

Each NAME=LAYOUT is pushed to the registry as bench/NAME (tag latest plus warm tags), then
measured. Writes DIR/results.json and prints a Markdown table. Run as root (umoci unpack,
mkfs -d of a tree owned by many users).
"""

import argparse
import datetime
import json
import os
import platform
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PUSH = os.path.join(HERE, "..", "Tests", "Fixtures", "push.py")
POSTGRES = os.path.join(HERE, "..", "Tests", "Fixtures", "postgres.py")
BASELINE = os.path.join(HERE, "queue-baseline.py")
# Debian's Python: python3-psycopg2 is installed for it (a pyenv python3 on PATH lacks it).
DEBIAN_PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
DECOMPRESS = {"application/vnd.oci.image.layer.v1.tar+gzip": ["gzip", "-dc"],
              "application/vnd.docker.image.rootfs.diff.tar.gzip": ["gzip", "-dc"],
              "application/vnd.oci.image.layer.v1.tar+zstd": ["zstd", "-dc"],
              "application/vnd.oci.image.layer.v1.tar": ["cat"]}


# Every command the bench runs gets at most this long (BENCH_TIMEOUT, seconds); a slower one is
# killed with its process group and its step is recorded as timed out (FAIL in the targets).
TIMEOUT = float(os.environ.get("BENCH_TIMEOUT", "120"))


class BenchError(Exception):
    pass


class BenchTimeout(BenchError):
    def __init__(self, argv, seconds):
        super().__init__("%s: killed after the %d s BENCH_TIMEOUT" % (" ".join(argv), seconds))
        self.seconds = seconds


# MARK: - running and timing

def run_measured(argv, stdout=subprocess.DEVNULL, env=None):
    """Runs argv; returns (seconds, peak RSS MiB of the process tree, peak RSS MiB of the
    process itself). The tree figure is wait4's ru_maxrss, the same number /usr/bin/time -v
    prints as "Maximum resident set size" (the largest of the process and its children, e.g.
    mkfs); the self figure is VmHWM of the process, sampled every 10 ms until it exits."""
    start = time.monotonic()
    proc = subprocess.Popen(argv, stdout=stdout, stderr=subprocess.PIPE, env=env, start_new_session=True)
    hwm = [0]
    done = threading.Event()
    killed = threading.Event()

    def kill():
        killed.set()
        try:
            os.killpg(proc.pid, 9)
        except OSError:
            pass

    timer = threading.Timer(TIMEOUT, kill)
    timer.start()

    def sample():
        path = "/proc/%d/status" % proc.pid
        while not done.is_set():
            try:
                with open(path) as status:
                    for line in status:
                        if line.startswith("VmHWM:"):
                            hwm[0] = max(hwm[0], int(line.split()[1]))
            except (OSError, ValueError):
                pass
            done.wait(0.01)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stderr = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.monotonic() - start
    timer.cancel()
    done.set()
    sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if killed.is_set():
        raise BenchTimeout(argv, TIMEOUT)
    if proc.returncode != 0:
        raise BenchError("%s exited %d: %s" % (" ".join(argv), proc.returncode, stderr.decode()[-800:]))
    return seconds, usage.ru_maxrss / 1024, hwm[0] / 1024


def timed(argv, **kwargs):
    return run_measured(argv, **kwargs)[0]


def fresh(path):
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


class Results:
    def __init__(self):
        self.images = {}

    def add(self, image, step, seconds, rss=None, rss_self=None, timed_out=False):
        entry = self.images.setdefault(image, {}).setdefault(step, {"samples": []})
        entry["samples"].append(round(seconds, 4))
        if timed_out:
            entry["timed_out"] = True
            print("bench: %-16s %-26s timed out after %d s" % (image, step, seconds), flush=True)
            return
        if rss is not None:
            entry.setdefault("peak_rss_mib", []).append(round(rss, 1))
        if rss_self is not None:
            entry.setdefault("peak_rss_self_mib", []).append(round(rss_self, 1))
        print("bench: %-16s %-26s %8.3f s%s" % (image, step, seconds,
              "" if rss is None else "  rss %.1f MiB (self %.1f)" % (rss, rss_self or 0)), flush=True)

    def median(self, image, step):
        entry = self.images.get(image, {}).get(step)
        return statistics.median(entry["samples"]) if entry else None

    def timed_out(self, image, step):
        return bool(self.images.get(image, {}).get(step, {}).get("timed_out"))

    def entry(self, image, step):
        return self.images.get(image, {}).get(step)

    def finish(self):
        for steps in self.images.values():
            for entry in steps.values():
                entry["median"] = round(statistics.median(entry["samples"]), 4)
                if "peak_rss_mib" in entry:
                    entry["max_peak_rss_mib"] = max(entry["peak_rss_mib"])
                if "peak_rss_self_mib" in entry:
                    entry["max_peak_rss_self_mib"] = max(entry["peak_rss_self_mib"])


# MARK: - image facts

def layout_layers(layout):
    with open(os.path.join(layout, "index.json")) as f:
        top = json.load(f)["manifests"][0]
    with open(blob_path(layout, top["digest"])) as f:
        manifest = json.load(f)
    return [(layer["mediaType"], blob_path(layout, layer["digest"])) for layer in manifest["layers"]]


def blob_path(layout, digest):
    algorithm, hex_digest = digest.split(":", 1)
    return os.path.join(layout, "blobs", algorithm, hex_digest)


def tree_stats(root):
    """(entries, 4K blocks used) of a tree, for sizing the peer's mkfs.ext4."""
    entries = int(subprocess.run(["bash", "-c", 'find "$1" | wc -l', "-", root],
                                 capture_output=True, check=True).stdout)
    blocks = int(subprocess.run(["du", "-s", "--block-size=4096", root],
                                capture_output=True, check=True).stdout.split()[0])
    return entries, blocks


def absent(path):
    """Removes the previous round's output (untimed) and returns `path`, before every timed
    command that writes one: ours (`ours_cold`, `ours_warm_export`) as the peer's and the
    floors' (mkfs_ext4, mkfs_erofs; floor B removes its file after each round). `export -o` over
    an existing disk renames over it, and freeing the old 0.2 GB of blocks inside the timed run
    cost 40-50 ms here (the root filesystem is mounted `discard`)."""
    if os.path.lexists(path):
        os.unlink(path)
    return path


def mkfs_ext4(root, output, entries, blocks):
    """The peer's mkfs: size = 4K-rounded du x 1.25 + 16 MiB, inodes = entries + 1024."""
    absent(output)
    size_k = int(blocks * 4 * 1.25) + 16 * 1024
    return ["mkfs.ext4", "-q", "-F", "-b", "4096", "-O", "^has_journal", "-N", str(entries + 1024),
            "-d", root, output, "%dk" % size_k]


def mkfs_erofs(root, output):
    absent(output)
    return ["mkfs.erofs", "--quiet", "-zlz4hc", output, root]


# MARK: - steps

# Images measured on our side only (see Bench.image).
OURS_ONLY = {"empty200k"}

class Bench:
    def __init__(self, args):
        self.args = args
        self.out = os.path.abspath(args.out)
        self.work = fresh(os.path.join(self.out, "work"))
        self.host = args.registry.split("://", 1)[-1].rstrip("/")
        self.all_formats = args.formats.split(",")
        self.formats = self.all_formats
        self.results = Results()
        self.extra = {}
        self.rng = random.Random(6)

    def ref(self, name, tag="latest"):
        return "%s/bench/%s:%s" % (self.host, name, tag)

    def worker(self, *argv):
        return [self.args.bin] + list(argv)

    def push(self, name, layout, tags):
        for tag in tags:
            subprocess.run([sys.executable, PUSH, "--url", self.args.registry, layout, "bench/" + name, tag],
                           check=True, stdout=subprocess.DEVNULL)

    def measure(self, name, step, argv):
        """One measured run of argv recorded as `step`; False when it timed out (recorded so)."""
        try:
            seconds, rss, rss_self = run_measured(argv)
        except BenchTimeout as timeout:
            self.results.add(name, step, timeout.seconds, timed_out=True)
            return False
        self.results.add(name, step, seconds, rss, rss_self)
        return True

    def ours_cold(self, name, fmt):
        for _ in range(self.args.rounds):
            data = fresh(os.path.join(self.work, "data-cold"))
            disk = absent(os.path.join(self.work, "ours." + fmt))
            if not self.measure(name, "ours-cold-" + fmt, self.worker(
                    "export", "--data-dir", data, "--format", fmt, "-o", disk, self.ref(name))):
                break
            if fmt == "ext4":
                # The same cold build without the dm-verity tree, in the same round: what verity costs.
                data = fresh(os.path.join(self.work, "data-cold"))
                absent(disk)
                if not self.measure(name, "ours-cold-ext4-noverity", self.worker(
                        "export", "--data-dir", data, "--format", fmt, "--no-verity", "-o", disk, self.ref(name))):
                    break
        shutil.rmtree(os.path.join(self.work, "data-cold"), ignore_errors=True)

    def ours_warm_export(self, name, fmt, data):
        for _ in range(self.args.rounds):
            disk = absent(os.path.join(self.work, "ours-warm." + fmt))
            if not self.measure(name, "ours-warm-export-" + fmt, self.worker(
                    "export", "--data-dir", data, "--format", fmt, "-o", disk, self.ref(name))):
                break

    def ours_fetch(self, name):
        data = fresh(os.path.join(self.work, "data-fetch"))
        seconds, rss, rss_self = run_measured(self.worker("fetch", "--data-dir", data, self.ref(name)))
        self.results.add(name, "ours-fetch", seconds, rss, rss_self)
        return data

    def ours_queue(self, name, poll_ms, tags):
        """A worker on a fresh data dir builds :latest (cold), then each new tag of the same
        digest is inserted while the worker idles; enqueue->claim and enqueue->ready come from
        the row's created_at/started_at/finished_at (ms, one clock)."""
        data = fresh(os.path.join(self.work, "data-queue-%d" % poll_ms))
        db = os.path.join(data, "image-worker.db")
        subprocess.run(self.worker("migrate", "--data-dir", data), check=True, stdout=subprocess.DEVNULL)
        log = open(os.path.join(self.work, "worker-%d.log" % poll_ms), "wb")
        proc = subprocess.Popen(self.worker("worker", "--data-dir", data, "--poll-interval-ms", str(poll_ms)),
                                stdout=log, stderr=log)
        try:
            self.enqueue_and_wait(db, self.ref(name), proc)
            for tag in tags:
                # Idle long enough for the worker to be in its poll sleep, at a random phase of it.
                time.sleep(0.3 + self.rng.uniform(0, poll_ms / 1000))
                row = self.enqueue_and_wait(db, self.ref(name, tag), proc)
                self.results.add(name, "queue-claim-poll%d" % poll_ms, (row["started_at"] - row["created_at"]) / 1000)
                self.results.add(name, "warm-tag-ready-poll%d" % poll_ms, (row["finished_at"] - row["created_at"]) / 1000)
                self.results.add(name, "warm-tag-build-poll%d" % poll_ms, (row["finished_at"] - row["started_at"]) / 1000)
        finally:
            proc.terminate()
            proc.wait(timeout=60)
            log.close()

    def enqueue_and_wait(self, db, ref, proc, deadline_s=None):
        deadline_s = deadline_s or TIMEOUT
        conn = sqlite3.connect(db, timeout=30)
        try:
            now = int(time.time() * 1000)
            with conn:
                row_id = conn.execute("INSERT INTO images (name, format, created_at, updated_at) VALUES (?, 'ext4', ?, ?)",
                                      (ref, now, now)).lastrowid
            deadline = time.monotonic() + deadline_s
            conn.row_factory = sqlite3.Row
            while time.monotonic() < deadline:
                row = conn.execute("SELECT * FROM images WHERE id = ?", (row_id,)).fetchone()
                if row["status"] == "ready":
                    return dict(row)
                if row["status"] == "failed" or proc.poll() is not None:
                    raise BenchError("queue row %s: %s %s" % (ref, row["status"], row["error"]))
                time.sleep(0.005)
            raise BenchError("queue row %s not ready after %d s" % (ref, deadline_s))
        finally:
            conn.close()

    def peer(self, name):
        """skopeo copy + umoci unpack, then mkfs.ext4 -d and mkfs.erofs of the same rootfs.
        Keeps the last rootfs for the floor and returns it (None when a step timed out)."""
        bundle = None
        for _ in range(self.args.rounds):
            oci = os.path.join(self.work, "peer-oci")
            bundle = os.path.join(self.work, "peer-bundle")
            shutil.rmtree(oci, ignore_errors=True)
            shutil.rmtree(bundle, ignore_errors=True)
            try:
                skopeo = timed(["skopeo", "copy", "--quiet", "--src-tls-verify=false",
                                "docker://" + self.ref(name), "oci:%s:latest" % oci])
                try:
                    umoci = timed(["umoci", "unpack", "--image", oci + ":latest", bundle])
                    self.extra.setdefault("umoci", {})[name] = "unpack"
                except BenchTimeout:
                    raise
                except BenchError:
                    # umoci 0.4.7 refuses some configs (an Env entry without '='); raw unpack
                    # applies the same layers without writing config.json.
                    fresh(bundle)
                    umoci = timed(["umoci", "raw", "unpack", "--image", oci + ":latest", bundle + "/rootfs"])
                    self.extra.setdefault("umoci", {})[name] = "raw unpack"
            except BenchTimeout as timeout:
                for fmt in self.formats:
                    self.results.add(name, "peer-" + fmt, timeout.seconds, timed_out=True)
                return None
            rootfs = os.path.join(bundle, "rootfs")
            entries, blocks = tree_stats(rootfs)
            self.results.add(name, "peer-skopeo", skopeo)
            self.results.add(name, "peer-umoci", umoci)
            for fmt in self.formats:
                disk = os.path.join(self.work, "peer." + fmt)
                argv = mkfs_ext4(rootfs, disk, entries, blocks) if fmt == "ext4" else mkfs_erofs(rootfs, disk)
                try:
                    mkfs = timed(argv)
                except BenchTimeout as timeout:
                    self.results.add(name, "peer-mkfs-" + fmt, timeout.seconds, timed_out=True)
                    self.results.add(name, "peer-" + fmt, timeout.seconds, timed_out=True)
                    continue
                self.results.add(name, "peer-mkfs-" + fmt, mkfs)
                self.results.add(name, "peer-" + fmt, skopeo + umoci + mkfs)
        return os.path.join(bundle, "rootfs")

    def decompress(self, layers, tool):
        """Seconds to inflate every layer to /dev/null with `tool` (gzip or igzip) for gzip
        layers, zstd / cat for the others."""
        total = 0.0
        for media_type, path in layers:
            argv = DECOMPRESS[media_type]
            if argv[0] == "gzip":
                argv = [tool, "-dc"]
            total += timed(["sh", "-c", '"$0" "$@" < "$LAYER" > /dev/null'] + argv,
                           env=dict(os.environ, LAYER=path))
        return total

    def floor(self, name, layout, rootfs):
        """Floor A: gzip -dc of the layers + mkfs of the already extracted tree; the same
        inflate with igzip (isa-l); and floor B, `igzip -dc LAYER | cat > FILE` (inflate and
        write the bytes to a file, all a one-file image must cost)."""
        entries, blocks = tree_stats(rootfs)
        layers = layout_layers(layout)
        igzip = shutil.which("igzip")
        for _ in range(self.args.rounds):
            try:
                total = self.decompress(layers, "gzip")
                self.results.add(name, "floor-decompress", total)
                if igzip:
                    self.results.add(name, "floor-decompress-igzip", self.decompress(layers, "igzip"))
                    if len(layers) == 1 and layers[0][0].endswith("gzip"):
                        target = os.path.join(self.work, "floor-b.tar")
                        seconds = timed(["sh", "-c", 'igzip -dc < "$LAYER" | cat > "$TARGET"'],
                                        env=dict(os.environ, LAYER=layers[0][1], TARGET=target))
                        os.unlink(target)
                        self.results.add(name, "floor-igzip-cat-to-file", seconds)
            except BenchTimeout as timeout:
                self.results.add(name, "floor-decompress", timeout.seconds, timed_out=True)
                return
            for fmt in self.formats:
                disk = os.path.join(self.work, "floor." + fmt)
                argv = mkfs_ext4(rootfs, disk, entries, blocks) if fmt == "ext4" else mkfs_erofs(rootfs, disk)
                try:
                    mkfs = timed(argv)
                except BenchTimeout as timeout:
                    self.results.add(name, "floor-mkfs-" + fmt, timeout.seconds, timed_out=True)
                    self.results.add(name, "floor-" + fmt, timeout.seconds, timed_out=True)
                    continue
                self.results.add(name, "floor-mkfs-" + fmt, mkfs)
                self.results.add(name, "floor-" + fmt, total + mkfs)

    def profile(self, name, rootfs):
        """Where our time goes: fetch alone (download, verify, fsync), export-tree of the
        extracted tree (scan + mkfs + resize2fs), strace -c of one cold export, a stage
        timeline of cold exports (timeline.py) and the warm export with the data dir on tmpfs."""
        for _ in range(self.args.rounds):
            data = self.ours_fetch(name)
            disk = os.path.join(self.work, "tree.ext4")
            seconds, rss, rss_self = run_measured(self.worker(
                "export-tree", "--data-dir", data, "--format", "ext4", "-o", disk, rootfs))
            self.results.add(name, "ours-export-tree-ext4", seconds, rss, rss_self)
        if shutil.which("strace"):
            data = fresh(os.path.join(self.work, "data-strace"))
            summary = os.path.join(self.out, "strace-%s.txt" % name)
            subprocess.run(["strace", "-f", "-c", "-o", summary] + self.worker(
                "export", "--data-dir", data, "--format", "ext4", "-o", os.path.join(self.work, "strace.ext4"),
                self.ref(name)), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=TIMEOUT)
            with open(summary) as f:
                self.extra.setdefault("strace", {})[name] = f.read().splitlines()[:22]
            for _ in range(self.args.rounds):
                data = fresh(os.path.join(self.work, "data-timeline"))
                stages = os.path.join(self.work, "timeline.json")
                subprocess.run([sys.executable, os.path.join(HERE, "timeline.py"), stages, "--"] + self.worker(
                    "export", "--data-dir", data, "--format", "ext4", "-o", os.path.join(self.work, "tl.ext4"),
                    self.ref(name)), check=True, stdout=subprocess.DEVNULL, timeout=TIMEOUT)
                with open(stages) as f:
                    self.extra.setdefault("timeline", {}).setdefault(name, []).append(json.load(f))
        if os.path.isdir("/dev/shm"):
            # The same warm export with the data directory (temp disk and output) on tmpfs.
            data = fresh("/dev/shm/image-worker-bench")
            try:
                subprocess.run(self.worker("fetch", "--data-dir", data, self.ref(name)), check=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=TIMEOUT)
                for _ in range(self.args.rounds):
                    seconds, rss, rss_self = run_measured(self.worker(
                        "export", "--data-dir", data, "--format", "ext4", "-o", os.path.join(data, "x.ext4"),
                        self.ref(name)))
                    self.results.add(name, "ours-warm-export-tmpfs-ext4", seconds, rss, rss_self)
            finally:
                shutil.rmtree(data, ignore_errors=True)

    def queue_bench(self):
        """bench-queue at 1 and 4 processes on SQLite and on a throwaway PostgreSQL cluster
        (Tests/Fixtures/postgres.py), each next to queue-baseline.py issuing the same claim and
        complete transactions through Python's sqlite3 module or psycopg2, in the same run."""
        runs = []
        cluster = self.start_postgres()
        try:
            for backend in ("sqlite", "postgres"):
                for processes in (1, 4):
                    # Dirty pages left by the image steps (gigabytes of disks) throttle every
                    # writer while the kernel flushes them, the database server included:
                    # each side starts from a clean page cache.
                    os.sync()
                    ours = self.bench_queue_ours(backend, cluster, processes)
                    os.sync()
                    base = self.bench_queue_baseline(backend, cluster, processes)
                    ours["backend"] = backend
                    ours["baseline_claims_per_second"] = base["claims_per_second"]
                    ours["ratio_vs_baseline"] = round(ours["claims_per_second"] / max(base["claims_per_second"], 1), 2)
                    print("bench: bench-queue %s" % json.dumps(ours), flush=True)
                    runs.append(ours)
        finally:
            cluster["process"].stdin.close()
            cluster["process"].wait(60)
        self.extra["bench_queue"] = runs

    def start_postgres(self):
        scratch = fresh(os.path.join(self.work, "postgres"))
        info = os.path.join(scratch, "info.json")
        process = subprocess.Popen([sys.executable, POSTGRES, "--dir", os.path.join(scratch, "cluster"),
                                    "--info", info], stdin=subprocess.PIPE)
        deadline = time.time() + 120
        while not os.path.exists(info):
            if process.poll() is not None or time.time() > deadline:
                raise BenchError("postgres.py did not start a cluster")
            time.sleep(0.1)
        with open(info) as f:
            cluster = json.load(f)
        cluster["process"] = process
        return cluster

    def queue_database(self, backend, cluster, tag):
        if backend == "sqlite":
            return os.path.join(fresh(os.path.join(self.work, "queue-" + tag)), "queue.db")
        name = "bench_%s" % tag.replace("-", "_")
        psql = os.path.join(cluster["bin"], "psql")
        subprocess.run([psql, "-X", "-q", "-d", cluster["url"] + "/postgres", "-c", "DROP DATABASE IF EXISTS " + name],
                       check=True)
        subprocess.run([psql, "-X", "-q", "-d", cluster["url"] + "/postgres", "-c", "CREATE DATABASE " + name],
                       check=True)
        return cluster["url"] + "/" + name

    def bench_queue_ours(self, backend, cluster, processes):
        argv = ["bench-queue", "--json", "--processes", str(processes), "--jobs", str(self.args.queue_jobs)]
        if backend == "postgres":
            argv += ["--db", self.queue_database(backend, cluster, "ours-%d" % processes)]
        out = subprocess.run(self.worker(*argv), capture_output=True, check=True, timeout=TIMEOUT)
        return json.loads(out.stdout)

    def bench_queue_baseline(self, backend, cluster, processes):
        db = self.queue_database(backend, cluster, "baseline-%d" % processes)
        subprocess.run(self.worker("migrate", "--db", db), check=True, stdout=subprocess.DEVNULL, timeout=TIMEOUT)
        out = subprocess.run([DEBIAN_PYTHON, BASELINE, "--db", db, "--processes", str(processes),
                              "--jobs", str(self.args.queue_jobs)], capture_output=True, check=True, timeout=TIMEOUT)
        return json.loads(out.stdout)

    def image(self, name, layout):
        erofs = name in self.args.erofs_images.split(",")
        self.formats = [f for f in self.all_formats if f != "erofs" or erofs]
        warm_tags = ["warm%d" % i for i in range(2 * self.args.rounds)]
        self.push(name, layout, ["latest"] + warm_tags)
        if name in OURS_ONLY:
            # mke2fs -d is quadratic in one directory's entries (80,000 took 542 s): the peer
            # and the floor would only time out. Ours, default settings, is the figure.
            for fmt in self.formats:
                self.ours_cold(name, fmt)
            return
        for fmt in self.formats:
            self.ours_cold(name, fmt)
        try:
            data = self.ours_fetch(name)
            for fmt in self.formats:
                self.ours_warm_export(name, fmt, data)
            shutil.rmtree(data, ignore_errors=True)
            self.ours_queue(name, 500, warm_tags[:self.args.rounds])
            self.ours_queue(name, 10, warm_tags[self.args.rounds:])
        except (BenchTimeout, subprocess.TimeoutExpired) as error:
            self.extra.setdefault("timeouts", []).append("%s: %s" % (name, error))
            print("bench: %s: %s" % (name, error), flush=True)
        rootfs = self.peer(name)
        if rootfs:
            self.floor(name, layout, rootfs)
        if rootfs and name == self.args.profile:
            try:
                self.profile(name, rootfs)
            except (BenchTimeout, subprocess.TimeoutExpired) as error:
                self.extra.setdefault("timeouts", []).append("%s profile: %s" % (name, error))
                print("bench: %s profile: %s" % (name, error), flush=True)
        for entry in os.listdir(self.work):
            shutil.rmtree(os.path.join(self.work, entry), ignore_errors=True) if os.path.isdir(
                os.path.join(self.work, entry)) else os.unlink(os.path.join(self.work, entry))


# MARK: - report

def ratio(a, b):
    return round(a / b, 2) if a is not None and b else None


def acceptance(res, extra):
    """The acceptance lines of issues 12 and 13 (and the earlier warm-tag and queue targets),
    each PASS, FAIL, `not run` (an image or step missing from this run) or `info`."""
    rows = []

    def value(image, step, key="median"):
        entry = res.entry(image, step)
        if not entry:
            return None, False
        return entry.get(key), res.timed_out(image, step)

    def add(target, threshold, measured, passed, text):
        result = "not run" if measured is None else ("PASS" if passed else "FAIL")
        rows.append({"target": target, "threshold": threshold, "measured": text if measured is not None else "",
                     "result": result, "value": measured})

    def versus(target, limit, image, ours, reference, label):
        mine, mine_out = value(image, ours)
        theirs, theirs_out = value(image, reference)
        if mine is None or theirs is None:
            return add(target, "<= %.2fx" % limit, None, False, "")
        if mine_out:
            return add(target, "<= %.2fx" % limit, mine, False, "ours timed out (> %d s)" % mine)
        r = mine / theirs
        # A timed-out reference took longer than the timeout: the ratio is at most r.
        bound = "<= " if theirs_out else ""
        add(target, "<= %.2fx" % limit, r, r <= limit,
            "%s%.3fx (%.2f s / %s%.2f s %s)" % (bound, r, mine, ">" if theirs_out else "", theirs, label))

    def seconds(target, limit, image, step):
        mine, out = value(image, step)
        text = "" if mine is None else ("timed out (> %d s)" % mine if out else "%.2f s" % mine)
        add(target, "< %g s" % limit, mine, mine is not None and not out and mine < limit, text)

    def rss(target, limit, image, step):
        mine, out = value(image, step, "max_peak_rss_mib")
        if out:
            return add(target, "<= %d MiB" % limit, 0, False, "step timed out")
        add(target, "<= %d MiB" % limit, mine, mine is not None and mine <= limit,
            "" if mine is None else "%.1f MiB" % mine)

    debian = "debian-minbase"
    versus("debian cold -> ready ext4, default settings, vs skopeo+umoci+mkfs.ext4 -d", 0.10, debian,
           "ours-cold-ext4", "peer-ext4", "peer")
    versus("debian cold ext4 vs floor A (gzip -dc + mkfs.ext4 -d of the extracted tree)", 0.5, debian,
           "ours-cold-ext4", "floor-ext4", "floor A")
    mine, _ = value(debian, "ours-cold-ext4")
    igzip, _ = value(debian, "floor-decompress-igzip")
    rows.append({"target": "debian cold ext4 vs igzip -dc of the layer", "threshold": "printed",
                 "measured": "%.2fx (%.2f s / %.2f s)" % (mine / igzip, mine, igzip) if mine and igzip else "",
                 "result": "info" if mine and igzip else "not run", "value": mine / igzip if mine and igzip else None})
    seconds("200,000 empty files in one directory -> ext4", 10, "empty200k", "ours-cold-ext4")
    seconds("200,000 empty files in one directory -> erofs", 10, "empty200k", "ours-cold-erofs")
    versus("one 500 MiB file -> ext4 vs igzip -dc of its layer piped to cat > file", 1.3, "large500",
           "ours-cold-ext4", "floor-igzip-cat-to-file", "floor B")
    rss("peak RSS, debian cold ext4", 64, debian, "ours-cold-ext4")
    rss("peak RSS, 500 MiB image cold ext4", 64, "large500", "ours-cold-ext4")
    rss("peak RSS, 200,000-entry image cold ext4", 256, "empty200k", "ours-cold-ext4")
    versus("debian cold ext4 with dm-verity vs without (--no-verity): what verity adds", 1.15, debian,
           "ours-cold-ext4", "ours-cold-ext4-noverity", "no verity")
    versus("debian cold erofs lz4hc vs skopeo+umoci+mkfs.erofs -zlz4hc", 0.5, debian,
           "ours-cold-erofs", "peer-erofs", "peer")
    versus("debian cold erofs lz4hc vs mkfs.erofs -zlz4hc of the extracted tree", 0.5, debian,
           "ours-cold-erofs", "floor-mkfs-erofs", "mkfs.erofs")
    warm = [(image, value(image, "warm-tag-ready-poll500")[0]) for image in res.images]
    warm = [(image, v) for image, v in warm if v is not None]
    worst = max(warm, key=lambda item: item[1]) if warm else None
    add("warm new tag -> ready, default poll (worst image)", "< 0.1 s", worst[1] if worst else None,
        bool(worst) and worst[1] < 0.1, "%.3f s (%s)" % (worst[1], worst[0]) if worst else "")
    for r in extra.get("bench_queue", []):
        ratio_ = r.get("ratio_vs_baseline")
        add("bench-queue %s %d process(es) vs the same transactions in Python (issue 14)"
            % (r.get("backend", "sqlite"), r["processes"]), ">= 1.0x, 0 twice", ratio_,
            ratio_ is not None and ratio_ >= 1.0 and r["claimed_twice"] == 0,
            "%d vs %d jobs/s, %d twice" % (r["claims_per_second"], r.get("baseline_claims_per_second", 0),
                                           r["claimed_twice"]))
    return rows


def report(bench, started, final=False):
    res = bench.results
    res.finish()
    quiet = not final
    rows = []
    for name, steps in res.images.items():
        for step in sorted(steps):
            entry = steps[step]
            fmt = step.rsplit("-", 1)[-1]
            vs_peer = vs_floor = None
            if step.startswith(("ours-cold-", "ours-warm-export-")):
                vs_peer = ratio(entry["median"], res.median(name, "peer-" + fmt))
                vs_floor = ratio(entry["median"], res.median(name, "floor-" + fmt))
            elif step.startswith("ours-export-tree-"):  # our mkfs stage against plain mkfs of the same tree
                vs_peer = ratio(entry["median"], res.median(name, "peer-mkfs-" + fmt))
                vs_floor = ratio(entry["median"], res.median(name, "floor-mkfs-" + fmt))
            entry["ratio_vs_peer"], entry["ratio_vs_floor"] = vs_peer, vs_floor
            rows.append((name, step, entry["median"], vs_peer, vs_floor,
                         entry.get("max_peak_rss_mib"), entry.get("max_peak_rss_self_mib")))
    targets = acceptance(res, bench.extra)
    doc = {
        "date": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": {"cores": os.cpu_count(), "kernel": platform.release(),
                    "os": open("/etc/debian_version").read().strip() if os.path.exists("/etc/debian_version") else ""},
        "rounds": bench.args.rounds, "formats": bench.formats,
        "duration_s": round(time.time() - started.timestamp(), 1),
        "images": res.images, "targets": targets, **bench.extra,
    }
    with open(os.path.join(bench.out, "results.json"), "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    fmt = lambda v, spec: "" if v is None else spec % v
    lines = ["", "Benchmark %s, %d cores, Debian %s, rounds %d" % (doc["date"], doc["machine"]["cores"],
                                                                   doc["machine"]["os"], doc["rounds"]),
             "", "| image | step | median s | vs peer | vs floor | peak RSS MiB (tree / self) |",
             "|---|---|---:|---:|---:|---:|"]
    for name, step, median, vs_peer, vs_floor, rss, rss_self in rows:
        shown = ">%.0f (timeout)" % median if res.timed_out(name, step) else "%.3f" % median
        lines.append("| %s | %s | %s | %s | %s | %s |" % (
            name, step, shown, fmt(vs_peer, "%.2f"), fmt(vs_floor, "%.2f"),
            "" if rss is None else "%.0f / %.0f" % (rss, rss_self or 0)))
    for r in bench.extra.get("bench_queue", []):
        lines.append("| queue | bench-queue %s %d proc, %d jobs | %.3f | %.2f | | %d claims/s (baseline %d), twice %d |" % (
            r.get("backend", "sqlite"), r["processes"], r["jobs"], r["elapsed_ms"] / 1000, r.get("ratio_vs_baseline", 0),
            r["claims_per_second"], r.get("baseline_claims_per_second", 0), r["claimed_twice"]))
    lines += ["", "Acceptance (issues 12 and 13; BENCH_TIMEOUT %d s per command; RSS = peak of the process "
              "tree, wait4's ru_maxrss)" % TIMEOUT, "",
              "| target | threshold | measured | result |", "|---|---|---|---|"]
    for row in targets:
        lines.append("| %s | %s | %s | %s |" % (row["target"], row["threshold"], row["measured"], row["result"]))
    passed = sum(1 for row in targets if row["result"] == "PASS")
    failed = sum(1 for row in targets if row["result"] == "FAIL")
    lines += ["", "targets: %d PASS, %d FAIL, %d not run or informational" % (passed, failed, len(targets) - passed - failed)]
    if not quiet:
        print("\n".join(lines))
    with open(os.path.join(bench.out, "results.md"), "w") as f:
        f.write("\n".join(lines) + "\n")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--bin", required=True)
    parser.add_argument("--registry", required=True)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--formats", default="ext4,erofs")
    parser.add_argument("--queue-jobs", type=int, default=20000)
    parser.add_argument("--profile", default="debian-minbase")
    parser.add_argument("--erofs-images", default="debian-minbase,multilayer,empty200k",
                        help="images also measured as erofs (mkfs.erofs lz4hc is slow on big ones)")
    parser.add_argument("images", nargs="+")
    args = parser.parse_args()
    started = datetime.datetime.now(datetime.timezone.utc)
    bench = Bench(args)
    for spec in args.images:
        name, layout = spec.split("=", 1)
        bench.image(name, layout)
        report(bench, started)  # a partial results.json survives an interrupted run
    if args.queue_jobs > 0:
        bench.queue_bench()
    report(bench, started, final=True)


if __name__ == "__main__":
    try:
        main()
    except BenchError as error:
        print("bench: " + str(error), file=sys.stderr)
        sys.exit(1)
