"""binder/'s install steps work in a fresh virtual environment."""

import json
import re
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(900)
def test_binder_install_and_start_in_a_fresh_venv(tmp_path):
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    bin_dir = env_dir / "bin"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WF_WIDGETS_", "JUPYTER", "VIRTUAL_ENV"))}
    env.update(PATH=f"{bin_dir}:{env['PATH']}", WF_WIDGETS_HOME=str(tmp_path / "home"),
               PIP_DISABLE_PIP_VERSION_CHECK="1")

    def run(*cmd, cwd=ROOT):
        out = subprocess.run(list(cmd), cwd=cwd, env=env, capture_output=True, text=True, timeout=800)
        assert out.returncode == 0, f"{cmd} failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
        return out.stdout

    run(str(bin_dir / "python"), "-m", "pip", "install", "-q", "-r", "binder/requirements.txt")
    run("bash", "binder/postBuild")
    out = run("bash", "binder/start", str(bin_dir / "python"), "-c",
              "import wf_widgets as wf; print(wf.catalog.Product.get('sentinel-1:GRD').id)")
    assert out.strip().endswith("sentinel-1:GRD")
    # The server extension is enabled by the config file the package installs.
    listing = subprocess.run([str(bin_dir / "jupyter"), "server", "extension", "list"], env=env,
                             capture_output=True, text=True, timeout=120)
    text = re.sub(r"\x1b\[[0-9;]*m", "", listing.stdout + listing.stderr)  # no colours
    assert "wf_widgets enabled" in text and re.search(r"wf_widgets [\d.]+ OK", text), text
    assert sys.prefix != str(env_dir)
    assert json.loads((env_dir / "etc/jupyter/jupyter_server_config.d/wf_widgets.json").read_text())
