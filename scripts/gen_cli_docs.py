#!/usr/bin/env python3
"""Writes docs/cli.md from the `coffre` binary's own help: every command, depth first.

    /usr/bin/python3 scripts/gen_cli_docs.py build/coffre docs/cli.md
    cmake --build --preset default --target cli-docs      # the same

With --check, compares instead of writing and exits 1 when docs/cli.md is out of date.
"""

import re
import subprocess
import sys

GLOBAL_HEADING = "Global options (any command, anywhere on the line):"


def help_text(binary, path):
    p = subprocess.run([binary] + path + ["--help"], capture_output=True, text=True,
                       timeout=30, stdin=subprocess.DEVNULL)
    if p.returncode != 0:
        raise SystemExit("%s %s --help failed: %s" % (binary, " ".join(path), p.stderr))
    return p.stdout.rstrip() + "\n"


def subcommands(text):
    names, inside = [], False
    for line in text.splitlines():
        if line.startswith("Subcommands:"):
            inside = True
            continue
        if inside:
            m = re.match(r"^  (\S+)\s", line)
            if not m:
                break
            names.append(m.group(1))
    return names


def without_global_options(text):
    """The global options block is the same under every command; the page shows it once."""
    lines, out, skipping = text.splitlines(), [], False
    for line in lines:
        if line == GLOBAL_HEADING:
            skipping = True
            continue
        if skipping:
            if line.startswith("  ") or line == "":
                if line == "":
                    skipping = False
                continue
            skipping = False
        out.append(line)
    return "\n".join(out).rstrip() + "\n"


def render(binary):
    root = help_text(binary, [])
    first_sub = help_text(binary, [subcommands(root)[0]])
    global_block = first_sub[first_sub.index(GLOBAL_HEADING):].split("\n\n")[0]
    parts = ["# The `coffre` command line\n",
             "Generated from the binary's own `--help` by `scripts/gen_cli_docs.py` (CMake target "
             "`cli-docs`); do not edit by hand.\n",
             "## coffre\n", "```text\n" + root + "```\n",
             "## Global options\n",
             "Every command takes these, anywhere on the line:\n",
             "```text\n" + global_block.split("\n", 1)[1] + "\n```\n"]
    pending = [[c] for c in reversed(subcommands(root))]
    while pending:
        path = pending.pop()
        text = help_text(binary, path)
        parts.append("## coffre %s\n" % " ".join(path))
        parts.append("```text\n" + without_global_options(text) + "```\n")
        pending.extend(path + [c] for c in reversed(subcommands(text)))
    return "\n".join(parts)


def main():
    args = [a for a in sys.argv[1:] if a != "--check"]
    if len(args) != 2:
        raise SystemExit("usage: gen_cli_docs.py [--check] COFFRE_BINARY OUTPUT.md")
    binary, output = args
    text = render(binary)
    if "--check" in sys.argv:
        with open(output) as f:
            if f.read() != text:
                print("%s is out of date: run scripts/gen_cli_docs.py %s %s" % (
                    output, binary, output))
                return 1
        return 0
    with open(output, "w") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
