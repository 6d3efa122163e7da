#!/usr/bin/env python3
"""A read-only registry over an OCI image layout that injects HTTP faults.

Usage: faultserver.py --layout DIR --info FILE [--faults JSON] [--variants JSON]
                      [--tls-dir DIR] [--remove-on-exit DIR2]

Serves GET /v2/, HEAD/GET /v2/<name>/manifests/<tag|digest> (Content-Type from
the descriptor, Docker-Content-Digest) and HEAD/GET /v2/<name>/blobs/<digest>
(single Range "bytes=A-" or "bytes=A-B" answers 206 with Content-Range). The
repository name is ignored; tags are the index.json ref.name annotations.

--faults is a JSON list of rules, tried in order for every request whose path
contains "match" (and whose method is "method", when given). A rule fires at
most "times" times (-1: always; default 1), and only after "after" matching
requests went by it (default 0):
  {"action": "status", "status": 500, "retryAfter": 3}  answer that status
                                          (Retry-After header when given)
  {"action": "drop", "afterBytes": K}     send headers and K body bytes, close
  {"action": "wrongBytes"}                same length, every byte inverted
  {"action": "ignoreRange"}               answer a Range request with 200 and the
                                          whole body, as some servers do
  {"action": "omitDigest"}                no Docker-Content-Digest header
  {"action": "slow", "bytesPerSecond": N} send the body at about N bytes/s
  {"action": "challenge", "realm": URL}   answer 401 with WWW-Authenticate:
                                          Bearer realm=URL,service="fault"
  {"action": "redirect", "location": URL} answer 302 with Location: URL
  {"action": "header", "name": H, "value": V}  send header H as V instead of
                                          its real value (Content-Length too),
                                          then close the connection
  {"action": "hold"}                      answer only once GET /__release was
                                          called (or after 120 s), so a test can
                                          look at a client waiting for an answer
A "status" rule may carry "retryAfter" (any text, sent as is), "code" and
"message" (the registry error body). A firing "status", "challenge" or
"redirect" rule ends the request; the other actions combine.

GET /__release lets every held request go on (and the later ones too).
GET /__token answers {"token": "fault-token"}: a realm to point challenges at.

--variants is a JSON list of {"tag", "target": "config"|"layerN", "sizeText"}:
a copy of the layout's "latest" manifest whose target descriptor has its size
replaced by the raw JSON text sizeText (e.g. "-1", "9223372036854775807",
"1e300"), served under tag and its own digest.

--tls-dir makes it serve HTTPS with a fresh CA (written to DIR/ca.pem) and a
certificate for 127.0.0.1 and localhost.

Every request except GET /__log and GET /__release is recorded: {"method", "path", "range",
"status", "faults", "authorization"} (the Authorization scheme sent, or null);
GET /__log answers the list as JSON. FILE gets {"url", "hostPort", "pid",
"caPath"} once listening. Exits on SIGTERM, stdin EOF or when its parent
process is gone.
"""

import argparse
import hashlib
import http.server
import json
import os
import re
import shutil
import signal
import ssl
import sys
import threading
import time

ENDING = {"status", "challenge", "redirect"}
INDEX_TYPES = {"application/vnd.oci.image.index.v1+json",
               "application/vnd.docker.distribution.manifest.list.v2+json"}


class Layout:
    def __init__(self, root):
        self.root = root
        self.tags, self.media_types = {}, {}
        with open(os.path.join(root, "index.json")) as src:
            index = json.load(src)
        for descriptor in index["manifests"]:
            tag = descriptor.get("annotations", {}).get("org.opencontainers.image.ref.name")
            if tag:
                self.tags[tag] = descriptor["digest"]
            self.walk(descriptor)

    def walk(self, descriptor):
        self.media_types[descriptor["digest"]] = descriptor["mediaType"]
        if descriptor["mediaType"] in INDEX_TYPES:
            for child in json.loads(self.read(descriptor["digest"]))["manifests"]:
                self.walk(child)

    extra = None

    def add_variants(self, variants):
        """Manifests derived from "latest" with one descriptor size replaced by raw JSON text."""
        self.extra = {}
        base_digest = self.tags["latest"]
        base = json.loads(self.read(base_digest))
        for variant in variants:
            manifest = json.loads(json.dumps(base))
            target = variant["target"]
            descriptor = manifest["config"] if target == "config" else manifest["layers"][int(target[5:])]
            descriptor["size"] = "__SIZE__"
            body = json.dumps(manifest).replace('"__SIZE__"', variant["sizeText"]).encode()
            digest = "sha256:" + hashlib.sha256(body).hexdigest()
            self.extra[digest] = body
            self.media_types[digest] = self.media_types[base_digest]
            self.tags[variant["tag"]] = digest

    def path(self, digest):
        if self.extra and digest in self.extra:
            return digest
        algorithm, _, hex_digest = digest.partition(":")
        if algorithm != "sha256" or not re.fullmatch(r"[0-9a-f]{64}", hex_digest):
            return None
        path = os.path.join(self.root, "blobs", "sha256", hex_digest)
        return path if os.path.exists(path) else None

    def read(self, digest):
        if self.extra and digest in self.extra:
            return self.extra[digest]
        with open(self.path(digest), "rb") as src:
            return src.read()


class Faults:
    def __init__(self, rules):
        self.rules = [dict(rule, remaining=rule.get("times", 1), passed=0) for rule in rules]
        self.lock = threading.Lock()
        self.released = threading.Event()
        self.log = []

    def take(self, method, path):
        """The rules that fire for this request, each counted down once."""
        fired = []
        with self.lock:
            for rule in self.rules:
                if rule["remaining"] == 0 or rule["match"] not in path:
                    continue
                if rule.get("method") not in (None, method):
                    continue
                if rule["passed"] < rule.get("after", 0):
                    rule["passed"] += 1
                    continue
                if rule["action"] in ENDING and any(r["action"] in ENDING for r in fired):
                    continue
                if rule["remaining"] > 0:
                    rule["remaining"] -= 1
                fired.append(rule)
        return fired

    def record(self, entry):
        with self.lock:
            self.log.append(entry)

    def entries(self):
        with self.lock:
            return list(self.log)


def make_handler(layout, faults):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_HEAD(self):
            self.handle_request(send_body=False)

        def do_GET(self):
            if self.path == "/__log":
                return self.send_bytes(200, json.dumps(faults.entries()).encode(), "application/json", {})
            if self.path == "/__release":
                faults.released.set()
                return self.send_bytes(200, b"{}", "application/json", {})
            self.handle_request(send_body=True)

        def send_bytes(self, status, body, content_type, headers, send_body=True, drop_after=None, rate=None,
                       override=None):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            override = override or {}
            if "Content-Length" not in override:
                self.send_header("Content-Length", str(len(body)))
            self.send_header("Docker-Distribution-API-Version", "registry/2.0")
            for key, value in list(headers.items()) + list(override.items()):
                self.send_header(key, value)
            self.end_headers()
            if override:
                self.close_connection = True
            if not send_body:
                return
            if drop_after is not None:
                self.wfile.write(body[:drop_after])
                self.wfile.flush()
                self.close_connection = True
                return
            if rate:
                chunk = max(1, rate // 20)
                for start in range(0, len(body), chunk):
                    self.wfile.write(body[start:start + chunk])
                    self.wfile.flush()
                    time.sleep(chunk / rate)
                return
            self.wfile.write(body)

        def error(self, status, code, message, fired, extra=None):
            body = json.dumps({"errors": [{"code": code, "message": message}]}).encode()
            self.record(status, fired)
            self.send_bytes(status, body, "application/json", extra or {}, self.command != "HEAD")

        def record(self, status, fired):
            authorization = self.headers.get("Authorization")
            faults.record({"method": self.command, "path": self.path, "range": self.headers.get("Range"),
                           "status": status, "faults": [r["action"] for r in fired],
                           "authorization": authorization.split(" ")[0] if authorization else None})

        def handle_request(self, send_body):
            fired = faults.take(self.command, self.path)
            actions = {r["action"]: r for r in fired}
            if "hold" in actions:
                faults.released.wait(120)
            if "status" in actions:
                rule = actions["status"]
                extra = {"Retry-After": str(rule["retryAfter"])} if "retryAfter" in rule else {}
                return self.error(rule["status"], rule.get("code", "INJECTED"), rule.get("message", "injected fault"),
                                  fired, extra)
            if "challenge" in actions:
                challenge = 'Bearer realm="%s",service="fault"' % actions["challenge"]["realm"]
                return self.error(401, "UNAUTHORIZED", "authentication required", fired,
                                  {"WWW-Authenticate": challenge})
            if "redirect" in actions:
                self.record(302, fired)
                return self.send_bytes(302, b"", "text/plain", {"Location": actions["redirect"]["location"]},
                                       send_body)
            if self.path.startswith("/__token"):
                self.record(200, fired)
                return self.send_bytes(200, b'{"token": "fault-token"}', "application/json", {}, send_body)
            if self.path in ("/v2", "/v2/"):
                self.record(200, fired)
                return self.send_bytes(200, b"{}", "application/json", {}, send_body)
            match = re.fullmatch(r"/v2/(.+)/(manifests|blobs)/([^/?]+)", self.path)
            if not match:
                return self.error(404, "NAME_UNKNOWN", "no such route", fired)
            kind, ref = match.group(2), match.group(3)
            digest = layout.tags.get(ref, ref) if kind == "manifests" else ref
            if layout.path(digest) is None:
                code = "MANIFEST_UNKNOWN" if kind == "manifests" else "BLOB_UNKNOWN"
                return self.error(404, code, "unknown " + ref, fired)
            body = layout.read(digest)
            if "wrongBytes" in actions:
                body = bytes(b ^ 0xFF for b in body)
            headers = {} if "omitDigest" in actions else {"Docker-Content-Digest": digest}
            content_type = layout.media_types.get(digest, "application/octet-stream")
            status = 200
            if kind == "blobs":
                headers["Accept-Ranges"] = "bytes"
                byte_range = self.headers.get("Range")
                if byte_range and "ignoreRange" not in actions:
                    parsed = re.fullmatch(r"bytes=(\d+)-(\d*)", byte_range.strip())
                    total = len(body)
                    if not parsed or int(parsed.group(1)) >= total:
                        return self.error(416, "RANGE_INVALID", byte_range, fired,
                                          {"Content-Range": f"bytes */{total}"})
                    start = int(parsed.group(1))
                    end = min(int(parsed.group(2)), total - 1) if parsed.group(2) else total - 1
                    body, status = body[start:end + 1], 206
                    headers["Content-Range"] = f"bytes {start}-{end}/{total}"
            drop = actions["drop"]["afterBytes"] if "drop" in actions else None
            rate = actions["slow"]["bytesPerSecond"] if "slow" in actions else None
            override = {actions["header"]["name"]: actions["header"]["value"]} if "header" in actions else None
            self.record(status, fired)
            self.send_bytes(status, body, content_type, headers, send_body, drop, rate, override)

    return Handler


def serve_tls(server, directory):
    """Wraps the listening socket in TLS with a fresh CA; returns the CA's PEM path."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from registry import make_cert, new_ec_key, write_pem
    os.makedirs(directory, exist_ok=True)
    ca_key, server_key = new_ec_key(), new_ec_key()
    ca = make_cert("fault server test CA", ca_key, ca=True)
    cert = make_cert("localhost", server_key, issuer=ca, issuer_key=ca_key, server=True)
    ca_path = os.path.join(directory, "ca.pem")
    write_pem(ca_path, cert=ca)
    write_pem(os.path.join(directory, "server.pem"), key=server_key, cert=cert)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(os.path.join(directory, "server.pem"))
    server.socket = context.wrap_socket(server.socket, server_side=True)
    return ca_path


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--layout", required=True)
    parser.add_argument("--info", required=True)
    parser.add_argument("--faults", default="[]")
    parser.add_argument("--variants", default="[]")
    parser.add_argument("--tls-dir", help="serve HTTPS; the CA goes to DIR/ca.pem")
    parser.add_argument("--remove-on-exit", help="a directory to delete on exit (the caller's scratch)")
    args = parser.parse_args()
    faults = Faults(json.loads(args.faults))
    layout = Layout(args.layout)
    variants = json.loads(args.variants)
    if variants:
        layout.add_variants(variants)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), make_handler(layout, faults))
    server.daemon_threads = True
    port = server.server_address[1]
    ca_path, scheme = None, "http"
    if args.tls_dir:
        ca_path, scheme = serve_tls(server, args.tls_dir), "https"
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    threading.Thread(target=lambda: (sys.stdin.buffer.read(), stop.set()), daemon=True).start()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with open(args.info + ".tmp", "w") as out:
        json.dump({"url": f"{scheme}://127.0.0.1:{port}", "hostPort": f"127.0.0.1:{port}", "pid": os.getpid(),
                   "caPath": ca_path}, out)
    os.rename(args.info + ".tmp", args.info)
    parent = os.getppid()
    while not stop.wait(0.5) and os.getppid() == parent:
        pass  # also stop when the test process died without stopping us
    server.shutdown()
    if args.remove_on_exit:
        shutil.rmtree(args.remove_on_exit, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
