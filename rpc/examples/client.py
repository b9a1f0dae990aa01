#!/usr/bin/env python3
"""A client of the dreambooth-ts JSON-RPC server using only the Python standard library.

    python3 rpc/examples/client.py --url http://127.0.0.1:8787 [--token T] demo
    python3 rpc/examples/client.py --start-server demo     # starts `deno task serve --port 0` itself
    python3 rpc/examples/client.py --url URL call tokenizer.encode '{"text": "a dog"}'

As a module (the Python notebook does this):

    from client import RpcClient
    rpc = RpcClient("http://127.0.0.1:8787", token=None)
    rpc.call("tokenizer.encode", {"text": "a sks dog"})      # -> {"ids": [...]}
    for event in rpc.events(job=job_id): ...                 # Server-Sent Events as dicts
    rpc.wait_for_job(job_id)                                 # polls jobs.get until it finishes

`demo` runs the flow of issue 8 as far as the server allows: health, rpc.discover, encode, decode,
identifier, then a job with its progress events (`train.start` on the tiny preset when the server
offers it, else the `debug.sleep` test fixture when present), jobs.get until done, `sample` and the
PNG on disk when offered. Steps the server cannot do yet are reported and skipped.
"""

import argparse
import base64
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

FINISHED = ("succeeded", "failed", "cancelled", "interrupted")


class RpcError(Exception):
    """A JSON-RPC error answer (code, message, data), or an HTTP failure (code 0, status set)."""

    def __init__(self, code, message, data=None, status=None):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.data = data
        self.status = status


class RpcClient:
    """JSON-RPC 2.0 over HTTP: call, notify, batch, events (SSE), wait_for_job, health, file_url."""

    def __init__(self, url, token=None, timeout=60.0):
        self.url = re.sub(r"/rpc/?$", "", url.rstrip("/"))
        self.token = token
        self.timeout = timeout
        self._next_id = 1

    def _headers(self, extra=None):
        headers = dict(extra or {})
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    def _post(self, payload):
        body = json.dumps(payload).encode("utf-8")
        request = urllib.request.Request(
            self.url + "/rpc",
            data=body,
            method="POST",
            headers=self._headers({"Content-Type": "application/json"}),
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                if response.status == 204:
                    return None
                return json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as err:
            text = err.read().decode("utf-8", "replace")
            try:
                answer = json.loads(text)
            except ValueError:
                answer = None
            if isinstance(answer, dict) and isinstance(answer.get("error"), dict):
                e = answer["error"]
                raise RpcError(e.get("code", 0), e.get("message", ""), e.get("data"), err.code) from None
            raise RpcError(0, f"POST /rpc answered HTTP {err.code}: {text[:200]}", None, err.code) from None

    def upload(self, paths, captions=None):
        """POST /upload: sends photo files as multipart/form-data; returns {upload, files}.

        `captions` maps a file name to its caption (sent as NAME.txt). The server refuses a bad
        file (over 20 MiB, not PNG/JPEG/WebP, under 64 px, a path-like name) with RpcError -32602
        naming it; pass the answer's "upload" to train.start."""
        boundary = "----dreambooth" + uuid.uuid4().hex
        parts = []
        for path in paths:
            name = os.path.basename(path)
            with open(path, "rb") as f:
                parts.append((name, f.read()))
            caption = (captions or {}).get(name)
            if caption is not None:
                parts.append((os.path.splitext(name)[0] + ".txt", caption.encode("utf-8")))
        body = b""
        for name, data in parts:
            quoted = name.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")
            body += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"photos\"; "
                     f"filename=\"{quoted}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                     ).encode("utf-8") + data + b"\r\n"
        body += f"--{boundary}--\r\n".encode("utf-8")
        request = urllib.request.Request(
            self.url + "/upload",
            data=body,
            method="POST",
            headers=self._headers({"Content-Type": f"multipart/form-data; boundary={boundary}"}),
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as err:
            text = err.read().decode("utf-8", "replace")
            try:
                e = json.loads(text)["error"]
            except (ValueError, KeyError, TypeError):
                raise RpcError(0, f"POST /upload answered HTTP {err.code}: {text[:200]}", None, err.code) from None
            raise RpcError(e.get("code", 0), e.get("message", ""), e.get("data"), err.code) from None

    def call(self, method, params=None):
        """Calls a method; returns its result or raises RpcError."""
        request_id = self._next_id
        self._next_id += 1
        payload = {"jsonrpc": "2.0", "method": method, "id": request_id}
        if params is not None:
            payload["params"] = params
        answer = self._post(payload)
        if not isinstance(answer, dict):
            raise RpcError(0, f"Malformed answer: {answer!r}")
        if "error" in answer:
            e = answer["error"]
            raise RpcError(e["code"], e["message"], e.get("data"))
        return answer.get("result")

    def notify(self, method, params=None):
        """Sends a notification (no answer)."""
        payload = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            payload["params"] = params
        self._post(payload)

    def batch(self, calls):
        """Sends [(method, params), ...] in one request; returns results or RpcError objects, in order."""
        payload, ids = [], []
        for method, params in calls:
            request_id = self._next_id
            self._next_id += 1
            ids.append(request_id)
            entry = {"jsonrpc": "2.0", "method": method, "id": request_id}
            if params is not None:
                entry["params"] = params
            payload.append(entry)
        answers = self._post(payload)
        if isinstance(answers, dict):  # the whole batch was refused
            e = answers["error"]
            return [RpcError(e["code"], e["message"], e.get("data")) for _ in ids]
        by_id = {a.get("id"): a for a in answers or []}
        out = []
        for request_id in ids:
            a = by_id.get(request_id)
            if a is None:
                out.append(RpcError(0, f"No answer for call {request_id}"))
            elif "error" in a:
                out.append(RpcError(a["error"]["code"], a["error"]["message"], a["error"].get("data")))
            else:
                out.append(a.get("result"))
        return out

    def events(self, job=None, timeout=None):
        """Yields Server-Sent Events from GET /events as {"event", "data", "id"} dicts."""
        url = self.url + "/events"
        if job is not None:
            url += "?" + urllib.parse.urlencode({"job": job})
        request = urllib.request.Request(url, headers=self._headers({"Accept": "text/event-stream"}))
        with urllib.request.urlopen(request, timeout=timeout or self.timeout) as response:
            event, data, event_id = "message", [], None
            for raw in response:
                line = raw.decode("utf-8").rstrip("\r\n")
                if line == "":
                    if data:
                        text = "\n".join(data)
                        try:
                            parsed = json.loads(text)
                        except ValueError:
                            parsed = text
                        yield {"event": event, "data": parsed, "id": event_id}
                    event, data, event_id = "message", [], None
                elif line.startswith(":"):
                    continue
                else:
                    field, _, value = line.partition(":")
                    value = value[1:] if value.startswith(" ") else value
                    if field == "event":
                        event = value
                    elif field == "data":
                        data.append(value)
                    elif field == "id":
                        event_id = value

    def wait_for_job(self, job_id, interval=0.5, on_progress=None, timeout=None):
        """Polls jobs.get until the job has finished; returns its record."""
        end = None if timeout is None else time.monotonic() + timeout
        while True:
            job = self.call("jobs.get", {"id": job_id})
            if on_progress:
                on_progress(job)
            if job["status"] in FINISHED:
                return job
            if end is not None and time.monotonic() > end:
                raise TimeoutError(f"job {job_id} still {job['status']} after {timeout} s")
            time.sleep(interval)

    def health(self):
        """GET /health."""
        with urllib.request.urlopen(self.url + "/health", timeout=self.timeout) as response:
            return json.loads(response.read().decode("utf-8"))

    def file_url(self, path):
        """The URL of a file under the data root (e.g. a job's output image)."""
        return self.url + "/files/" + "/".join(urllib.parse.quote(p) for p in path.split("/"))

    def download(self, path, dest):
        """Downloads a file under the data root to `dest`; returns its size."""
        request = urllib.request.Request(self.file_url(path), headers=self._headers())
        with urllib.request.urlopen(request, timeout=self.timeout) as response, open(dest, "wb") as out:
            data = response.read()
            out.write(data)
            return len(data)


def start_server(data_root, token=None, deno=None):
    """Starts `deno task serve --port 0` from the repository root; returns (process, url).

    The server runs in its own process group (npx → deno task → deno run); stop it with
    stop_server(process). `deno` defaults to $DENO (e.g. "deno") or `npx -y deno@2.9.6`.
    """
    root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    deno = deno or shlex.split(os.environ.get("DENO", "npx -y deno@2.9.6"))
    command = deno + [
        "task", "-q", "serve", "--port", "0", "--data-root", data_root,
    ]
    env = dict(os.environ)
    if token:
        env["DREAMBOOTH_RPC_TOKEN"] = token
    process = subprocess.Popen(
        command, cwd=root, stdout=subprocess.PIPE, text=True, env=env, start_new_session=True
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        match = re.search(r"Listening on (http://\S+?)/?$", line.strip())
        if match:
            return process, match.group(1)
    stop_server(process)
    raise RuntimeError("the server did not start (no 'Listening on' line)")


def stop_server(process):
    """Stops a server started by start_server (its whole process group)."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def demo(rpc, out_dir):
    """The issue-8 flow, as far as the server's methods allow. Returns the number of failures."""
    failures = 0

    def step(title):
        print(f"\n== {title}")

    step("health")
    print(rpc.health())
    step("rpc.discover")
    methods = {m["name"]: m for m in rpc.call("rpc.discover")["methods"]}
    print(", ".join(sorted(methods)))

    step("tokenizer.encode / decode")
    prompt = "a photo of a sks dog on the beach"
    encoded = rpc.call("tokenizer.encode", {"text": prompt, "pieces": True})
    print(encoded["ids"], encoded["pieces"])
    decoded = rpc.call("tokenizer.decode", {"ids": encoded["ids"]})["text"]
    print(repr(decoded))
    if decoded != prompt:
        print("!! round trip changed the text")
        failures += 1
    try:
        rpc.call("tokenizer.encode", {"text": 42})
        print("!! a wrong type was accepted")
        failures += 1
    except RpcError as err:
        print(f"wrong type -> {err.code} {err.message} (field {err.data['field']})")

    if "tokenizer.identifier" in methods:
        step("tokenizer.identifier")
        print(rpc.call("tokenizer.identifier", {"seed": 0}))
    else:
        print("\n(tokenizer.identifier not served yet)")

    step("a job with progress events")
    if "train.start" in methods:
        # The tiny preset, sized to take seconds: 3 steps, 1 class image drawn in 2 sampler
        # steps, no SR fine-tuning, no final or validation samples.
        # The subject's photos go with the call (base64; `rpc.upload(paths)` is the multipart way).
        dog = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "data", "subjects", "dog")
        photos = []
        for name in sorted(os.listdir(dog))[:3]:
            if name.endswith(".png"):
                with open(os.path.join(dog, name), "rb") as f:
                    photos.append({"name": name, "data": base64.b64encode(f.read()).decode("ascii")})
        started = rpc.call("train.start", {
            "preset": "tiny", "steps": 3, "numClassImages": 1, "classSteps": 2,
            "superRes": False, "finalSamples": False, "sampleEverySteps": 0, "seed": 0,
            "photos": photos, "classNoun": "dog",
        })
        print("train.start ->", started["id"])
    elif "debug.sleep.start" in methods:
        print("(train.start not served yet: using the debug.sleep test fixture)")
        started = rpc.call("debug.sleep.start", {"steps": 5, "stepMs": 50})
    else:
        print("(no job kind served yet: skipping)")
        started = None
    if started:
        job_id = started["id"]
        for event in rpc.events(job=job_id):
            data = event["data"]
            if event["event"] == "progress":
                print(f"progress {data['step']}/{data.get('total')} eta {data.get('etaSeconds')} s")
            elif event["event"] == "job":
                print(f"job {data['status']}")
                if data["status"] in FINISHED:
                    break
        job = rpc.wait_for_job(job_id, interval=0.2, timeout=600)
        print("jobs.get ->", job["status"], job.get("result"))
        if job["status"] != "succeeded":
            failures += 1
        result = job.get("result") or {}
        if isinstance(result, dict) and isinstance(result.get("model"), str):
            print("trained model:", result["model"], "identifier", result.get("identifier"))
        if isinstance(result, dict) and isinstance(result.get("file"), str):
            dest = os.path.join(out_dir, os.path.basename(result["file"]))
            print(f"downloaded {rpc.download(result['file'], dest)} bytes to {dest}")

    if "sample" in methods:
        step("sample")
        model = {"preset": "tiny"}
        if "model.list" in methods:
            checkpoints = [c["path"] for c in rpc.call("model.list")["checkpoints"]]
            print("model.list ->", checkpoints)
            trained = [c for c in checkpoints if c.endswith("/model.safetensors")]
            if trained:
                model = {"model": trained[-1]}
            elif checkpoints:
                model = {"model": checkpoints[-1]}
        print("sampling with", model)
        sample = rpc.call("sample", {"prompt": prompt, "seed": 0, "steps": 4, **model})
        png = base64.b64decode(sample["png"])
        dest = os.path.join(out_dir, "sample.png")
        with open(dest, "wb") as f:
            f.write(png)
        print(f"wrote {dest} ({sample['width']}x{sample['height']}, {len(png)} bytes)")
        if png[:8] != b"\x89PNG\r\n\x1a\n":
            print("!! not a PNG")
            failures += 1
    else:
        print("\n(sample not served yet)")

    step("jobs.list")
    for job in rpc.call("jobs.list", {"limit": 5})["jobs"]:
        print(job["id"], job["kind"], job["status"])
    return failures


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8787")
    parser.add_argument("--token", default=os.environ.get("DREAMBOOTH_RPC_TOKEN"))
    parser.add_argument("--start-server", action="store_true", help="start `deno task serve` itself")
    parser.add_argument("--out", default=None, help="where downloaded files go (default: a temp dir)")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("demo")
    call = sub.add_parser("call")
    call.add_argument("method")
    call.add_argument("params", nargs="?", default=None)
    args = parser.parse_args(argv)

    process = None
    data_root = None
    url = args.url
    if args.start_server:
        data_root = tempfile.mkdtemp(prefix="rpc-py-")
        process, url = start_server(data_root, args.token)
        print(f"started the server at {url} (data root {data_root})")
    rpc = RpcClient(url, token=args.token)
    try:
        if args.command == "call":
            params = json.loads(args.params) if args.params else None
            print(json.dumps(rpc.call(args.method, params), indent=2))
            return 0
        out_dir = args.out or tempfile.mkdtemp(prefix="rpc-out-")
        failures = demo(rpc, out_dir)
        print(f"\ndemo finished with {failures} failure(s)")
        return 1 if failures else 0
    except RpcError as err:
        print(f"error {err.code}: {err.message} {err.data or ''}", file=sys.stderr)
        return 1
    finally:
        if process is not None:
            stop_server(process)


if __name__ == "__main__":
    sys.exit(main())
