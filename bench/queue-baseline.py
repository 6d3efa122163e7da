#!/usr/bin/env python3
"""The baseline of `image-worker bench-queue`: the same claim and complete transactions as
`image-worker queue-drill`, issued by Python's sqlite3 module or by psycopg2 (Debian
python3-psycopg2), from N processes.

Usage: queue-baseline.py --db PATH|postgres://URL --processes N --jobs J

The database must already be migrated (`image-worker migrate --db …`) and hold no images rows.
Prints one JSON line: processes, jobs, claims, claimed_twice, elapsed_ms, claims_per_second.
"""

import argparse
import json
import multiprocessing
import socket
import sys
import time

# The statements of Sources/ImageStore/Store/Statements.swift and Statements+Postgres.swift
# (claimNext, completeKeepingColumns, beginClaim), word for word, with the same values bound as
# queue-drill binds them: the settings' defaults for a missing settings row (lease_ms 60000,
# max_in_flight 4) and the claimer's host id (SQLite: '', PostgreSQL: the hostname); on
# PostgreSQL "now" is bound NULL, so the statement's coalesce(…, now()) reads the server's clock.
SQLITE_CLAIM = """
UPDATE images SET
    status = 'pulling', worker_id = ?1,
    lease_expires_at = ?2 + coalesce((SELECT value FROM settings WHERE key = 'lease_ms'), ?3),
    lease_token = lease_token + 1, attempts = attempts + 1,
    started_at = ?2, updated_at = ?2, finished_at = NULL, bytes_done = 0, bytes_total = NULL
WHERE id = (
    SELECT id FROM (
        SELECT id, priority FROM (
            SELECT id, priority FROM images
            WHERE status = 'pending' AND target_host IS NULL AND next_attempt_at <= ?2
            ORDER BY priority DESC, id LIMIT 1) AS unpinned
        UNION ALL
        SELECT id, priority FROM (
            SELECT id, priority FROM images
            WHERE status = 'pending' AND target_host = ?5 AND next_attempt_at <= ?2
            ORDER BY priority DESC, id LIMIT 1) AS pinned) AS heads
    ORDER BY priority DESC, id LIMIT 1)
  AND (SELECT count(*) FROM images WHERE status IN ('pulling', 'converting'))
    < coalesce((SELECT value FROM settings WHERE key = 'max_in_flight'), ?4)
RETURNING id, name, format, lease_token, attempts, verity
"""
SQLITE_COMPLETE = """
UPDATE images SET
    status = 'ready', worker_id = NULL, lease_expires_at = NULL, error = NULL, error_kind = NULL,
    finished_at = ?3, updated_at = ?3
WHERE id = ?1 AND lease_token = ?2 AND status IN ('pulling', 'converting')
"""
LEASE_MS_DEFAULT = 60000
MAX_IN_FLIGHT_DEFAULT = 4
SQLITE_HOST = ""
POSTGRES_NOW = "coalesce(%(now)s::bigint, (extract(epoch FROM now()) * 1000)::bigint)"
POSTGRES_BEGIN_CLAIM = """BEGIN; SET LOCAL plan_cache_mode = force_generic_plan; SELECT pg_advisory_xact_lock(1769431857);
SAVEPOINT claim_head"""
POSTGRES_CLAIM = """
UPDATE images SET
    status = 'pulling', worker_id = %(worker)s,
    lease_expires_at = {now} + coalesce((SELECT value FROM settings WHERE key = 'lease_ms'), %(lease)s),
    lease_token = lease_token + 1, attempts = attempts + 1,
    started_at = {now}, updated_at = {now}, finished_at = NULL, bytes_done = 0, bytes_total = NULL
WHERE id = (
    SELECT id FROM (
        SELECT id, priority FROM (
            SELECT id, priority FROM images
            WHERE status = 'pending' AND target_host IS NULL AND next_attempt_at <= {now}
            ORDER BY priority DESC, id LIMIT 1 FOR UPDATE SKIP LOCKED) AS unpinned
        UNION ALL
        SELECT id, priority FROM (
            SELECT id, priority FROM images
            WHERE status = 'pending' AND target_host >= %(host)s AND target_host <= %(host)s AND next_attempt_at <= {now}
            ORDER BY target_host, priority DESC, id LIMIT 1 FOR UPDATE SKIP LOCKED) AS pinned) AS heads
    ORDER BY priority DESC, id LIMIT 1)
  AND (SELECT count(*) FROM images WHERE status IN ('pulling', 'converting'))
    < coalesce((SELECT value FROM settings WHERE key = 'max_in_flight'), %(max_in_flight)s)
RETURNING id, name, format, lease_token, attempts, verity
""".format(now=POSTGRES_NOW)
POSTGRES_COMPLETE = """
UPDATE images SET
    status = 'ready', worker_id = NULL, lease_expires_at = NULL, error = NULL, error_kind = NULL,
    finished_at = {now}, updated_at = {now}
WHERE id = %(id)s AND lease_token = %(token)s AND status IN ('pulling', 'converting')
""".format(now=POSTGRES_NOW)


def is_postgres(db):
    return db.lower().startswith(("postgres://", "postgresql://"))


def now_ms():
    return int(time.time() * 1000)


def drill_sqlite(db, worker, out):
    import sqlite3
    conn = sqlite3.connect(db, timeout=10, isolation_level=None)
    # Statements.configure: the pragmas every image-worker connection sets.
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    claimed, first, last = [], 0, 0
    while True:
        now = now_ms()
        conn.execute("BEGIN IMMEDIATE")
        row = conn.execute(SQLITE_CLAIM, (worker, now, LEASE_MS_DEFAULT, MAX_IN_FLIGHT_DEFAULT, SQLITE_HOST)).fetchone()
        conn.execute("COMMIT")
        if row is None:
            break
        first = first or now
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(SQLITE_COMPLETE, (row[0], row[3], now_ms()))
        conn.execute("COMMIT")
        last = now_ms()
        claimed.append(row[0])
    out.put((claimed, first, last))


def drill_postgres(db, worker, out):
    import psycopg2
    conn = psycopg2.connect(db)
    conn.autocommit = True
    cur = conn.cursor()
    host = socket.gethostname()
    claimed, first, last = [], 0, 0
    while True:
        now = now_ms()
        cur.execute(POSTGRES_BEGIN_CLAIM)
        cur.execute(POSTGRES_CLAIM, {"worker": worker, "now": None, "lease": LEASE_MS_DEFAULT,
                                     "host": host, "max_in_flight": MAX_IN_FLIGHT_DEFAULT})
        row = cur.fetchone()
        cur.execute("COMMIT")
        if row is None:
            break
        first = first or now
        cur.execute("BEGIN")
        cur.execute(POSTGRES_COMPLETE, {"id": row[0], "token": row[3], "now": None})
        cur.execute("COMMIT")
        last = now_ms()
        claimed.append(row[0])
    out.put((claimed, first, last))


def setup(db, jobs):
    names = [("bench/image-%d" % n,) for n in range(jobs)]
    if is_postgres(db):
        import psycopg2
        conn = psycopg2.connect(db)
        with conn, conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM images")
            if cur.fetchone()[0] != 0:
                sys.exit("queue-baseline.py: %s must hold no images rows" % db.split("@")[-1])
            cur.execute("UPDATE settings SET value = %s WHERE key = 'max_in_flight'", (jobs,))
            cur.executemany("INSERT INTO images (name) VALUES (%s)", names)
        conn.close()
    else:
        import sqlite3
        conn = sqlite3.connect(db, timeout=10)
        with conn:
            if conn.execute("SELECT count(*) FROM images").fetchone()[0] != 0:
                sys.exit("queue-baseline.py: %s must hold no images rows" % db)
            conn.execute("UPDATE settings SET value = ? WHERE key = 'max_in_flight'", (jobs,))
            conn.executemany("INSERT INTO images (name) VALUES (?)", names)
        conn.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--jobs", type=int, default=20000)
    args = parser.parse_args()
    setup(args.db, args.jobs)
    drill = drill_postgres if is_postgres(args.db) else drill_sqlite
    out = multiprocessing.Queue()
    children = [multiprocessing.Process(target=drill, args=(args.db, "baseline:%d" % n, out))
                for n in range(args.processes)]
    for child in children:
        child.start()
    results = [out.get() for _ in children]
    for child in children:
        child.join()
    ids = [i for claimed, _, _ in results for i in claimed]
    starts = [first for _, first, _ in results if first]
    ends = [last for _, _, last in results if last]
    elapsed = max(max(ends) - min(starts), 1) if starts else 1
    print(json.dumps({"processes": args.processes, "jobs": args.jobs, "claims": len(ids),
                      "claimed_twice": len(ids) - len(set(ids)), "elapsed_ms": elapsed,
                      "claims_per_second": len(ids) * 1000 // elapsed}))
    return 0 if len(ids) == args.jobs and len(ids) == len(set(ids)) else 1


if __name__ == "__main__":
    sys.exit(main())
