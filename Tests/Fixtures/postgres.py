#!/usr/bin/env python3
"""Runs a throwaway PostgreSQL 15 cluster on a free 127.0.0.1 port for tests.

Usage: postgres.py --dir DIR --info FILE [--remove-on-exit DIR2]

PostgreSQL refuses to run as root, so when this runs as root the cluster belongs to the
unprivileged `postgres` user (made by Debian's postgresql-common) and every server command
runs through `runuser -u postgres`. DIR/data holds the cluster (initdb -A trust, user
postgres), DIR/socket its Unix socket; both go with DIR on exit. When the server accepts
connections, FILE is written (atomically) with JSON: url (postgres://postgres@127.0.0.1:PORT),
port, host, user, bin. The process stops the server (pg_ctl stop -m fast) when it gets
SIGTERM or when its standard input reaches EOF, so a crashed test never leaks one.
"""

import argparse
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import threading

BIN = "/usr/lib/postgresql/15/bin"
USER = "postgres"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def as_user(command):
    """The command, run as the cluster's owner when this process is root."""
    if os.getuid() == 0:
        return ["runuser", "-u", USER, "--"] + command
    return command


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--info", required=True)
    parser.add_argument("--remove-on-exit", help="a directory to delete on exit (the caller's scratch)")
    args = parser.parse_args()
    directory = os.path.abspath(args.dir)
    data = os.path.join(directory, "data")
    sockets = os.path.join(directory, "socket")
    os.makedirs(sockets, exist_ok=True)
    if os.getuid() == 0:
        owner = pwd.getpwnam(USER)
        for path in (directory, sockets):
            os.chown(path, owner.pw_uid, owner.pw_gid)
        # The cluster owner must reach DIR through the caller's scratch directory.
        os.chmod(os.path.dirname(directory), 0o755)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    threading.Thread(target=lambda: (sys.stdin.buffer.read(), stop.set()), daemon=True).start()

    log = os.path.join(directory, "server.log")
    started = False
    try:
        subprocess.run(as_user([f"{BIN}/initdb", "-D", data, "-A", "trust", "-U", USER, "--no-sync",
                                "-E", "UTF8", "--locale", "C"]),
                       check=True, stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        port = None
        for _ in range(5):
            port = free_port()
            options = (f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off "
                       "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
            result = subprocess.run(as_user([f"{BIN}/pg_ctl", "-D", data, "-o", options, "-l", log,
                                             "-w", "-t", "60", "start"]),
                                    stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
            if result.returncode == 0:
                started = True
                break
        if not started:
            sys.stderr.write(open(log).read()[-2000:] if os.path.exists(log) else "")
            sys.stderr.write("postgres.py: pg_ctl start failed\n")
            return 1
        info = {"url": f"postgres://{USER}@127.0.0.1:{port}", "port": port, "host": "127.0.0.1",
                "user": USER, "bin": BIN}
        with open(args.info + ".tmp", "w") as out:
            json.dump(info, out)
        os.rename(args.info + ".tmp", args.info)
        parent = os.getppid()
        while not stop.wait(0.5):
            if os.getppid() != parent:
                break  # the test process died without stopping us
        return 0
    finally:
        if started:
            subprocess.run(as_user([f"{BIN}/pg_ctl", "-D", data, "-m", "fast", "-w", "stop"]),
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        shutil.rmtree(directory, ignore_errors=True)
        if args.remove_on_exit:
            shutil.rmtree(args.remove_on_exit, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
