# SPDX-License-Identifier: Apache-2.0
# Wire-level helpers shared by every endpoint: Go json.Encoder output, error envelopes, durations,
# identifiers and timestamps as Vault/OpenBao write them, and client address checks against CIDR lists.
import datetime
import ipaddress
import json
import re
import secrets
import string
import uuid

BASE62 = string.ascii_letters + string.digits
SYSTEM_DEFAULT_TTL = 768 * 3600  # 2764800 s, the system default and max TTL of a dev server
SYSTEM_MAX_TTL = 768 * 3600


class S(dict):
    """A Go struct: keys keep their insertion order. Plain dicts are Go maps and come out sorted."""


def _normalize(v):
    if isinstance(v, S):
        return {k: _normalize(x) for k, x in v.items()}
    if isinstance(v, dict):
        return {k: _normalize(v[k]) for k in sorted(v)}
    if isinstance(v, (list, tuple)):
        return [_normalize(x) for x in v]
    return v


def go_json(obj):
    """Bytes exactly as Go's json.Encoder writes them: HTML-safe escaping and a trailing newline."""
    text = json.dumps(_normalize(obj), separators=(",", ":"), ensure_ascii=False)
    text = (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))
    return (text + "\n").encode("utf-8")


def multierror(msgs):
    """hashicorp/go-multierror's string form."""
    n = len(msgs)
    head = "1 error occurred:\n" if n == 1 else f"{n} errors occurred:\n"
    return head + "".join(f"\t* {m}\n" for m in msgs) + "\n"


class VaultError(Exception):
    """An error response: status, the `errors` array and optional extra headers/data."""

    def __init__(self, status, errors, headers=None, data=None):
        super().__init__(f"{status}: {errors}")
        self.status = status
        self.errors = errors
        self.headers = headers or {}
        self.data = data


def user_error(msg, status=400):
    """logical.ErrorResponse(msg): 400 with the plain message."""
    return VaultError(status, [msg])


def internal_error(msg):
    """A Go error returned by a backend: 500 with the multierror form."""
    return VaultError(500, [multierror([msg])])


PERMISSION_DENIED_PLAIN = VaultError(403, ["permission denied"])


def acl_denied():
    return VaultError(403, [multierror(["permission denied"])])


def unsupported_path():
    return VaultError(404, [multierror(["unsupported path"])])


def unsupported_operation():
    return VaultError(405, [multierror(["unsupported operation"])])


def not_found():
    return VaultError(404, [])


def rand62(n=24):
    return "".join(secrets.choice(BASE62) for _ in range(n))


def rand_lower(n=8):
    alphabet = string.ascii_lowercase + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(n))


def new_uuid():
    return str(uuid.uuid4())


def rfc3339(ts):
    """Go's time.Time JSON form in UTC with nanoseconds trimmed of trailing zeros."""
    if ts is None:
        return None
    dt = datetime.datetime.fromtimestamp(ts, tz=datetime.timezone.utc)
    frac = f"{dt.microsecond:06d}000".rstrip("0")
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + (("." + frac) if frac else "") + "Z"


_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_DUR_RE = re.compile(r"([0-9]*\.?[0-9]+)(ns|us|µs|μs|ms|s|m|h)")


class DurationError(ValueError):
    pass


def parse_duration(v, field="duration"):
    """parseutil.ParseDurationSecond: numbers are seconds, strings are Go durations (plus `d`) or bare seconds."""
    if v is None or v == "":
        return 0
    if isinstance(v, bool):
        raise DurationError(f"error parsing {field}: invalid value {v!r}")
    if isinstance(v, (int, float)):
        return int(v)
    s = str(v).strip()
    if s == "":
        return 0
    if re.fullmatch(r"-?[0-9]+", s):
        return int(s)
    if re.fullmatch(r"-?[0-9]+d", s):
        return int(s[:-1]) * 86400
    neg = s.startswith("-")
    body = s[1:] if s[:1] in "+-" else s
    total = 0.0
    pos = 0
    while pos < len(body):
        m = _DUR_RE.match(body, pos)
        if not m:
            raise DurationError(f'time: invalid duration "{s}"')
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    if pos == 0:
        raise DurationError(f'time: invalid duration "{s}"')
    return int(-total if neg else total)


def go_duration(seconds):
    """time.Duration.String() for whole seconds."""
    if seconds == 0:
        return "0s"
    neg = seconds < 0
    seconds = abs(int(seconds))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    out = ""
    if h:
        out = f"{h}h{m}m{s}s"
    elif m:
        out = f"{m}m{s}s"
    else:
        out = f"{s}s"
    return ("-" if neg else "") + out


def human_duration(seconds):
    """Vault's sdk humanDuration: 1h0m0s -> 1h, 10m0s -> 10m."""
    if seconds == 0:
        return "0s"
    s = go_duration(seconds)
    if s.endswith("m0s"):
        s = s[:-2]
    idx = s.find("h0m")
    if idx > 0:
        s = s[: idx + 1] + s[idx + 3:]
    return s


def comma_list(v):
    """framework.TypeCommaStringSlice."""
    if v is None:
        return []
    if isinstance(v, (list, tuple)):
        out = []
        for x in v:
            out.extend(comma_list(x) if isinstance(x, str) else [str(x)])
        return out
    s = str(v)
    if s.strip() == "":
        return []
    return [p.strip() for p in s.split(",") if p.strip() != ""]


def to_bool(v, field):
    if isinstance(v, bool):
        return v
    if isinstance(v, (int, float)):
        return v != 0
    s = str(v).strip().lower()
    if s in ("1", "t", "true"):
        return True
    if s in ("0", "f", "false", ""):
        return False
    raise VaultError(400, [f"error converting input {v} for field \"{field}\": cannot parse '' as bool: strconv.ParseBool: parsing \"{v}\": invalid syntax"])


def to_int(v, field):
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        return int(v)
    try:
        return int(str(v).strip())
    except ValueError:
        raise VaultError(400, [f"error converting input {v} for field \"{field}\": strconv.ParseInt: parsing \"{v}\": invalid syntax"])


def sanitize_policies(policies, add_default=True):
    """policyutil.SanitizePolicies: trimmed, lowercased, de-duplicated, sorted, `default` added."""
    out = set()
    for p in policies:
        p = p.strip().lower()
        if p:
            out.add(p)
    if "root" in out:
        return ["root"]
    if add_default:
        out.add("default")
    return sorted(out)


def addr_in_cidrs(addr, cidrs):
    """True if the address `addr` lies in one of the networks `cidrs` (unparsable entries never match)."""
    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        return False
    for c in cidrs:
        try:
            if ip in ipaddress.ip_network(c, strict=False):
                return True
        except ValueError:
            continue
    return False
