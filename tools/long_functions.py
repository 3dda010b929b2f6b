#!/usr/bin/env python3
"""Lists the C++ functions longer than a limit (default 120 lines) in the project's source folders.

    tools/long_functions.py [--limit N] [DIR ...]      (default: app views storage engine)

Prints "path:line: name (N lines)" per function, longest first, and exits 1 when any is found,
so a CI stage can enforce the limit. A function's length counts the lines from its signature's
first line to its closing brace. The parse is lexical (comments, strings and character literals
are blanked, then braces are matched): a body is a brace block whose header ends in ')' plus
qualifiers, or a constructor's initializer list; namespace, class, enum and initializer braces
are not functions, and lambdas count toward the function that holds them.
"""
import argparse
import pathlib
import re
import sys

SOURCE_SUFFIXES = {".cpp", ".cc", ".h", ".hpp"}
NOT_FUNCTION = re.compile(r"\b(namespace|class|struct|union|enum)\b[^()]*$|=\s*$|\breturn\b[^;]*$")
HEADER_END = re.compile(
    r"\)\s*(const|noexcept(\([^)]*\))?|override|final|mutable|volatile|&|&&|->[^{;]*|\s)*$")
INIT_LIST = re.compile(r"\)\s*:\s*[\w:<>]+\s*[({]")


def blank_comments_and_literals(text: str) -> str:
    """Keeps line structure but replaces comments and literals by spaces."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == 'R' and text.startswith('R"', i):
            m = re.match(r'R"([^(\s]*)\(', text[i:])
            if not m:
                out.append(c)
                i += 1
                continue
            end = text.find(")" + m.group(1) + '"', i)
            j = n if end < 0 else end + len(m.group(1)) + 2
            out.append('""' + re.sub(r"[^\n]", " ", text[i + 2:j]))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            out.append(c + " " * max(0, j - i - 2) + c)
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def function_name(header: str) -> str:
    m = re.search(r"([~\w:<>]+(?:operator\s*[^\s(]+)?)\s*\([^()]*(\([^()]*\)[^()]*)*\)[^()]*$",
                  header, re.S)
    if not m:
        return header.strip().split("\n")[-1][:60]
    return m.group(1)


def long_functions(path: pathlib.Path, limit: int):
    text = blank_comments_and_literals(path.read_text(encoding="utf-8", errors="replace"))
    stack = []  # (is_function, start_line, name)
    header_start = 0  # offset just after the last ; { or } at the current level
    found = []
    for i, c in enumerate(text):
        if c == "{":
            header = text[header_start:i]
            inside_function = any(f for f, _, _ in stack)
            stripped = header.strip()
            is_function = (not inside_function and stripped and not NOT_FUNCTION.search(stripped)
                           and (HEADER_END.search(stripped) or INIT_LIST.search(stripped)))
            start = text.count("\n", 0, header_start + (len(header) - len(header.lstrip()))) + 1
            stack.append((bool(is_function), start, function_name(stripped) if is_function else ""))
            header_start = i + 1
        elif c == "}":
            if stack:
                is_function, start, name = stack.pop()
                end = text.count("\n", 0, i) + 1
                if is_function and end - start + 1 > limit:
                    found.append((end - start + 1, str(path), start, name))
            header_start = i + 1
        elif c == ";":
            header_start = i + 1
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, default=120)
    parser.add_argument("dirs", nargs="*", default=["app", "views", "storage", "engine"])
    args = parser.parse_args()
    root = pathlib.Path(__file__).resolve().parent.parent
    found = []
    for d in args.dirs:
        base = (root / d) if not pathlib.Path(d).is_absolute() else pathlib.Path(d)
        for path in sorted(base.rglob("*")):
            if path.suffix in SOURCE_SUFFIXES and path.is_file():
                found += long_functions(path, args.limit)
    for lines, path, line, name in sorted(found, reverse=True):
        shown = pathlib.Path(path)
        if shown.is_relative_to(root):  # the project's folders print relative to its root
            shown = shown.relative_to(root)
        print(f"{shown}:{line}: {name} ({lines} lines)")
    if not found:
        print(f"no function over {args.limit} lines")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
