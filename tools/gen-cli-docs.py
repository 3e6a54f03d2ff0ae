#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""gen-cli-docs.py: the bash completion and the man page's command
sections of plugpull, from the binary's own --help texts.

    tools/gen-cli-docs.py build/plugpull --completion OUT --man-include OUT

It asks `plugpull --help` for the commands (the lines under "commands:"),
then `plugpull COMMAND --help` for each, whatever its exit status and on
whichever stream it answers (a command that does not know --help yet
prints its usage on stderr and exits 2: its usage is still read).  A
command with subcommands (image build, trace record...) names them in
its usage ("plugpull image build ...", "(record, dump, summary)") or in
its line of the main help ("(trace record)"); each is asked for --help
too, and its options are kept only when it answers with a usage.

Options are the long ones of the GOption tables ("  -o, --out=DIR") and
of one-line usages ("[--cache DIR]").  An option with an argument
completes file names (directories for DIR), its values when the help
lists them ("all, barriers, sample:N or none").

The man include (help2man --include) has a COMMANDS section: each
command's --help text verbatim.
"""
import argparse
import re
import subprocess
import sys

TIMEOUT_S = 20


def ask(binary, args):
    """(exit status, stdout + stderr) of BINARY ARGS --help."""
    try:
        p = subprocess.run([binary] + args + ["--help"], stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return 124, ""
    return p.returncode, p.stdout.decode("utf-8", "replace")


def is_usage(text):
    return re.search(r"^\s*usage:", text, re.I | re.M) is not None


def commands(main_help):
    """[(name, description)] from the lines under "commands:"."""
    out = []
    inside = False
    for line in main_help.splitlines():
        if re.match(r"^commands:\s*$", line):
            inside = True
            continue
        if inside:
            m = re.match(r"^  ([a-z][a-z0-9-]*)\s+(.*)$", line)
            if m:
                out.append((m.group(1), m.group(2)))
            elif line.strip() == "" and out:
                break
    return out


def subcommands(name, desc, text):
    """The subcommands a command names in its help or its main-help line."""
    found = []

    def add(word):
        if word not in found and word != "help":
            found.append(word)

    for m in re.finditer(r"\bplugpull %s ([a-z][a-z0-9-]*)\b" % re.escape(name), text):
        add(m.group(1))
    for m in re.finditer(r"subcommand[^(\n]*\(([a-z][a-z0-9-]*(?:, [a-z][a-z0-9-]*)+)\)", text):
        for w in m.group(1).split(", "):
            add(w)
    for m in re.finditer(r"\(([^)]*)\)", desc):
        for w in re.finditer(r"\b%s ([a-z][a-z0-9-]*)\b" % re.escape(name), m.group(1)):
            add(w.group(1))
    return found


def options(text):
    """{--option: argument name or None} of a help text."""
    opts = {}
    for line in text.splitlines():
        # GOption: "  -o, --out=DIR      results directory"
        m = re.match(r"^\s+(?:-\w, )?(--[a-z][a-z0-9-]*)(?:=(\S+))?(?:\s|$)", line)
        if m:
            opts.setdefault(m.group(1), m.group(2))
            continue
        if re.match(r"^\s*usage:", line, re.I):
            # "[--cache DIR]", "[--no-client]", "--out DIR"
            for o in re.finditer(r"(--[a-z][a-z0-9-]*)(?:[ =]([A-Z][A-Z0-9_./:-]*))?", line):
                opts.setdefault(o.group(1), o.group(2))
    if opts:
        opts.setdefault("--help", None)
    return opts


VALUE = r"[a-z][a-z0-9-]*(?::N)?"
VALUE_LIST = re.compile(r"(?<![\w-])((?:%s, )+%s or %s|(?:%s, ){2,}%s)(?![\w-])"
                        % ((VALUE,) * 5))


def option_values(text, option):
    """The values the help lists for OPTION ("a, b, c or d"), if any."""
    for line in text.splitlines():
        m = re.match(r"^\s+(?:-\w, )?%s=\S+\s+(.*)$" % re.escape(option), line)
        if not m:
            continue
        v = VALUE_LIST.search(m.group(1).replace(" (default)", ""))
        if v:
            return [w.replace(":N", ":") for w in re.split(r", | or ", v.group(1))]
    return []


# What an option's argument name asks for: a file, a directory, or a word
# (a number, a duration: nothing to complete).
FILE_ARGS = {"FILE", "PATH", "TRACE", "REC", "REPO", "ROM", "CASE", "IMAGE", "SO", "BIN"}
DIR_ARGS = {"DIR", "OUT", "ROOT", "SYSROOT"}
WORD_ARGS = {"N", "S", "J", "K", "K/N", "MS", "SECONDS", "DURATION", "SEED", "NAME", "TEXT"}


def shell_words(words):
    return " ".join(sorted(words))


def completion(cmds, main_opts):
    """The bash completion script."""
    lines = [
        "# SPDX-License-Identifier: MIT",
        "# bash completion of plugpull (generated from its --help texts by",
        "# tools/gen-cli-docs.py: do not edit)",
        "",
        "_plugpull_opts() {",
        "    case \"$1\" in",
    ]
    args = {}
    for c in cmds:
        for path, (text, opts) in c["helps"].items():
            lines.append("    '%s') echo '%s' ;;" % (path, shell_words(opts)))
            for o, arg in opts.items():
                if arg is not None:
                    args["%s %s" % (path, o)] = (arg, option_values(text, o))
    lines += ["    esac", "}", "", "_plugpull_subs() {", "    case \"$1\" in"]
    for c in cmds:
        if c["subs"]:
            lines.append("    '%s') echo '%s' ;;" % (c["name"], shell_words(c["subs"])))
    lines += ["    esac", "}", "",
              "# The argument of PATH OPTION: values V..., dir, file, word (a",
              "# number: nothing to complete), or nothing (the option takes none).",
              "_plugpull_arg() {", "    case \"$1\" in"]
    for key in sorted(args):
        arg, values = args[key]
        if arg.upper() in DIR_ARGS:
            kind = "dir"
        elif arg.upper() in FILE_ARGS:
            kind = "file"
        elif values and arg.upper() not in WORD_ARGS:
            kind = "values %s" % " ".join(values)
        else:
            kind = "word"
        lines.append("    '%s') echo '%s' ;;" % (key, kind))
    lines += ["    esac", "}", ""]
    lines += [
        "_plugpull() {",
        "    local cur prev words cword",
        "    if declare -F _init_completion >/dev/null; then",
        "        _init_completion -n = || return",
        "    else",
        "        cur=${COMP_WORDS[COMP_CWORD]}; prev=${COMP_WORDS[COMP_CWORD-1]}",
        "        words=(\"${COMP_WORDS[@]}\"); cword=$COMP_CWORD",
        "    fi",
        "    if [ \"$cword\" -eq 1 ]; then",
        "        COMPREPLY=($(compgen -W '%s %s' -- \"$cur\"))" % (
            shell_words(c["name"] for c in cmds), shell_words(main_opts)),
        "        return",
        "    fi",
        "    local path=${words[1]} subs",
        "    subs=$(_plugpull_subs \"$path\")",
        "    if [ -n \"$subs\" ]; then",
        "        if [ \"$cword\" -eq 2 ]; then",
        "            COMPREPLY=($(compgen -W \"$subs\" -- \"$cur\"))",
        "            return",
        "        fi",
        "        path=\"$path ${words[2]}\"",
        "    fi",
        "    local opt=$prev val=",
        "    case \"$cur\" in",
        "    --*=*) opt=${cur%%=*}; val=${cur#*=} ;;",
        "    esac",
        "    if [ \"$opt\" != \"$prev\" ] || [[ $prev == --* ]]; then",
        "        local kind",
        "        kind=$(_plugpull_arg \"$path $opt\")",
        "        [ \"$opt\" != \"$prev\" ] || val=$cur",
        "        case \"$kind\" in",
        "        values\\ *) COMPREPLY=($(compgen -W \"${kind#values }\" -- \"$val\")); return ;;",
        "        dir) COMPREPLY=($(compgen -d -- \"$val\")); return ;;",
        "        file) COMPREPLY=($(compgen -f -- \"$val\")); return ;;",
        "        word) COMPREPLY=(); return ;;",
        "        esac",
        "    fi",
        "    if [[ $cur == -* ]]; then",
        "        COMPREPLY=($(compgen -W \"$(_plugpull_opts \"$path\")\" -- \"$cur\"))",
        "        return",
        "    fi",
        "    COMPREPLY=($(compgen -f -- \"$cur\"))",
        "}",
        "complete -o filenames -F _plugpull plugpull",
        "",
    ]
    return "\n".join(lines)


def roff_verbatim(text):
    out = [".nf"]
    for line in text.rstrip("\n").splitlines():
        line = line.replace("\\", "\\e").replace("\u2026", "...")
        if line.startswith((".", "'")):
            line = "\\&" + line
        out.append(line)
    out.append(".fi")
    return "\n".join(out)


def man_include(cmds):
    out = ["[COMMANDS]",
           "Each command's own \\fB\\-\\-help\\fR text:"]
    for c in cmds:
        for path, (text, _opts) in c["helps"].items():
            # A command that answers --help with an error (before it knew
            # --help) is described by its subcommands' texts.
            if not text.strip() or (" " not in path and c["subs"]
                                    and not is_usage(text)):
                continue
            out.append(".SS \"plugpull %s\"" % path)
            out.append(roff_verbatim(text))
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("binary")
    ap.add_argument("--completion", required=True)
    ap.add_argument("--man-include", required=True)
    a = ap.parse_args()

    status, main_help = ask(a.binary, [])
    cmds = []
    for name, desc in commands(main_help):
        status, text = ask(a.binary, [name])
        c = {"name": name, "subs": subcommands(name, desc, text), "helps": {}}
        c["helps"][name] = (text, options(text))
        for sub in c["subs"]:
            st, t = ask(a.binary, [name, sub])
            if is_usage(t):
                c["helps"]["%s %s" % (name, sub)] = (t, options(t))
        cmds.append(c)
    if not cmds:
        sys.exit("gen-cli-docs: %s --help lists no commands" % a.binary)
    main_opts = [o for o in ("--help", "--version")
                 if re.search(r"(^|\s)%s\b" % o, main_help, re.M)] or ["--help"]

    with open(a.completion, "w") as f:
        f.write(completion(cmds, main_opts))
    with open(a.man_include, "w") as f:
        f.write(man_include(cmds))


if __name__ == "__main__":
    main()
