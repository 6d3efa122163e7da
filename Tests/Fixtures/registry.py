#!/usr/bin/env python3
"""Runs Debian's docker-registry on a free 127.0.0.1 port for tests.

Usage: registry.py --dir DIR --info FILE [--auth plain|basic|token] [--tls]
                   [--user U --password P] [--remove-on-exit DIR2]

DIR is owned by this process: config, storage, certificates and logs go there
and it is removed on exit. When the registry answers GET /v2/, FILE is written
(atomically) with JSON: url, hostPort, caPath, tokenURL, statsURL, user,
password. The process stops the registry (SIGTERM, wait) when it gets SIGTERM
or when its standard input reaches EOF, so a crashed test never leaks one.

--auth token adds a token server (in this process) that checks Basic
credentials and issues RS256 JWTs with an x5c header signed by a self-signed
certificate which is the registry's rootcertbundle. GET /stats on it answers
{"tokensIssued": N, "scopes": [...]}.
"""

import argparse
import base64
import datetime
import http.server
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

SERVICE = "fixture-registry"
ISSUER = "fixture-token-issuer"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# MARK: - certificates

def new_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def write_pem(path, key=None, cert=None):
    with open(path, "wb") as out:
        if key is not None:
            out.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption()))
        if cert is not None:
            out.write(cert.public_bytes(serialization.Encoding.PEM))


def make_cert(subject, key, issuer=None, issuer_key=None, ca=False, server=False):
    now = datetime.datetime.now(datetime.timezone.utc)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    builder = (x509.CertificateBuilder().subject_name(name)
               .issuer_name(issuer.subject if issuer else name)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5))
               .not_valid_after(now + datetime.timedelta(days=2))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if server:
        import ipaddress
        builder = builder.add_extension(x509.SubjectAlternativeName(
            [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
    return builder.sign(issuer_key or key, hashes.SHA256())


# MARK: - token server

def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class TokenIssuer:
    def __init__(self, directory, user, password):
        self.key = new_key()
        self.cert = make_cert("fixture token signer", self.key)
        self.cert_path = os.path.join(directory, "token-signer.crt")
        write_pem(self.cert_path, cert=self.cert)
        self.user, self.password = user, password
        self.lock = threading.Lock()
        self.issued, self.scopes = 0, []

    def token(self, scopes):
        access = []
        for scope in scopes:
            parts = scope.split(":")
            if len(parts) >= 3:
                access.append({"type": parts[0], "name": ":".join(parts[1:-1]),
                               "actions": parts[-1].split(",")})
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256",
                  "x5c": [base64.b64encode(self.cert.public_bytes(serialization.Encoding.DER)).decode()]}
        claims = {"iss": ISSUER, "sub": self.user, "aud": SERVICE, "exp": now + 300, "nbf": now - 10,
                  "iat": now, "jti": str(uuid.uuid4()), "access": access}
        signing_input = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())
        signature = self.key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        with self.lock:
            self.issued += 1
            self.scopes.extend(scopes)
        return signing_input + "." + b64url(signature)

    def handler(self):
        issuer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def reply(self, status, obj, headers=()):
                body = json.dumps(obj).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for k, v in headers:
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                url = urllib.parse.urlsplit(self.path)
                if url.path == "/stats":
                    with issuer.lock:
                        return self.reply(200, {"tokensIssued": issuer.issued, "scopes": list(issuer.scopes)})
                if url.path != "/token":
                    return self.reply(404, {"error": "not found"})
                expected = "Basic " + base64.b64encode(f"{issuer.user}:{issuer.password}".encode()).decode()
                if self.headers.get("Authorization") != expected:
                    return self.reply(401, {"error": "bad credentials"},
                                      [("WWW-Authenticate", 'Basic realm="fixture-token"')])
                query = urllib.parse.parse_qs(url.query)
                if query.get("service", [SERVICE])[0] != SERVICE:
                    return self.reply(400, {"error": "unknown service"})
                token = issuer.token(query.get("scope", []))
                self.reply(200, {"token": token, "access_token": token, "expires_in": 300,
                                 "issued_at": datetime.datetime.now(datetime.timezone.utc).isoformat()})

        return Handler


# MARK: - registry

def config_text(directory, port, auth, tls, token_port, token_cert):
    lines = [
        "version: 0.1",
        "log:", "  level: warn", "  accesslog:", "    disabled: true",
        "storage:", "  filesystem:", f"    rootdirectory: {directory}/storage",
        "  delete:", "    enabled: true",
        "http:", f"  addr: 127.0.0.1:{port}", "  secret: fixture-secret",
    ]
    if tls:
        lines += ["  tls:", f"    certificate: {directory}/server.crt", f"    key: {directory}/server.key"]
    if auth == "basic":
        lines += ["auth:", "  htpasswd:", "    realm: fixture-realm", f"    path: {directory}/htpasswd"]
    elif auth == "token":
        lines += ["auth:", "  token:", f"    realm: http://127.0.0.1:{token_port}/token",
                  f"    service: {SERVICE}", f"    issuer: {ISSUER}", f"    rootcertbundle: {token_cert}"]
    return "\n".join(lines) + "\n"


def wait_ready(url, context, process, deadline):
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            urllib.request.urlopen(url + "/v2/", timeout=2, context=context).close()
            return True
        except urllib.error.HTTPError:
            return True  # 401 from an auth-protected registry: it is up
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.02)
    return False


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--info", required=True)
    parser.add_argument("--auth", choices=["plain", "basic", "token"], default="plain")
    parser.add_argument("--tls", action="store_true")
    parser.add_argument("--user", default="fixture")
    parser.add_argument("--password", default="fixture-password")
    parser.add_argument("--remove-on-exit", help="a directory to delete on exit (the caller's scratch)")
    args = parser.parse_args()
    directory = os.path.abspath(args.dir)
    os.makedirs(directory, exist_ok=True)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    threading.Thread(target=lambda: (sys.stdin.buffer.read(), stop.set()), daemon=True).start()

    ca_path, token_server, token_port, token_cert = None, None, 0, ""
    if args.tls:
        ca_key, server_key = new_key(), new_key()
        ca = make_cert("fixture test CA", ca_key, ca=True)
        server = make_cert("localhost", server_key, issuer=ca, issuer_key=ca_key, server=True)
        ca_path = os.path.join(directory, "ca.crt")
        write_pem(ca_path, cert=ca)
        write_pem(os.path.join(directory, "server.crt"), cert=server)
        write_pem(os.path.join(directory, "server.key"), key=server_key)
    if args.auth == "basic":
        htpasswd = subprocess.run(["htpasswd", "-Bbn", args.user, args.password], check=True,
                                  stdout=subprocess.PIPE).stdout
        with open(os.path.join(directory, "htpasswd"), "wb") as out:
            out.write(htpasswd)
    if args.auth == "token":
        issuer = TokenIssuer(directory, args.user, args.password)
        token_server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), issuer.handler())
        token_port, token_cert = token_server.server_address[1], issuer.cert_path
        threading.Thread(target=token_server.serve_forever, daemon=True).start()

    port = free_port()
    config = os.path.join(directory, "config.yml")
    with open(config, "w") as out:
        out.write(config_text(directory, port, args.auth, args.tls, token_port, token_cert))
    log = open(os.path.join(directory, "registry.log"), "wb")
    process = subprocess.Popen(["docker-registry", "serve", config], stdout=log, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL)
    scheme = "https" if args.tls else "http"
    url = f"{scheme}://127.0.0.1:{port}"
    context = ssl.create_default_context(cafile=ca_path) if args.tls else None
    try:
        if not wait_ready(url, context, process, time.monotonic() + 30):
            log.flush()
            sys.stderr.write(open(os.path.join(directory, "registry.log")).read()[-2000:])
            sys.stderr.write("registry.py: docker-registry did not answer GET /v2/\n")
            return 1
        info = {"url": url, "hostPort": f"127.0.0.1:{port}", "caPath": ca_path,
                "user": args.user if args.auth != "plain" else None,
                "password": args.password if args.auth != "plain" else None,
                "tokenURL": f"http://127.0.0.1:{token_port}/token" if token_server else None,
                "statsURL": f"http://127.0.0.1:{token_port}/stats" if token_server else None,
                "pid": process.pid}
        with open(args.info + ".tmp", "w") as out:
            json.dump(info, out)
        os.rename(args.info + ".tmp", args.info)
        parent = os.getppid()
        while not stop.wait(0.5):
            if os.getppid() != parent:
                break  # the test process died without stopping us
            if process.poll() is not None:
                sys.stderr.write("registry.py: docker-registry exited early\n")
                return 1
        return 0
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if token_server:
            token_server.shutdown()
        shutil.rmtree(directory, ignore_errors=True)
        if args.remove_on_exit:
            shutil.rmtree(args.remove_on_exit, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
