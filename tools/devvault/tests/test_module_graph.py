# SPDX-License-Identifier: Apache-2.0
# The module graph of devvault: every module imports on its own in a fresh interpreter, the modules of
# devvault_lib import one another without a cycle, and no import hides inside a function.
import ast
import os
import subprocess
import sys
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # tools/devvault
PACKAGE = "devvault_lib"


def _package_modules():
    return sorted(f[:-3] for f in os.listdir(os.path.join(ROOT, PACKAGE)) if f.endswith(".py"))


def _python_files():
    """The devvault program, its package and its tests."""
    files = [os.path.join(ROOT, "devvault")]
    for sub in (PACKAGE, "tests"):
        d = os.path.join(ROOT, sub)
        files += [os.path.join(d, f) for f in sorted(os.listdir(d)) if f.endswith(".py")]
    return files


def _parse(path):
    with open(path, encoding="utf-8") as f:
        return ast.parse(f.read(), filename=path)


def _package_imports(tree):
    """The devvault_lib modules a module of the package imports at its top level."""
    out = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                out.add(node.module.split(".")[0])
            else:  # from . import x
                out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith(PACKAGE + "."):
            out.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            out.update(a.name.split(".")[1] for a in node.names if a.name.startswith(PACKAGE + "."))
    return out


class ModuleGraphTest(unittest.TestCase):
    def test_every_module_imports_on_its_own(self):
        env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
        for name in _package_modules():
            with self.subTest(module=name):
                r = subprocess.run([sys.executable, "-c", f"import {PACKAGE}.{name}"], cwd=ROOT, env=env,
                                   capture_output=True, text=True, timeout=30)
                self.assertEqual(r.returncode, 0, r.stderr)

    def test_the_package_has_no_import_cycle(self):
        graph = {name: _package_imports(_parse(os.path.join(ROOT, PACKAGE, name + ".py")))
                 for name in _package_modules()}
        done, path = set(), []

        def visit(name):
            if name in path:
                self.fail("import cycle: " + " -> ".join(path[path.index(name):] + [name]))
            if name in done or name not in graph:
                return
            path.append(name)
            for dep in sorted(graph[name]):
                visit(dep)
            path.pop()
            done.add(name)

        for name in graph:
            visit(name)

    def test_no_import_inside_a_function(self):
        found = []
        for path in _python_files():
            for fn in ast.walk(_parse(path)):
                if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                    found += [f"{os.path.relpath(path, ROOT)}:{n.lineno}" for n in ast.walk(fn)
                              if isinstance(n, (ast.Import, ast.ImportFrom))]
        self.assertEqual(sorted(set(found)), [], "imports belong at the top of the module")


if __name__ == "__main__":
    unittest.main()
