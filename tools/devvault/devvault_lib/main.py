# SPDX-License-Identifier: Apache-2.0
# Command line of devvault: parses flags, assembles the core, its built-in mounts and the request
# pipeline, starts both listeners, prints the ready line and runs until SIGTERM or SIGINT.
import argparse
import ctypes
import os
import signal
import ssl
import sys
import threading

from .core import Core
from .httpd import make_server, serve_in_thread
from .kv import KVBackend
from .openai import OpenAIStore
from .pipeline import Pipeline
from .records import Mount
from .system import SystemBackend
from .token_backend import TokenBackend


def _host_port(s, flag):
    if ":" not in s:
        raise argparse.ArgumentTypeError(f"{flag}: expected HOST:PORT, got {s!r}")
    host, port = s.rsplit(":", 1)
    host = host.strip("[]")
    try:
        return host, int(port)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{flag}: port must be a number, got {port!r}")


def _url(scheme, server):
    host, port = server.server_address[:2]
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}:{port}"


def _mount_builtins(core):
    """Mounts what every server starts with; returns the sys/ backend."""
    system = SystemBackend(core)
    core.mount(Mount("sys/", "system", system))
    core.mount(Mount("auth/token/", "token", TokenBackend(core), is_auth=True))
    # `vault server -dev` mounts a KV v2 engine at secret/.
    core.mount(Mount("secret/", "kv", KVBackend(core, 2), options={"version": "2"}))
    return system


PR_SET_PDEATHSIG = 1


def _exit_with_parent(parser, stop):
    """Asks the kernel for SIGTERM when the parent dies; false if that cannot be arranged."""
    parent = os.getppid()
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
    except (OSError, AttributeError) as e:
        print(f"devvault: Failed to set the parent-death signal: {e}", file=sys.stderr)
        return False
    if os.getppid() != parent:
        stop.set()  # the parent died before the request took effect
    return True


def main(argv=None):
    p = argparse.ArgumentParser(prog="devvault", description="Vault/OpenBao-compatible development server "
                                "with the OpenAI secrets engine and an OpenAI API stand-in.")
    p.add_argument("--listen", required=True, help="HOST:PORT of the Vault API (port 0 picks a free port)")
    p.add_argument("--openai-listen", help="HOST:PORT of the OpenAI API stand-in (default: the --listen host, port 0)")
    p.add_argument("--flavor", choices=["vault", "openbao"], default="openbao")
    p.add_argument("--root-token", help="root token (default: a random hvs. token)")
    p.add_argument("--tls-cert", help="PEM certificate chain for the Vault API listener")
    p.add_argument("--tls-key", help="PEM private key for the Vault API listener")
    p.add_argument("--openai-project", action="append", help="an active OpenAI project id (repeatable; "
                   "default proj_default)")
    p.add_argument("--active-address", help="URL that a standby node redirects clients to (307)")
    p.add_argument("--exit-with-parent", action="store_true", help="exit (as on SIGTERM) when the process that "
                   "started devvault dies, so a crashed test harness leaves no server behind")
    p.add_argument("--log-requests", action="store_true", help="log method, path and status of every Vault API "
                   "request to stderr (never query strings, bodies or tokens)")
    args = p.parse_args(argv)
    try:
        host, port = _host_port(args.listen, "--listen")
        ohost, oport = _host_port(args.openai_listen, "--openai-listen") if args.openai_listen else (host, 0)
    except argparse.ArgumentTypeError as e:
        p.error(str(e))
    if bool(args.tls_cert) != bool(args.tls_key):
        p.error("--tls-cert and --tls-key must be given together")
    tls = None
    if args.tls_cert:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.minimum_version = ssl.TLSVersion.TLSv1_2
        try:
            tls.load_cert_chain(args.tls_cert, args.tls_key)
        except (OSError, ssl.SSLError) as e:
            print(f"devvault: Failed to load TLS certificate '{args.tls_cert}': {e}", file=sys.stderr)
            return 1
    store = OpenAIStore(args.openai_project or ["proj_default"])
    core = Core(flavor=args.flavor, root_token=args.root_token, active_address=args.active_address,
                openai_store=store)
    pipeline = Pipeline(core, _mount_builtins(core))
    try:
        vault_srv = make_server("vault", host, port, core, pipeline=pipeline, tls_context=tls)
        openai_srv = make_server("openai", ohost, oport, core)
    except OSError as e:
        print(f"devvault: Failed to listen on '{args.listen}': {e}", file=sys.stderr)
        return 1
    vault_srv.log_requests = args.log_requests
    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if args.exit_with_parent and not _exit_with_parent(p, stop):
        return 1
    serve_in_thread(vault_srv, "devvault-vault")
    serve_in_thread(openai_srv, "devvault-openai")
    print(f"devvault ready vault={_url('https' if tls else 'http', vault_srv)} openai={_url('http', openai_srv)} "
          f"root_token={core.root_token}", flush=True)
    while not stop.wait(0.5):
        pass
    core.stop_event.set()
    vault_srv.shutdown()
    openai_srv.shutdown()
    vault_srv.server_close()
    openai_srv.server_close()
    return 0
