"""The ``smhr`` entry point: every subcommand parses and documents its options, exit codes, errors."""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys

import pytest

from smhr.cli import COMMANDS, main
from smhr.errors import ConfigError, DatasetError, UsageError
from smhr.outputs import Terminated

# Every parser a user can reach: (argv prefix, module). ``data`` and ``report`` have one parser per action.
PARSERS = [([name], module) for name, (module, _) in COMMANDS.items() if name not in ("data", "report")] + [
    (["data", "check"], "smhr.commands.data"),
    (["data", "show"], "smhr.commands.data"),
    (["report", "notebook"], "smhr.commands.report"),
]


def _actions(prefix: list[str], module: str) -> list[argparse.Action]:
    """The option actions (not --help) of the parser reached by ``prefix``, as its module configures it."""
    parser = argparse.ArgumentParser()
    importlib.import_module(module).configure(parser)
    for word in prefix[1:]:
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = sub.choices[word]
    return [a for a in parser._actions if a.option_strings and "--help" not in a.option_strings]


@pytest.mark.parametrize("prefix, module", PARSERS, ids=[" ".join(p) for p, _ in PARSERS])
def test_help_works_and_documents_every_option(prefix, module, capsys):
    assert main([*prefix, "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: smhr {' '.join(prefix)}")
    flat = " ".join(out.split())
    actions = _actions(prefix, module)
    assert actions or prefix == ["bench"]  # bench passes its options on to the benchmark
    for action in actions:
        option = action.option_strings[-1]
        assert action.help, f"{option} of 'smhr {' '.join(prefix)}' has no help text"
        assert f" {option}" in flat, f"{option} missing from 'smhr {' '.join(prefix)} --help'"
        words = " ".join(action.help.split("%(")[0].split()[:4])
        assert words in flat, f"the help of {option} is not shown"


def test_top_level_help_lists_every_command(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    for name, (_, text) in COMMANDS.items():
        assert name in out and text[:30] in out


def test_unknown_subcommand_and_option_exit_2(capsys):
    assert main(["transmogrify"]) == 2
    assert "invalid choice: 'transmogrify'" in capsys.readouterr().err
    assert main(["data", "check", "--dataset", "rhd", "--root", ".", "--bogus"]) == 2
    assert "smhr data: error: unrecognized arguments: --bogus" in capsys.readouterr().err
    assert main(["evaluate", "--protocol", "freihand"]) == 2
    assert "the following arguments are required: --pred, --gt, --out" in capsys.readouterr().err


class _Raises:
    """A stand-in command module whose ``run`` raises ``error``."""

    def __init__(self, error: BaseException) -> None:
        self.error = error

    def configure(self, parser: argparse.ArgumentParser) -> None:
        pass

    def run(self, args: argparse.Namespace) -> int:
        raise self.error


@pytest.mark.parametrize(
    "error, code, message",
    [
        (UsageError("--out x: is a folder"), 2, "smhr synth: error: --out x: is a folder"),
        (ConfigError("params.yaml:synth.seed = -1 must be >= 0"), 2, "smhr synth: error: params.yaml:synth.seed"),
        (DatasetError("a.json: not valid JSON; re-download it"), 1, "smhr synth: error: a.json: not valid JSON"),
        (PermissionError(13, "Permission denied", "/data/out.json"), 1,
         "smhr synth: error: /data/out.json: Permission denied; check the path"),
        (OSError(28, "No space left on device"), 1, "smhr synth: error: No space left on device"),
        (KeyboardInterrupt(), 130, "smhr synth: interrupted; partial outputs were removed"),
        (Terminated(), 143, "smhr synth: terminated; partial outputs were removed"),
    ],
)
def test_errors_become_one_line_and_an_exit_code(monkeypatch, capsys, error, code, message):
    real = importlib.import_module

    monkeypatch.setattr(importlib, "import_module", lambda name: _Raises(error) if name == "smhr.commands.synth" else real(name))
    assert main(["synth"]) == code
    err = capsys.readouterr().err
    assert err.strip() == err.strip().splitlines()[0] and err.startswith(message)


def test_programming_errors_keep_their_traceback(monkeypatch):
    real = importlib.import_module
    monkeypatch.setattr(importlib, "import_module", lambda name: _Raises(TypeError("bug")) if name.endswith("synth") else real(name))
    with pytest.raises(TypeError, match="bug"):
        main(["synth"])


def test_python_dash_m_entry_point():
    proc = subprocess.run([sys.executable, "-m", "smhr", "--help"], capture_output=True, text=True, check=True)
    assert "usage: smhr" in proc.stdout
