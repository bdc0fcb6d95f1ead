#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# /metrics read by a real Prometheus text-format parser: every line parses, every family is declared
# once with its type, and the build, the issuer key's age and the audit verdicts are there (on this
# host, without BPF, the audit family is declared with no samples).
import os
import re
import subprocess
import time
import unittest

from harness import CREDGATED, IntegrationCase, skip_or_fail

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError as e:  # Debian: python3-prometheus-client
    text_string_to_metric_families = None
    IMPORT_ERROR = str(e)

BINDING = "vault-openai-apikeys-binding"

# Family name as the parser reports it (counters without "_total") -> type.
FAMILIES = {
    "credgate_build_info": "gauge",
    "credgate_enforcement_mode": "gauge",
    "credgate_issuer_key_age_seconds": "gauge",
    "credgate_audit_events": "counter",
    "credgate_bindings": "gauge",
    "credgate_binding_state": "gauge",
    "credgate_secret_expiry_seconds": "gauge",
    "credgate_vault_requests": "counter",
    "credgate_vault_logins": "counter",
    "credgate_vault_reads": "counter",
    "credgate_vault_renewals": "counter",
    "credgate_vault_revocations": "counter",
    "credgate_revocation_failures": "counter",
    "credgate_publishes": "counter",
    "credgate_refresh_failures": "counter",
    "credgate_tokens_pending_revocation": "gauge",
    "credgate_stopped_bindings_tokens_pending_revocation": "gauge",
    "credgate_last_error": "gauge",
}


def parse_strictly(text):
    """{family: (type, [samples])}, failing on anything the format does not allow: a line the parser
    refuses, a family declared twice, a sample outside its family, a timestamp, a repeated series."""
    families = {}
    for f in text_string_to_metric_families(text):
        if f.name in families:
            raise AssertionError(f"family {f.name} appears twice")
        families[f.name] = (f.type, f.samples)
    declared = re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M)
    if len(declared) != len({name for name, _ in declared}):
        raise AssertionError(f"a TYPE line is repeated: {declared}")
    sample_lines = [ln for ln in text.splitlines() if ln and not ln.startswith("#")]
    samples = [s for _, (_, ss) in families.items() for s in ss]
    if len(samples) != len(sample_lines):
        raise AssertionError(f"{len(sample_lines)} sample lines but {len(samples)} samples parsed")
    series = set()
    for name, (typ, ss) in families.items():
        for s in ss:
            expected = name + "_total" if typ == "counter" else name
            if s.name != expected:
                raise AssertionError(f"sample {s.name} in family {name} ({typ})")
            if s.timestamp is not None:
                raise AssertionError(f"sample {s.name} has a timestamp")
            key = (s.name, tuple(sorted(s.labels.items())))
            if key in series:
                raise AssertionError(f"series {key} appears twice")
            series.add(key)
    return families


class Metrics(IntegrationCase):
    def setUp(self):
        if text_string_to_metric_families is None:
            skip_or_fail(f"the /metrics test needs python3-prometheus-client: {IMPORT_ERROR}")
        super().setUp()

    def test_the_parser_refuses_what_the_exposition_must_never_contain(self):
        # The checks below can fail: a malformed line, a repeated family, a stray sample.
        good = "# HELP x_total X.\n# TYPE x_total counter\nx_total{binding=\"a\"} 1\n"
        parse_strictly(good)
        for bad in (good + "x_total{binding=\"a} 1\n",        # unterminated label value
                    good + "x_total{binding=\"b\"} one\n",      # not a number
                    good + "x_total{binding=\"a\"} 2\n",        # the same series twice
                    good + "# TYPE x_total counter\n",          # declared twice
                    good + "y 1\n",                             # a sample of no declared family
                    good + "x_total{binding=\"c\"} 1 1700000000\n"):  # a timestamp
            with self.assertRaises((ValueError, AssertionError), msg=bad):
                families = parse_strictly(bad)
                self.assertEqual(set(families), {"x"}, bad)

    def test_every_line_parses_and_every_family_has_its_type(self):
        node = self.seed_node()
        self.wait_state(node, "OK")
        text = node.metrics()
        families = parse_strictly(text)
        self.assertEqual({n: t for n, (t, _) in families.items()}, FAMILIES, text)

        def value(family, **labels):
            matches = [s.value for s in families[family][1] if s.labels == labels]
            self.assertEqual(len(matches), 1, f"{family}{labels} in:\n{text}")
            return matches[0]

        version = subprocess.run([CREDGATED, "--version"], capture_output=True, text=True, timeout=10).stdout.strip()
        build = families["credgate_build_info"][1]
        self.assertEqual(len(build), 1)
        self.assertEqual(build[0].value, 1)
        self.assertEqual(build[0].labels["version"], version)
        self.assertTrue(build[0].labels["revision"], "the revision is never empty")

        # No BPF LSM on this host: no kernel decisions, so the family is declared with no samples.
        self.assertEqual(families["credgate_audit_events"][1], [], text)
        self.assertIn("# TYPE credgate_audit_events_total counter\n", text)

        self.assertEqual(value("credgate_enforcement_mode", mode="insecure"), 1)
        self.assertEqual(value("credgate_bindings", state="OK"), 1)
        self.assertEqual(value("credgate_binding_state", binding=BINDING, state="OK"), 1)
        self.assertEqual(value("credgate_vault_logins", binding=BINDING), 1)
        self.assertEqual(value("credgate_publishes", binding=BINDING), 1)
        self.assertGreater(value("credgate_secret_expiry_seconds", binding=BINDING), 14 * 60)

        # The key was generated at start: its age is the daemon's, and it grows.
        age = value("credgate_issuer_key_age_seconds")
        self.assertGreaterEqual(age, 0)
        self.assertLess(age, 60)
        time.sleep(2.1)
        later = parse_strictly(node.metrics())["credgate_issuer_key_age_seconds"][1][0].value
        self.assertGreaterEqual(later, age + 2)

    def test_a_persisted_key_is_as_old_as_its_file(self):
        node = self.credgated("", issuer_extra=f"  keyFile: {self.tmp}/issuer.key\n")
        node.start()
        self.assertEqual(node.stop(), 0)
        day_ago = time.time() - 86400
        os.utime(f"{self.tmp}/issuer.key", (day_ago, day_ago))
        node.start()
        families = parse_strictly(node.metrics())
        age = families["credgate_issuer_key_age_seconds"][1][0].value
        self.assertGreaterEqual(age, 86400)
        self.assertLess(age, 86400 + 60)


if __name__ == "__main__":
    unittest.main(verbosity=2)
