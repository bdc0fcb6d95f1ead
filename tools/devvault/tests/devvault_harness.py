# SPDX-License-Identifier: Apache-2.0
# Test harness: starts real devvault processes and a loopback identity provider (OIDC discovery and
# JWKS, optionally over TLS), signs JWTs with generated keys and speaks plain HTTP to both.
import base64
import datetime
import ipaddress
import json
import os
import ssl
import sys
import tempfile
import threading
import time
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

try:
    import jwt
    from cryptography import x509
except ImportError as e:  # the server needs the same packages, so nothing here can run
    sys.stderr.write(f"devvault tests: cannot run without python3-jwt and python3-cryptography ({e}); "
                     "install them with tools/scripts/install-deps\n")
    sys.stderr.flush()
    os._exit(1 if os.environ.get("CREDGATE_REQUIRE_ALL_TESTS") == "1" else 77)

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID
from jwt.algorithms import OKPAlgorithm, RSAAlgorithm

from devvault_client import DEVVAULT, ORG, PROJECT, request, seed_role  # noqa: F401 (for the tests)
from devvault_client import DevVault as DevVaultProcess
from devvault_client import configure_seed as configure_seed_role

SPIFFE_ID = "spiffe://example.org/ns/agents/sa/ai-agent"


class DevVault(DevVaultProcess):
    """One devvault process on 127.0.0.1 port 0, and its OpenAI stand-in."""

    def openai_call(self, method, path, key=None, headers=None, body=None):
        h = dict(headers or {})
        if key is not None:
            h["Authorization"] = f"Bearer {key}"
        return request(self.openai + path, method, json.dumps(body).encode() if body is not None else None, h)


def err(*msgs):
    """The exact error body Vault writes."""
    return (json.dumps({"errors": list(msgs)}, separators=(",", ":")) + "\n").encode()


# ---- keys and tokens -----------------------------------------------------------------------------
def ec_jwk(public_key):
    """The JWK of an EC public key with x and y at the full size of the curve (RFC 7518 section 6.2.1.2).

    python3-jwt's ECAlgorithm.to_jwk before 2.10 (Debian 12 ships 2.6) drops their leading zero bytes, so
    about one P-256 key in 128 got a 31-byte coordinate, which go-jose (and devvault with it) rejects: the key
    is unusable and every login signed with it fails with "failed to verify id token signature".
    """
    n = public_key.public_numbers()
    size = (public_key.curve.key_size + 7) // 8
    crv = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}[public_key.curve.name]
    b64 = lambda v: base64.urlsafe_b64encode(v.to_bytes(size, "big")).rstrip(b"=").decode()
    return {"kty": "EC", "crv": crv, "x": b64(n.x), "y": b64(n.y)}


class Key:
    def __init__(self, kind, kid):
        self.kind = kind
        self.kid = kid
        if kind == "ES256":
            self.private = ec.generate_private_key(ec.SECP256R1())
            jwk = ec_jwk(self.private.public_key())
        elif kind == "RS256":
            self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            jwk = json.loads(RSAAlgorithm.to_jwk(self.private.public_key()))
        elif kind == "EdDSA":
            self.private = ed25519.Ed25519PrivateKey.generate()
            jwk = json.loads(OKPAlgorithm.to_jwk(self.private.public_key()))
        else:
            raise ValueError(kind)
        jwk["kid"] = kid
        jwk["use"] = "sig"
        self.jwk = jwk
        self.public_pem = self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()

    def sign(self, claims, kid=True, alg=None):
        headers = {"kid": self.kid} if kid is True else ({"kid": kid} if kid else {})
        return jwt.encode(claims, self.private, algorithm=alg or self.kind, headers=headers)


def claims(issuer, **over):
    now = int(time.time())
    c = {"iss": issuer, "sub": SPIFFE_ID, "aud": "vault", "iat": now, "nbf": now, "exp": now + 300}
    for k, v in over.items():
        if v is None:
            c.pop(k, None)
        else:
            c[k] = v
    return c


# ---- TLS material --------------------------------------------------------------------------------
class TLSMaterial:
    """A CA and a server certificate for 127.0.0.1, written to a temp dir."""

    def __init__(self):
        self.dir = tempfile.TemporaryDirectory()
        now = datetime.datetime.now(datetime.timezone.utc)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "devvault test CA")])
        ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
              .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
              .not_valid_after(now + datetime.timedelta(days=1))
              .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
              .sign(ca_key, hashes.SHA256()))
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
                .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
                .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                               critical=False)
                .sign(ca_key, hashes.SHA256()))
        self.ca_pem = ca.public_bytes(serialization.Encoding.PEM).decode()
        self.cert_file = os.path.join(self.dir.name, "cert.pem")
        self.key_file = os.path.join(self.dir.name, "key.pem")
        with open(self.cert_file, "wb") as f:
            f.write(cert.public_bytes(serialization.Encoding.PEM))
        with open(self.key_file, "wb") as f:
            f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))

    def server_context(self):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.cert_file, self.key_file)
        return ctx

    def client_context(self):
        return ssl.create_default_context(cadata=self.ca_pem)


# ---- identity provider ---------------------------------------------------------------------------
class IdP:
    """Serves /.well-known/openid-configuration and /jwks on loopback and counts the GETs."""

    def __init__(self, keys, tls=None):
        self.keys = list(keys)
        self.counts = {"discovery": 0, "jwks": 0}
        self.lock = threading.Lock()
        self.jwks_status = 200
        self.issuer_override = None
        self.delay_s = 0.0
        idp = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_GET(self):
                if idp.delay_s:
                    time.sleep(idp.delay_s)
                if self.path == "/.well-known/openid-configuration":
                    with idp.lock:
                        idp.counts["discovery"] += 1
                    doc = {"issuer": idp.issuer_override or idp.issuer, "jwks_uri": idp.issuer + "/jwks",
                           "id_token_signing_alg_values_supported": ["ES256", "RS256", "EdDSA"],
                           "response_types_supported": ["id_token"], "subject_types_supported": ["public"]}
                    return self.reply(200, doc)
                if self.path == "/jwks":
                    with idp.lock:
                        idp.counts["jwks"] += 1
                        keys = [k.jwk for k in idp.keys]
                        status = idp.jwks_status
                    if status != 200:
                        return self.reply(status, {"error": "unavailable"})
                    return self.reply(200, {"keys": keys})
                self.reply(404, {"error": "not found"})

            def reply(self, status, doc):
                body = json.dumps(doc).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        scheme = "http"
        if tls is not None:
            ctx = tls.server_context()
            self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
            scheme = "https"
        self.issuer = f"{scheme}://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def count(self, what):
        with self.lock:
            return self.counts[what]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


# ---- the seed scenario ---------------------------------------------------------------------------
def configure_seed(dv, jwt_config, role_overrides=None, auth_path="jwt", openai_path="openai"):
    """The operator steps of the seed scenario, over the HTTP API with the root token."""
    configure_seed_role(dv, jwt_config, seed_role(SPIFFE_ID, **{"token_num_uses": 2, **(role_overrides or {})}),
                        auth_path=auth_path, openai_path=openai_path)


def login(dv, token, role="openai-apikeys", auth_path="jwt"):
    return dv.call("POST", f"auth/{auth_path}/login", {"role": role, "jwt": token})


def login_token(dv, token, role="openai-apikeys", auth_path="jwt"):
    status, _, body = login(dv, token, role, auth_path)
    if status != 200:
        raise AssertionError(f"login failed: {status} {body!r}")
    return json.loads(body)["auth"]["client_token"]


class DevVaultTestCase(unittest.TestCase):
    """Starts one devvault per test class; tests use distinct mounts where they share it."""
    flavor = "openbao"
    extra_args = ()

    @classmethod
    def setUpClass(cls):
        cls.dv = DevVault(*cls.extra_args, flavor=cls.flavor)

    @classmethod
    def tearDownClass(cls):
        rc = cls.dv.stop()
        assert rc == 0, f"devvault exited with {rc}"

    def assertBody(self, result, status, body):
        self.assertEqual((result[0], result[2]), (status, body))

    def assertLogsIn(self, dv, token, role="openai-apikeys", auth_path="jwt"):
        """A JWT login answers 200; on failure the message is the body, which says why."""
        status, _, body = login(dv, token, role, auth_path)
        self.assertEqual(status, 200, body)
        return json.loads(body)

    def wait_until(self, predicate, timeout=3.0, what="condition"):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(0.02)
        self.fail(f"timed out waiting for {what}")
