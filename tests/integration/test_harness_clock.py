#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# The test harnesses measure their waits on the monotonic clock: a step of the host's wall clock (an
# NTP step, a virtual machine's clock set after a pause) neither ends a wait early nor stretches it.
# The host's clock is not stepped here (other processes would see it), and libfaketime cannot be used
# (under it Python's time.sleep fails with EINVAL), so Python's wall-clock functions are replaced for
# the duration of each wait by ones that step forward by an hour 0.5 s into it. Controls: the same wait
# written on the wall clock ends at the step, and a condition that never comes true ends at the timeout.
import time
import unittest

from harness import IntegrationCase

import devvault_harness  # noqa: E402  (importing harness put its directory on sys.path)

STEP_S = 3600
STEP_AFTER_S = 0.5
TRUE_AFTER_S = 1.5
TIMEOUT_S = 4


class SteppedWallClock:
    """time.time and time.time_ns jump forward by STEP_S once STEP_AFTER_S have passed (monotonic)."""

    def __enter__(self):
        self.start = time.monotonic()
        self.saved = time.time, time.time_ns
        real_time, real_time_ns = self.saved
        stepped = lambda: time.monotonic() - self.start >= STEP_AFTER_S  # noqa: E731
        time.time = lambda: real_time() + (STEP_S if stepped() else 0)
        time.time_ns = lambda: real_time_ns() + (STEP_S * 10**9 if stepped() else 0)
        return self

    def __exit__(self, *exc):
        time.time, time.time_ns = self.saved
        return False


def wall_clock_wait_until(case, predicate, timeout):
    """The integration harness's wait_until as it was written before, on the wall clock (the control)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    case.fail(f"timed out after {timeout}s")


class HarnessClock(unittest.TestCase):
    def wait(self, wait_until, never=False):
        """('done' or 'timeout', monotonic seconds the wait took, wall seconds it saw go by)."""
        with SteppedWallClock() as clock:
            wall_start = time.time()
            try:
                wait_until(self, lambda: not never and time.monotonic() - clock.start >= TRUE_AFTER_S, TIMEOUT_S)
                outcome = "done"
            except self.failureException:
                outcome = "timeout"
            return outcome, time.monotonic() - clock.start, time.time() - wall_start

    def test_a_wall_clock_step_neither_ends_nor_stretches_a_wait(self):
        waits = (("the integration harness", lambda c, p, t: IntegrationCase.wait_until(c, p, t)),
                 ("devvault's harness", lambda c, p, t: devvault_harness.DevVaultTestCase.wait_until(c, p, t)))
        for name, wait_until in waits:
            outcome, took, wall = self.wait(wait_until)
            self.assertGreaterEqual(wall, STEP_S, f"{name}: the wall clock did not step ({wall:.1f} s)")
            self.assertEqual(outcome, "done", f"{name}'s wait ended at the wall-clock step after {took:.1f} s")
            self.assertGreaterEqual(took, TRUE_AFTER_S, name)
            # A condition that never comes true ends at the timeout, not an hour of wall clock later.
            outcome, took, wall = self.wait(wait_until, never=True)
            self.assertEqual(outcome, "timeout", name)
            self.assertGreaterEqual(took, TIMEOUT_S, name)
            self.assertLess(took, TIMEOUT_S + 5, name)

    def test_control_a_wait_on_the_wall_clock_ends_at_the_step(self):
        outcome, took, wall = self.wait(wall_clock_wait_until)
        self.assertGreaterEqual(wall, STEP_S)
        self.assertEqual(outcome, "timeout")
        self.assertLess(took, TRUE_AFTER_S, "it gave up before its condition came true")


if __name__ == "__main__":
    unittest.main()
