#!/usr/bin/env python3
"""Checks tools/long_functions.py on small C++ files with known function lengths.

    tests/tools/long_functions_test.py        (ctest: LongFunctionsScript)
"""
import pathlib
import subprocess
import sys
import tempfile
import unittest

SCRIPT = pathlib.Path(__file__).resolve().parents[2] / "tools" / "long_functions.py"


def function(name: str, lines: int, header: str = "int {}(int x) {{") -> str:
    """A function of exactly `lines` lines: signature line, body lines, closing brace."""
    body = ["  x += 1;"] * (lines - 2)
    return "\n".join([header.format(name)] + body + ["}"]) + "\n"


class LongFunctionsTest(unittest.TestCase):
    def run_script(self, files: dict, *args: str):
        with tempfile.TemporaryDirectory() as tmp:
            root = pathlib.Path(tmp)
            for name, text in files.items():
                (root / name).write_text(text)
            result = subprocess.run([sys.executable, str(SCRIPT), *args, str(root)],
                                    capture_output=True, text=True)
            return result.returncode, result.stdout.replace(tmp + "/", "")

    def test_limit_is_inclusive(self):
        code, out = self.run_script({"a.cpp": function("at_limit", 120) + function("over", 121)})
        self.assertEqual(code, 1)
        self.assertIn("a.cpp:121: over (121 lines)", out)
        self.assertNotIn("at_limit", out)

    def test_clean_tree_passes(self):
        code, out = self.run_script({"a.cpp": function("short_one", 30)})
        self.assertEqual(code, 0)
        self.assertEqual(out.strip(), "no function over 120 lines")

    def test_braces_in_comments_and_strings_do_not_count(self):
        text = ("int f(int x) {\n  // }\n  const char* s = \"}\";\n  /* { */\n"
                + "  x += 1;\n" * 120 + "  return x;\n}\n")
        code, out = self.run_script({"a.cpp": text})
        self.assertEqual(code, 1)
        self.assertIn("a.cpp:1: f (126 lines)", out)

    def test_classes_and_namespaces_are_not_functions(self):
        methods = "".join(function(f"m{i}", 40, "  int {}(int x) {{") for i in range(5))
        text = "namespace n {\nclass C {\n public:\n" + methods + "};\n}  // namespace n\n"
        code, out = self.run_script({"a.h": text})
        self.assertEqual(code, 0, out)

    def test_lambdas_count_toward_their_function(self):
        text = ("void outer() {\n  auto f = [](int x) {\n" + "    x += 1;\n" * 125
                + "    return x;\n  };\n  f(1);\n}\n")
        code, out = self.run_script({"a.cpp": text})
        self.assertEqual(code, 1)
        self.assertIn("a.cpp:1: outer (131 lines)", out)
        self.assertEqual(out.count("lines)"), 1)

    def test_limit_option_and_ordering(self):
        code, out = self.run_script(
            {"a.cpp": function("twenty", 20) + function("forty", 40)}, "--limit", "10")
        self.assertEqual(code, 1)
        self.assertEqual(out.splitlines(), ["a.cpp:21: forty (40 lines)", "a.cpp:1: twenty (20 lines)"])


if __name__ == "__main__":
    unittest.main()
