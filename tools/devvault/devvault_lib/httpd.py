# SPDX-License-Identifier: Apache-2.0
# HTTP/1.1 listeners: the Vault API (with fault injection and request statistics) and the OpenAI API
# stand-in that accepts only live service-account keys.
import json
import random
import socket
import ssl
import struct
import sys
import threading
import time
import traceback
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

from .faults import path_glob_match
from .records import Request
from .wire import go_json, multierror

MAX_REQUEST_BYTES = 32 << 20  # Vault's default max_request_size
IDLE_TIMEOUT_S = 60


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, addr, handler, core, pipeline, tls_context=None):
        host = addr[0]
        if ":" in host:
            self.address_family = socket.AF_INET6
        self.core = core
        self.pipeline = pipeline
        self.tls_context = tls_context
        self.log_requests = False
        super().__init__(addr, handler)

    def finish_request(self, request, client_address):
        # The TLS handshake runs in the connection's own thread, never in the accept loop.
        if self.tls_context is not None:
            try:
                request.settimeout(IDLE_TIMEOUT_S)
                request = self.tls_context.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError):
                return
        super().finish_request(request, client_address)

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, socket.timeout, ssl.SSLError)):
            return
        print(f"devvault: Failed to serve a request from {client_address[0]}: {exc!r}", file=sys.stderr, flush=True)


class _BaseHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = IDLE_TIMEOUT_S
    # A buffered writer: a response's headers and body leave in one write (flushed once per response).
    wbufsize = -1

    def setup(self):
        super().setup()
        # As Go's net/http (Vault, OpenBao) does by default: without it, a response written in two
        # segments waits for the client's delayed ACK (Nagle) on a reused connection, ~40 ms a response.
        if self.connection.family in (socket.AF_INET, socket.AF_INET6):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, fmt, *args):
        pass  # request lines would carry tokens in query strings; stats cover what tests need

    def read_body(self):
        te = self.headers.get("Transfer-Encoding", "").lower()
        if "chunked" in te:
            chunks = []
            total = 0
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                total += size
                if total > MAX_REQUEST_BYTES:
                    return None
                chunks.append(self.rfile.read(size))
                self.rfile.readline(3)
            return b"".join(chunks)
        n = int(self.headers.get("Content-Length", "0") or 0)
        if n > MAX_REQUEST_BYTES:
            return None
        return self.rfile.read(n) if n > 0 else b""

    def write(self, status, headers, body, truncate=False, reset=False):
        self.send_response_only(status)
        self.send_header("Date", self.date_time_string())
        for k, v in headers.items():
            self.send_header(k, v)
        if body is not None:
            self.send_header("Content-Length", str(len(body)))
        elif status not in (204, 304) and status >= 200:
            self.send_header("Content-Length", "0")
        if truncate:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if body is not None and self.command != "HEAD":
            self.wfile.write(body[: len(body) // 2] if truncate or reset else body)
        self.wfile.flush()
        if reset:
            # SO_LINGER with a zero timeout: close() sends a TCP RST instead of a FIN.
            self.close_connection = True
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()


class VaultHandler(_BaseHandler):
    def do_GET(self):
        self.dispatch()

    do_POST = do_PUT = do_DELETE = do_LIST = do_PATCH = do_HEAD = do_GET

    def dispatch(self):
        core = self.server.core
        split = urlsplit(self.path)
        raw_path = unquote(split.path)
        body = self.read_body()
        if body is None:
            self.close_connection = True
            return self.write(413, {"Cache-Control": "no-store", "Content-Type": "application/json"},
                              go_json({"errors": ["http: request body too large"]}))
        if not raw_path.startswith("/v1/"):
            core.stats.count("vault", raw_path, self.command)
            return self.write(404, {"Cache-Control": "no-store", "Content-Type": "application/json"},
                              go_json({"errors": []}))
        path = raw_path[len("/v1/"):]
        dev = path.startswith("sys/devvault/")
        if not dev:
            core.stats.count("vault", path, self.command)
        f = core.faults
        faulted = not dev and (not f.paths or any(path_glob_match(p, path) for p in f.paths))
        if faulted and f.latency_ms:
            time.sleep(f.latency_ms / 1000.0)
        if faulted and f.drop_connections:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        if faulted and f.redirect_loop:
            # A 307 back to the same URL, every time: a client that follows redirects without a limit never stops.
            return self.write(307, {"Cache-Control": "no-store", "Location": self.path}, None)
        if faulted and self._should_fail(f):
            status = f.fail_status
            msg = multierror(["injected failure"]) if status >= 500 else "injected failure"
            return self.write(status, {"Cache-Control": "no-store", "Content-Type": "application/json"},
                              go_json({"errors": [msg]}))
        query = {}
        for k, v in parse_qs(split.query, keep_blank_values=True).items():
            query[k] = v[0] if len(v) == 1 else v
        extra = {}
        ns = self.headers.get("X-Vault-Namespace")
        if ns:
            extra["X-Vault-Namespace"] = ns
        data = {}
        if self.command == "GET" or self.command == "HEAD":
            data = dict(query)
        if body and body.strip():
            ctype = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
            if ctype == "application/x-www-form-urlencoded" and body.lstrip()[:1] not in (b"{", b"["):
                for k, v in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items():
                    data[k] = v[0] if len(v) == 1 else v
            else:
                try:
                    parsed = json.loads(body)
                except ValueError as e:
                    return self.write(400, dict(extra, **{"Cache-Control": "no-store", "Content-Type": "application/json"}),
                                      go_json({"errors": [f"failed to decode JSON input: {_go_json_error(e, body)}"]}))
                if parsed is None:
                    parsed = {}
                if not isinstance(parsed, dict):
                    kind = {list: "array", str: "string", bool: "bool"}.get(type(parsed), "number")
                    return self.write(400, dict(extra, **{"Cache-Control": "no-store", "Content-Type": "application/json"}),
                                      go_json({"errors": ["failed to decode JSON input: json: cannot unmarshal "
                                                          f"{kind} into Go value of type map[string]interface {{}}"]}))
                data.update(parsed)
        token = self.headers.get("X-Vault-Token", "")
        if not token:
            auth = self.headers.get("Authorization", "")
            if auth[:7].lower() == "bearer ":
                token = auth[7:].strip()
        req = Request(self.command, path, query, data, token, self.headers, self.client_address[0], split.query)
        try:
            status, headers, out = self.server.pipeline.handle(req)
        except Exception as e:
            print(f"devvault: Failed to handle {self.command} '{path}': {e!r}", file=sys.stderr, flush=True)
            traceback.print_exc(file=sys.stderr)
            status, headers, out = 500, {}, go_json({"errors": [multierror(["internal error"])]})
        h = {"Cache-Control": "no-store"}
        if out is not None and "Content-Type" not in headers:
            h["Content-Type"] = "application/json"
        h.update(headers)
        h.update(extra)
        if faulted and f.oversized_bodies and out is not None:
            out = out.rstrip(b"\n") + b" " * max(0, f.oversized_bodies - len(out)) + b"\n"
        if faulted and f.garbage_bodies is not None and out is not None:
            out = f.garbage_bodies.encode()
        self.write(status, h, out, truncate=bool(faulted and f.truncate_bodies and out),
                   reset=bool(faulted and f.reset_mid_body and out))
        if self.server.log_requests:
            # Method, path and status only: query strings and bodies can carry secrets.
            print(f"devvault: {self.command} /v1/{path} {status}", file=sys.stderr, flush=True)

    def _should_fail(self, f):
        with self.server.core.lock:
            if f.fail_count is not None:
                if f.fail_count > 0:
                    f.fail_count -= 1
                    return True
                return False
            return f.fail_rate > 0 and random.random() < f.fail_rate


def _go_json_error(e, body):
    """encoding/json's message for the common syntax errors."""
    pos = getattr(e, "pos", None)
    text = body.decode("utf-8", "replace")
    if pos is None or pos >= len(text.rstrip()) or "Unterminated string" in str(e):
        return "unexpected EOF"
    ch = text[pos]
    if "property name" in str(e):
        return f"invalid character '{ch}' looking for beginning of object key string"
    if "Expecting value" in str(e):
        return f"invalid character '{ch}' looking for beginning of value"
    if "Expecting ',' delimiter" in str(e):
        return f"invalid character '{ch}' after object key:value pair"
    if "Expecting ':' delimiter" in str(e):
        return f"invalid character '{ch}' after object key"
    if "Extra data" in str(e):
        return f"invalid character '{ch}' after top-level value"
    return f"invalid character '{ch}' looking for beginning of value"


MODELS = ["gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-4.1-mini", "o3-mini", "text-embedding-3-small"]


def _openai_error(message, code, status=401, etype="invalid_request_error"):
    return status, {"error": {"message": message, "type": etype, "param": None, "code": code}}


def _mask(key):
    if len(key) <= 12:
        return "*" * len(key)
    return key[:8] + "*" * (len(key) - 12) + key[-4:]


class OpenAIHandler(_BaseHandler):
    def do_GET(self):
        self.dispatch()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_GET

    def dispatch(self):
        core = self.server.core
        path = urlsplit(self.path).path
        body = self.read_body()
        core.stats.count("openai", path, self.command)
        status, doc = self.route(core, path, body or b"")
        out = (json.dumps(doc, indent=2) + "\n").encode()
        self.write(status, {"Content-Type": "application/json", "x-request-id": "req_" + uuid.uuid4().hex}, out)

    def route(self, core, path, body):
        auth = self.headers.get("Authorization", "")
        if not auth.lower().startswith("bearer ") or not auth[7:].strip():
            return _openai_error("You didn't provide an API key. You need to provide your API key in an Authorization "
                                 "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password "
                                 "field (with blank username) if you're accessing the API from your browser and are "
                                 "prompted for a username. You can obtain an API key from "
                                 "https://platform.openai.com/account/api-keys.", None)
        key = auth[7:].strip()
        rec = core.openai_store.lookup_key(key)
        if rec is None:
            return _openai_error(f"Incorrect API key provided: {_mask(key)}. You can find your API key at "
                                 "https://platform.openai.com/account/api-keys.", "invalid_api_key")
        org = self.headers.get("OpenAI-Organization")
        if org is not None and org != rec["organization_id"]:
            return _openai_error("OpenAI-Organization header should match organization for API key",
                                 "mismatched_organization")
        project = self.headers.get("OpenAI-Project")
        if project is not None and project != rec["project_id"]:
            return _openai_error("OpenAI-Project header should match project for API key", "mismatched_project")
        if path == "/v1/models" and self.command == "GET":
            return 200, {"object": "list", "data": [{"id": m, "object": "model", "created": 1715367049,
                                                     "owned_by": "system"} for m in MODELS]}
        if path.startswith("/v1/models/") and self.command == "GET":
            m = path[len("/v1/models/"):]
            if m in MODELS:
                return 200, {"id": m, "object": "model", "created": 1715367049, "owned_by": "system"}
            return _openai_error(f"The model '{m}' does not exist", "model_not_found", status=404)
        if path == "/v1/chat/completions" and self.command == "POST":
            try:
                req = json.loads(body or b"{}")
            except ValueError:
                return _openai_error("We could not parse the JSON body of your request.", None, status=400)
            model = req.get("model") if isinstance(req, dict) else None
            if not model:
                return _openai_error("you must provide a model parameter", None, status=400)
            return 200, {
                "id": "chatcmpl-" + uuid.uuid4().hex[:24], "object": "chat.completion", "created": int(time.time()),
                "model": model,
                "choices": [{"index": 0, "message": {"role": "assistant",
                                                     "content": "Hello! This is a canned reply from the OpenAI stand-in.",
                                                     "refusal": None},
                             "logprobs": None, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 9, "completion_tokens": 12, "total_tokens": 21},
                "system_fingerprint": None}
        return _openai_error(f"Invalid URL ({self.command} {path})", None, status=404)


def make_server(kind, host, port, core, pipeline=None, tls_context=None):
    """A listener of `kind` "vault" (whose requests `pipeline` runs) or "openai"."""
    handler = VaultHandler if kind == "vault" else OpenAIHandler
    return _Server((host, port), handler, core, pipeline, tls_context)


def serve_in_thread(server, name):
    t = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, name=name, daemon=True)
    t.start()
    return t
