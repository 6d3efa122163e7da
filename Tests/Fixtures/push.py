#!/usr/bin/env python3
"""Pushes an OCI image layout to a registry byte for byte.

Usage: push.py --url BASE [--ca FILE] [--user U --password P] [--ref latest] LAYOUT REPO TAG

Blobs go up with POST /v2/REPO/blobs/uploads/ then PUT LOCATION?digest=; manifests
with PUT /v2/REPO/manifests/REF and their own media type. For an index the child
manifests are pushed by digest first, then the index under TAG. Nothing is
recompressed (skopeo 1.9.3 re-gzips uncompressed layers and ignores zstd).
Handles no auth, Basic and Bearer token challenges, and TLS with a private CA.
Prints the pushed top-level digest.
"""

import argparse
import base64
import json
import os
import re
import ssl
import sys
import urllib.error
import urllib.parse
import urllib.request

INDEX_TYPES = {"application/vnd.oci.image.index.v1+json",
               "application/vnd.docker.distribution.manifest.list.v2+json"}


class PushError(Exception):
    pass


class Session:
    def __init__(self, base, ca, user, password):
        self.base = base.rstrip("/")
        self.context = ssl.create_default_context(cafile=ca) if ca else None
        self.basic = None
        if user is not None:
            self.basic = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        self.auth = None

    def send(self, method, url, data=None, headers=None, retry=True):
        headers = dict(headers or {})
        if self.auth:
            headers["Authorization"] = self.auth
        request = urllib.request.Request(urllib.parse.urljoin(self.base + "/", url), data=data,
                                         method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, context=self.context, timeout=60) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            body = error.read()
            if error.code == 401 and retry:
                self.authenticate(error.headers.get("WWW-Authenticate", ""))
                return self.send(method, url, data, headers, retry=False)
            return error.code, error.headers, body

    def authenticate(self, challenge):
        if self.basic is None:
            raise PushError("registry wants credentials: " + challenge)
        if challenge.lower().startswith("basic"):
            self.auth = self.basic
            return
        params = dict(re.findall(r'(\w+)="([^"]*)"', challenge))
        query = {"service": params.get("service", "")}
        if "scope" in params:
            query["scope"] = params["scope"]
        url = params["realm"] + "?" + urllib.parse.urlencode(query)
        request = urllib.request.Request(url, headers={"Authorization": self.basic})
        with urllib.request.urlopen(request, context=self.context, timeout=30) as response:
            body = json.loads(response.read())
        self.auth = "Bearer " + (body.get("token") or body["access_token"])


def read_blob(layout, digest):
    algorithm, hex_digest = digest.split(":", 1)
    with open(os.path.join(layout, "blobs", algorithm, hex_digest), "rb") as src:
        return src.read()


def push_blob(session, layout, repo, digest):
    status, _, _ = session.send("HEAD", f"/v2/{repo}/blobs/{digest}")
    if status == 200:
        return
    status, headers, body = session.send("POST", f"/v2/{repo}/blobs/uploads/", data=b"",
                                         headers={"Content-Length": "0"})
    if status != 202:
        raise PushError(f"start upload of {digest}: HTTP {status} {body[:300]!r}")
    location = headers["Location"]
    location += ("&" if "?" in location else "?") + "digest=" + urllib.parse.quote(digest)
    status, _, body = session.send("PUT", location, data=read_blob(layout, digest),
                                   headers={"Content-Type": "application/octet-stream"})
    if status != 201:
        raise PushError(f"finish upload of {digest}: HTTP {status} {body[:300]!r}")


def push_manifest(session, layout, repo, descriptor, ref):
    data = read_blob(layout, descriptor["digest"])
    manifest = json.loads(data)
    if descriptor["mediaType"] in INDEX_TYPES:
        for child in manifest["manifests"]:
            push_manifest(session, layout, repo, child, child["digest"])
    else:
        for blob in [manifest["config"]] + manifest["layers"]:
            push_blob(session, layout, repo, blob["digest"])
    status, headers, body = session.send("PUT", f"/v2/{repo}/manifests/{ref}", data=data,
                                         headers={"Content-Type": descriptor["mediaType"]})
    if status != 201:
        raise PushError(f"put manifest {ref}: HTTP {status} {body[:300]!r}")
    if headers.get("Docker-Content-Digest") != descriptor["digest"]:
        raise PushError(f"put manifest {ref}: registry digest {headers.get('Docker-Content-Digest')} "
                        f"!= {descriptor['digest']}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--ca")
    parser.add_argument("--user")
    parser.add_argument("--password")
    parser.add_argument("--ref", default="latest", help="ref.name annotation in index.json")
    parser.add_argument("layout")
    parser.add_argument("repo")
    parser.add_argument("tag")
    args = parser.parse_args()
    with open(os.path.join(args.layout, "index.json")) as src:
        index = json.load(src)
    chosen = [m for m in index["manifests"]
              if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == args.ref]
    if not chosen:
        chosen = index["manifests"][:1]
    session = Session(args.url, args.ca, args.user, args.password)
    try:
        push_manifest(session, args.layout, args.repo, chosen[0], args.tag)
    except PushError as error:
        sys.stderr.write(f"push.py: {args.layout} to {args.repo}:{args.tag}: {error}\n")
        return 1
    print(chosen[0]["digest"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
