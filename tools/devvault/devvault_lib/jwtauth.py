# SPDX-License-Identifier: Apache-2.0
# The JWT auth method (vault-plugin-auth-jwt as built on hashicorp/cap and go-oidc): config, roles and
# login with the plugin's validation order, key-set caching and error strings.
import base64
import json
import re
import ssl
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, ed448, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm, get_default_algorithms

from .backend import require_ops
from .records import AuthSpec, Response
from .framework import FrameworkBackend
from .wire import (DurationError, addr_in_cidrs, comma_list, internal_error, parse_duration, to_bool, to_int,
                   sanitize_policies, unsupported_path, user_error, PERMISSION_DENIED_PLAIN)

ALL_ALGS = ["RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512", "EdDSA"]
_ALG_IMPL = get_default_algorithms()
_EC_CURVES = {"ES256": "secp256r1", "ES384": "secp384r1", "ES512": "secp521r1"}
FETCH_TIMEOUT_S = 10
MAX_DOC_BYTES = 1 << 20
DEFAULT_CLOCK_SKEW = 60
DEFAULT_EXP_LEEWAY = 150
DEFAULT_NBF_LEEWAY = 150


class KeySetError(Exception):
    pass


def _b64d(s):
    s = s.encode() if isinstance(s, str) else s
    return base64.urlsafe_b64decode(s + b"=" * (-len(s) % 4))


class ParsedJWS:
    def __init__(self, token):
        parts = token.split(".")
        if len(parts) != 3:
            raise ValueError("go-jose/go-jose: compact JWS format must have three parts")
        try:
            self.header = json.loads(_b64d(parts[0]))
            self.payload = _b64d(parts[1])
            self.signature = _b64d(parts[2])
        except (ValueError, UnicodeDecodeError) as e:
            raise ValueError(f"go-jose/go-jose: {e}")
        if not isinstance(self.header, dict):
            raise ValueError("go-jose/go-jose: invalid protected header")
        self.alg = self.header.get("alg", "")
        self.kid = self.header.get("kid", "") or ""
        self.signing_input = (parts[0] + "." + parts[1]).encode()


def _verify(key, jws):
    alg = jws.alg
    if alg not in ALL_ALGS:
        return False
    if alg.startswith(("RS", "PS")) and not isinstance(key, rsa.RSAPublicKey):
        return False
    if alg.startswith("ES"):
        if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != _EC_CURVES[alg]:
            return False
    if alg == "EdDSA" and not isinstance(key, (ed25519.Ed25519PublicKey, ed448.Ed448PublicKey)):
        return False
    try:
        return bool(_ALG_IMPL[alg].verify(jws.signing_input, key, jws.signature))
    except Exception:
        return False


def _public(key):
    return key.public_key() if hasattr(key, "public_key") and not hasattr(key, "verify") else key


def jwk_to_key(jwk):
    kty = jwk.get("kty")
    raw = json.dumps(jwk)
    if kty == "RSA":
        k = RSAAlgorithm.from_jwk(raw)
    elif kty == "EC":
        k = ECAlgorithm.from_jwk(raw)
    elif kty == "OKP":
        k = OKPAlgorithm.from_jwk(raw)
    else:
        raise ValueError(f"unknown json web key type '{kty}'")
    return _public(k)


def _ssl_context(ca_pem):
    if not ca_pem:
        return None
    return ssl.create_default_context(cadata=ca_pem)


def http_get(url, ca_pem):
    """Returns (status, reason, body bytes); raises OSError-family errors on connection failure."""
    req = urllib.request.Request(url, headers={"Accept": "application/json", "User-Agent": "Go-http-client/1.1"})
    handlers = [urllib.request.HTTPSHandler(context=_ssl_context(ca_pem))]
    host = urllib.parse.urlsplit(url).hostname or ""
    if host == "localhost" or host == "::1" or host.startswith("127."):
        # Like Go's ProxyFromEnvironment: loopback is never sent through a proxy.
        handlers.append(urllib.request.ProxyHandler({}))
    opener = urllib.request.build_opener(*handlers)
    try:
        with opener.open(req, timeout=FETCH_TIMEOUT_S) as r:
            return r.status, r.reason, r.read(MAX_DOC_BYTES)
    except urllib.error.HTTPError as e:
        return e.code, e.reason, e.read(MAX_DOC_BYTES)


class RemoteKeySet:
    """go-oidc RemoteKeySet: keys cached until a verification misses, no TTL; one shared fetch."""

    def __init__(self, url, ca_pem):
        self.url = url
        self.ca_pem = ca_pem
        self.keys = []
        self.fetch_lock = threading.Lock()
        self.generation = 0

    def _fetch(self):
        try:
            status, reason, body = http_get(self.url, self.ca_pem)
        except (OSError, ValueError) as e:
            raise KeySetError(f'oidc: get keys failed Get "{self.url}": {getattr(e, "reason", e)}')
        if status != 200:
            raise KeySetError(f"oidc: get keys failed: {status} {reason} {body.decode('utf-8', 'replace')}")
        try:
            doc = json.loads(body)
            raw_keys = doc.get("keys", [])
            if not isinstance(raw_keys, list):
                raise ValueError("keys is not an array")
        except (ValueError, AttributeError) as e:
            raise KeySetError(f"oidc: failed to decode keys: {e} {body.decode('utf-8', 'replace')}")
        keys = []
        for jwk in raw_keys:
            try:
                keys.append((jwk.get("kid", "") or "", jwk_to_key(jwk)))
            except Exception:
                continue
        return keys

    def refresh(self, seen_generation):
        with self.fetch_lock:
            if self.generation != seen_generation:
                return self.keys
            keys = self._fetch()
            self.keys = keys
            self.generation += 1
            return keys

    def verify(self, token):
        try:
            jws = ParsedJWS(token)
        except ValueError as e:
            raise KeySetError(f"oidc: malformed jwt: {e}")
        gen = self.generation
        for kid, key in list(self.keys):
            if (jws.kid == "" or kid == jws.kid) and _verify(key, jws):
                return jws
        try:
            keys = self.refresh(gen)
        except KeySetError as e:
            raise KeySetError(f"fetching keys {e}")
        for kid, key in keys:
            if (jws.kid == "" or kid == jws.kid) and _verify(key, jws):
                return jws
        raise KeySetError("failed to verify id token signature")


class StaticKeySet:
    def __init__(self, keys):
        self.keys = keys

    def verify(self, token):
        try:
            jws = ParsedJWS(token)
        except ValueError as e:
            raise KeySetError(f"error parsing token: {e}")
        for key in self.keys:
            if _verify(key, jws):
                return jws
        raise KeySetError("no known key successfully validated the token signature")


def parse_pem_public_key(pem):
    data = pem.strip().encode()
    try:
        return serialization.load_pem_public_key(data)
    except Exception:
        pass
    try:
        return x509.load_pem_x509_certificate(data).public_key()
    except Exception:
        raise ValueError("data does not contain any valid public keys")


def fetch_discovery(url, ca_pem):
    """Returns the jwks_uri of the provider; the document's issuer must equal the configured URL."""
    well_known = url.rstrip("/") + "/.well-known/openid-configuration"
    try:
        status, reason, body = http_get(well_known, ca_pem)
    except (OSError, ValueError) as e:
        raise KeySetError(f'Get "{well_known}": {getattr(e, "reason", e)}')
    if status != 200:
        raise KeySetError(f"{status} {reason}: {body.decode('utf-8', 'replace')}")
    try:
        doc = json.loads(body)
    except ValueError as e:
        raise KeySetError(f"oidc: failed to decode provider discovery object: {e}")
    issuer = doc.get("issuer", "") if isinstance(doc, dict) else ""
    if issuer != url:
        raise KeySetError(f"issuer did not match the returned issuer, expected {json.dumps(url)} got {json.dumps(issuer)}")
    return doc.get("jwks_uri", "")


def get_claim(claims, name):
    if name.startswith("/"):
        cur = claims
        for part in name.split("/")[1:]:
            part = part.replace("~1", "/").replace("~0", "~")
            if isinstance(cur, dict) and part in cur:
                cur = cur[part]
            elif isinstance(cur, list) and part.isdigit() and int(part) < len(cur):
                cur = cur[int(part)]
            else:
                return None
        return cur
    return claims.get(name)


def _glob(pattern, s):
    if pattern == "*" or pattern == "":
        return pattern == s or pattern == "*"
    parts = pattern.split("*")
    if len(parts) == 1:
        return pattern == s
    if not s.startswith(parts[0]):
        return False
    pos = len(parts[0])
    for mid in parts[1:-1]:
        idx = s.find(mid, pos)
        if idx < 0:
            return False
        pos = idx + len(mid)
    return s.endswith(parts[-1]) and len(s) - len(parts[-1]) >= pos


def _normalize_list(v):
    if isinstance(v, str):
        return [v]
    if isinstance(v, list):
        out = []
        for x in v:
            if isinstance(x, bool):
                out.append("true" if x else "false")
            elif isinstance(x, (str, int, float)):
                out.append(str(x))
            else:
                return None
        return out
    if isinstance(v, bool):
        return ["true" if v else "false"]
    if isinstance(v, (int, float)):
        return [str(v)]
    return None


def validate_bound_claims(bound_type, bound, claims):
    for claim, expected in bound.items():
        actual = get_claim(claims, claim)
        if actual is None:
            raise ValueError(f'claim "{claim}" is missing')
        act = _normalize_list(actual)
        if act is None:
            raise ValueError(f"received claim is not a string or list: {actual}")
        exp = _normalize_list(expected)
        if exp is None:
            raise ValueError(f"bound claim is not a string or list: {expected}")
        found = any((_glob(e, a) if bound_type == "glob" else e == a) for e in exp for a in act)
        if not found:
            raise ValueError(f'claim "{claim}" does not match any associated bound claim values')


def _numeric(claims, name):
    v = claims.get(name)
    if v is None:
        return 0
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ValueError(f"go-jose/go-jose/jwt: expected number for numeric date in claim {name}")
    return int(v)


def validate_claims(jws, claims, expected_algs, bound_issuer, bound_subject, bound_audiences,
                    clock_skew, exp_leeway, nbf_leeway, now):
    """cap jwt Validator.validateAll after the signature check, in its order."""
    if jws.alg not in expected_algs:
        raise ValueError("invalid algorithm (alg) header parameter: token signed with unexpected algorithm")
    if bound_issuer and claims.get("iss") != bound_issuer:
        raise ValueError("invalid issuer (iss) claim")
    if bound_subject and claims.get("sub") != bound_subject:
        raise ValueError("invalid subject (sub) claim")
    if bound_audiences:
        aud = claims.get("aud")
        auds = [aud] if isinstance(aud, str) else (aud if isinstance(aud, list) else [])
        if not any(a in auds for a in bound_audiences):
            raise ValueError("invalid audience (aud) claim: audience claim does not match any expected audience")
    iat, nbf, exp = _numeric(claims, "iat"), _numeric(claims, "nbf"), _numeric(claims, "exp")
    if iat == 0 and nbf == 0 and exp == 0:
        raise ValueError("no issued at (iat), not before (nbf), or expiration time (exp) claims in token")
    exp_l = DEFAULT_EXP_LEEWAY if exp_leeway == 0 else max(exp_leeway, 0)
    nbf_l = DEFAULT_NBF_LEEWAY if nbf_leeway == 0 else max(nbf_leeway, 0)
    skew = DEFAULT_CLOCK_SKEW if clock_skew == 0 else max(clock_skew, 0)
    if exp == 0:
        exp = max(iat, nbf) + exp_l
    if nbf == 0:
        nbf = iat if iat != 0 else exp - nbf_l
    if now + skew < nbf:
        raise ValueError("invalid not before (nbf) claim: token not yet valid")
    if now - skew > exp:
        raise ValueError("invalid expiration time (exp) claim: token is expired")
    if iat != 0 and now + skew < iat:
        raise ValueError("invalid issued at (iat) claim: token issued in the future")


TOKEN_TYPES = {"service": "service", "batch": "batch", "default-service": "service", "default-batch": "batch",
               "default": "service", "": "service"}


class JWTBackend(FrameworkBackend):
    type_name = "jwt"

    role_folder = "role"

    def __init__(self, core):
        super().__init__(core)
        self.validator = None
        self.validator_lock = threading.Lock()

    def unauthenticated(self, req):
        return req.subpath == "login"

    def handle_other(self, req, subpath):
        if subpath == "login":
            require_ops(req, "update")
            return self.login(req)
        raise unsupported_path()

    # ---- config ---------------------------------------------------------------------------------
    def config_op(self, req):
        if req.op == "read":
            return self.read_config(lambda c: {
                "bound_issuer": c["bound_issuer"], "default_role": c["default_role"], "jwks_ca_pem": c["jwks_ca_pem"],
                "jwks_url": c["jwks_url"], "jwt_supported_algs": c["jwt_supported_algs"],
                "jwt_validation_pubkeys": c["jwt_validation_pubkeys"], "namespace_in_state": False,
                "oidc_client_id": c["oidc_client_id"], "oidc_discovery_ca_pem": c["oidc_discovery_ca_pem"],
                "oidc_discovery_url": c["oidc_discovery_url"], "oidc_response_mode": "", "oidc_response_types": [],
                "provider_config": {}})
        require_ops(req, "update")
        d = req.data
        c = {
            "oidc_discovery_url": str(d.get("oidc_discovery_url", "") or ""),
            "oidc_discovery_ca_pem": str(d.get("oidc_discovery_ca_pem", "") or ""),
            "oidc_client_id": str(d.get("oidc_client_id", "") or ""),
            "jwks_url": str(d.get("jwks_url", "") or ""),
            "jwks_ca_pem": str(d.get("jwks_ca_pem", "") or ""),
            "jwt_validation_pubkeys": comma_list(d.get("jwt_validation_pubkeys")),
            "jwt_supported_algs": comma_list(d.get("jwt_supported_algs")),
            "bound_issuer": str(d.get("bound_issuer", "") or ""),
            "default_role": str(d.get("default_role", "") or "").lower(),
            "skip_jwks_validation": to_bool(d.get("skip_jwks_validation", False), "skip_jwks_validation"),
        }
        n = sum(1 for k in ("oidc_discovery_url", "jwks_url") if c[k]) + (1 if c["jwt_validation_pubkeys"] else 0)
        if n != 1:
            if self.core.flavor == "vault":
                raise user_error("exactly one of 'jwt_validation_pubkeys', 'jwks_url', 'jwks_pairs' or "
                                 "'oidc_discovery_url' must be set")
            raise user_error("exactly one of 'jwt_validation_pubkeys', 'jwks_url' or 'oidc_discovery_url' must be set")
        if c["jwks_url"] and c["jwks_ca_pem"]:
            try:
                ssl.create_default_context(cadata=c["jwks_ca_pem"])
            except (ssl.SSLError, ValueError):
                raise user_error("error checking jwks_ca_pem")
        if c["oidc_discovery_url"] and c["oidc_discovery_ca_pem"]:
            try:
                ssl.create_default_context(cadata=c["oidc_discovery_ca_pem"])
            except (ssl.SSLError, ValueError):
                raise user_error("error checking oidc discovery URL")
        if c["oidc_discovery_url"]:
            try:
                fetch_discovery(c["oidc_discovery_url"], c["oidc_discovery_ca_pem"])
            except KeySetError:
                raise user_error("error checking oidc discovery URL")
        elif c["jwks_url"]:
            if not (self.core.flavor == "openbao" and c["skip_jwks_validation"]):
                ks = RemoteKeySet(c["jwks_url"], c["jwks_ca_pem"])
                try:
                    ks.verify(_DUMMY_RS256_JWT)
                except KeySetError as e:
                    if str(e) != "failed to verify id token signature":
                        # HashiCorp names the URL; OpenBao's path_config.go answers without it.
                        if self.core.flavor == "vault":
                            raise user_error(f"error checking jwks URL {c['jwks_url']}")
                        raise user_error("error checking jwks URL")
        else:
            keys = []
            for pem in c["jwt_validation_pubkeys"]:
                try:
                    keys.append(parse_pem_public_key(pem))
                except ValueError as e:
                    raise user_error(f"error parsing public key: {e}")
        for alg in c["jwt_supported_algs"]:
            if alg not in ALL_ALGS:
                raise user_error(f'invalid jwt_supported_algs: unsupported signing algorithm "{alg}"')
        with self.core.lock:
            self.config = c
        with self.validator_lock:
            self.validator = None
        return None

    def _get_validator(self, c):
        # Built once per config and shared, like the plugin's cached validator; concurrent first
        # logins wait for one build (one discovery fetch) instead of racing.
        with self.validator_lock:
            if self.validator is not None and self.validator[0] is c:
                return self.validator[1]
            if c["jwt_validation_pubkeys"]:
                ks = StaticKeySet([parse_pem_public_key(p) for p in c["jwt_validation_pubkeys"]])
            elif c["jwks_url"]:
                ks = RemoteKeySet(c["jwks_url"], c["jwks_ca_pem"])
            else:
                jwks_uri = fetch_discovery(c["oidc_discovery_url"], c["oidc_discovery_ca_pem"])
                ks = RemoteKeySet(jwks_uri, c["oidc_discovery_ca_pem"])
            if self.config is c:
                self.validator = (c, ks)
            return ks

    # ---- roles ----------------------------------------------------------------------------------
    def role_view(self, role):
        out = dict(role)
        out.pop("token_type_resolved", None)
        return out

    def update_role(self, req, existing):
        r = dict(existing) if existing else {
            "role_type": "oidc", "user_claim": "", "user_claim_json_pointer": False, "bound_subject": "",
            "bound_audiences": [], "bound_claims": None, "bound_claims_type": "string", "claim_mappings": None,
            "groups_claim": "", "clock_skew_leeway": 0, "expiration_leeway": 0, "not_before_leeway": 0,
            "allowed_redirect_uris": [], "oidc_scopes": [], "verbose_oidc_logging": False,
            "token_policies": [], "policies": [], "token_ttl": 0, "ttl": 0, "token_max_ttl": 0, "max_ttl": 0,
            "token_num_uses": 0, "num_uses": 0, "token_period": 0, "period": 0, "token_type": "default-service",
            "token_bound_cidrs": [], "bound_cidrs": [], "token_explicit_max_ttl": 0, "token_no_default_policy": False,
            "max_age": 0, "user_claim_json_pointer": False}
        d = req.data
        try:
            if "role_type" in d:
                rt = str(d["role_type"]) or "oidc"
                if rt not in ("oidc", "jwt"):
                    raise user_error(f"invalid 'role_type': {d['role_type']}")
                r["role_type"] = rt
            pol = d.get("token_policies", d.get("policies"))
            if pol is not None:
                r["token_policies"] = comma_list(pol)
                r["policies"] = list(r["token_policies"])
            for field, legacy in (("token_ttl", "ttl"), ("token_max_ttl", "max_ttl"), ("token_period", "period"),
                                  ("token_explicit_max_ttl", None)):
                v = d.get(field, d.get(legacy) if legacy else None)
                if v is not None:
                    r[field] = parse_duration(v, field)
                    if legacy:
                        r[legacy] = r[field]
            nu = d.get("token_num_uses", d.get("num_uses"))
            if nu is not None:
                r["token_num_uses"] = to_int(nu, "token_num_uses")
                r["num_uses"] = r["token_num_uses"]
                if r["token_num_uses"] < 0:
                    raise user_error("'token_num_uses' cannot be negative")
            if "token_type" in d:
                tt = str(d["token_type"]).lower()
                if tt not in TOKEN_TYPES:
                    raise user_error(f"invalid 'token_type' value {tt!r}")
                r["token_type"] = tt or "default-service"
            cidrs = d.get("token_bound_cidrs", d.get("bound_cidrs"))
            if cidrs is not None:
                r["token_bound_cidrs"] = comma_list(cidrs)
                r["bound_cidrs"] = list(r["token_bound_cidrs"])
            if "token_no_default_policy" in d:
                r["token_no_default_policy"] = to_bool(d["token_no_default_policy"], "token_no_default_policy")
            if TOKEN_TYPES[r["token_type"]] == "batch" and r["token_num_uses"] > 0:
                raise user_error("'token_type' cannot be 'batch' or 'default_batch' when set to generate tokens "
                                 "with limited use count")
            if r["token_max_ttl"] > 0 and r["token_ttl"] > r["token_max_ttl"]:
                raise user_error("'token_ttl' cannot be greater than 'token_max_ttl'")
            for field in ("clock_skew_leeway", "expiration_leeway", "not_before_leeway", "max_age"):
                if field in d:
                    r[field] = parse_duration(d[field], field)
        except DurationError as e:
            raise user_error(str(e))
        if "bound_audiences" in d:
            r["bound_audiences"] = comma_list(d["bound_audiences"])
        if "bound_subject" in d:
            r["bound_subject"] = str(d["bound_subject"])
        if "bound_claims_type" in d:
            bct = str(d["bound_claims_type"])
            if bct not in ("string", "glob"):
                raise user_error(f"invalid 'bound_claims_type': {bct!r}")
            r["bound_claims_type"] = bct
        if "bound_claims" in d:
            bc = d["bound_claims"]
            if isinstance(bc, str):
                try:
                    bc = json.loads(bc) if bc.strip() else {}
                except ValueError:
                    raise user_error("bound_claims must be a map")
            if bc is not None and not isinstance(bc, dict):
                raise user_error("bound_claims must be a map")
            if bc:
                for k, v in bc.items():
                    if _normalize_list(v) is None:
                        raise user_error(f"claim is not a string or list: {v}")
            r["bound_claims"] = bc or None
        if "claim_mappings" in d:
            cm = d["claim_mappings"] or {}
            if not isinstance(cm, dict):
                raise user_error("claim_mappings must be a map")
            targets = set()
            for k, v in cm.items():
                if v == "role":
                    raise user_error('metadata key "role" is reserved and may not be set via \'claim_mappings\'')
                if v in targets:
                    raise user_error(f'multiple keys are mapped to metadata key "{v}"')
                targets.add(v)
            r["claim_mappings"] = cm or None
        for f in ("user_claim", "groups_claim"):
            if f in d:
                r[f] = str(d[f])
        if "user_claim_json_pointer" in d:
            r["user_claim_json_pointer"] = to_bool(d["user_claim_json_pointer"], "user_claim_json_pointer")
        if "allowed_redirect_uris" in d:
            r["allowed_redirect_uris"] = comma_list(d["allowed_redirect_uris"])
        if r["user_claim"] == "":
            raise user_error("a user claim must be defined on the role")
        if r["role_type"] != "oidc":
            if not (r["bound_audiences"] or r["token_bound_cidrs"] or r["bound_subject"] or r["bound_claims"]):
                raise user_error("must have at least one bound constraint when creating/updating a role")
        if r["role_type"] == "oidc" and not r["allowed_redirect_uris"]:
            raise user_error("'allowed_redirect_uris' must be set if 'role_type' is 'oidc' or unspecified.")
        return r

    # ---- login ----------------------------------------------------------------------------------
    def login(self, req):
        d = req.data
        with self.core.lock:
            c = self.config
            if c is None:
                raise user_error("could not load configuration")
            name = str(d.get("role", "") or "").lower() or c["default_role"]
            if name == "":
                raise user_error("missing role")
            role = self.roles.get(name)
            if role is None:
                raise user_error(f'role "{name}" could not be found')
            role = dict(role)
        if role["role_type"] == "oidc":
            raise user_error("role with oidc role_type is not allowed")
        token = str(d.get("jwt", "") or "")
        if token == "":
            raise user_error("missing token")
        if role["token_bound_cidrs"]:
            if not addr_in_cidrs(req.remote_addr, role["token_bound_cidrs"]):
                raise PERMISSION_DENIED_PLAIN
        try:
            validator = self._get_validator(c)
        except (KeySetError, ValueError) as e:
            raise user_error(f"error configuring token validator: {e}")
        try:
            jws = validator.verify(token)
        except KeySetError as e:
            raise user_error(f"error validating token: error verifying token signature: {e}")
        try:
            claims = json.loads(jws.payload)
            if not isinstance(claims, dict):
                raise ValueError("claims are not a JSON object")
        except ValueError as e:
            raise user_error(f"error validating token: error unmarshaling claims: {e}")
        try:
            validate_claims(jws, claims, c["jwt_supported_algs"] or ALL_ALGS, c["bound_issuer"], role["bound_subject"],
                            role["bound_audiences"], role["clock_skew_leeway"], role["expiration_leeway"],
                            role["not_before_leeway"], time.time())
        except ValueError as e:
            raise user_error(f"error validating token: {e}")
        if not role["bound_audiences"]:
            aud = claims.get("aud")
            if self.core.flavor == "vault":
                if (isinstance(aud, str) and aud) or (isinstance(aud, list) and aud):
                    raise user_error("audience claim found in JWT but no audiences bound to the role")
            elif isinstance(aud, list) and aud:
                raise user_error("audience claim found in JWT but no audiences bound to the role")
        uc = role["user_claim"]
        raw = get_claim(claims, uc) if role["user_claim_json_pointer"] else claims.get(uc)
        if raw is None:
            raise user_error(f'claim "{uc}" not found in token')
        if not isinstance(raw, str):
            raise user_error(f'claim "{uc}" could not be converted to string')
        metadata = {"role": name}
        for claim, target in (role["claim_mappings"] or {}).items():
            v = get_claim(claims, claim)
            if isinstance(v, bool):
                metadata[target] = "true" if v else "false"
            elif isinstance(v, (str, int, float)):
                metadata[target] = str(v)
        if role["groups_claim"]:
            groups = get_claim(claims, role["groups_claim"])
            if groups is None:
                raise user_error(f'"{role["groups_claim"]}" claim not found in token')
            if isinstance(groups, str):
                groups = [groups]
            if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
                raise user_error(f'"{role["groups_claim"]}" claim could not be converted to string list')
        if role["bound_claims"]:
            try:
                validate_bound_claims(role["bound_claims_type"], role["bound_claims"], claims)
            except ValueError as e:
                raise user_error(f"error validating claims: {e}")
        mount_name = self.mount.path[len("auth/"):].rstrip("/") if self.mount else "jwt"
        display = re.sub(r"[^a-zA-Z0-9-]", "-", f"{mount_name}-{raw}")
        policies = list(role["token_policies"])

        def renew():
            with self.core.lock:
                cur = self.roles.get(name)
            if cur is None:
                raise internal_error(f"role {name} does not exist during renewal")
            if sanitize_policies(cur["token_policies"], False) != sanitize_policies(policies, False):
                raise internal_error("policies have changed, not renewing")
            return cur["token_ttl"], cur["token_max_ttl"], cur["token_period"]

        spec = AuthSpec(policies=policies, metadata=metadata, display_name=display, ttl=role["token_ttl"],
                        max_ttl=role["token_max_ttl"], explicit_max_ttl=role["token_explicit_max_ttl"],
                        period=role["token_period"], num_uses=role["token_num_uses"],
                        token_type=TOKEN_TYPES[role["token_type"]], no_default_policy=role["token_no_default_policy"],
                        bound_cidrs=role["token_bound_cidrs"], alias=raw, renew=renew,
                        mount_accessor=self.mount.accessor if self.mount else "")
        return Response(auth=spec)


# The fixed RS256 token the plugin verifies against a JWKS URL at config time: any answer other than a
# signature mismatch means the URL does not serve a usable key set.
_DUMMY_RS256_JWT = ("eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJkdW1teSJ9."
                    "c2lnbmF0dXJlLW9mLXRoZS1kdW1teS10b2tlbg")
