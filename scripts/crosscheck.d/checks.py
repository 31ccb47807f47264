"""The tally every crosscheck script keeps: `check(ok, what)` counts a comparison (and returns ok), `finish()` prints
the first failures, 'N passed, M failed', and exits 1 when anything failed."""
import sys


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = []

    def __call__(self, ok, what):
        if ok:
            self.passed += 1
        else:
            self.failed.append(what)
        return ok

    def finish(self, show=20):
        for f in self.failed[:show]:
            print("FAIL", f)
        print(f"{self.passed} passed, {len(self.failed)} failed")
        sys.exit(1 if self.failed else 0)
