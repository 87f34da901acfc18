import subprocess
import sys

from smhr.cli import COMMANDS, main


def test_help_lists_every_command(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    for name in COMMANDS:
        assert name in out


def test_every_command_module_has_configure_and_run():
    import importlib

    for name, (module, _) in COMMANDS.items():
        mod = importlib.import_module(module)
        assert callable(mod.configure) and callable(mod.run), name


def test_python_dash_m_entry_point():
    proc = subprocess.run([sys.executable, "-m", "smhr", "--help"], capture_output=True, text=True, check=True)
    assert "usage: smhr" in proc.stdout
