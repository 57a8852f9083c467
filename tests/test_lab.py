"""``make lab``: JupyterLab serves the notebooks folder, with the venv's Python as its kernel, on loopback only.

The server runs as a subprocess with its own HOME and Jupyter config/data/runtime folders (nothing of the
user's settings is read or written), on a free 127.0.0.1 port with a random token; the test asks its REST
API for the notebooks folder and the kernel specs, then stops it.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from importlib import metadata

import nbformat
import pytest

from .conftest import REPO

pytestmark = pytest.mark.slow

NOTEBOOKS = {"town_report.ipynb", "county_overview.ipynb", "explore.ipynb", "explorer.ipynb"}
STARTUP_SECONDS = 45
# no proxy, whatever the environment says: the server is on this machine's loopback interface
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _lab_command() -> list[str]:
    """What ``make lab`` runs: the venv's ``jupyter-lab`` (or this Python's ``-m jupyterlab``)."""
    script = Path(sys.executable).with_name("jupyter-lab")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "jupyterlab"]


def _get(url: str, token: str | None) -> tuple[int, dict | None]:
    req = urllib.request.Request(url, headers={"Authorization": f"token {token}"} if token else {})
    try:
        with _OPENER.open(req, timeout=5) as resp:
            return resp.status, json.loads(resp.read().decode("utf-8"))
    except urllib.error.HTTPError as e:
        e.close()
        return e.code, None


class Lab:
    def __init__(self, base: str, token: str):
        self.base, self.token = base, token

    def get(self, path: str, *, token: bool = True) -> tuple[int, dict | None]:
        return _get(self.base + path, self.token if token else None)


@contextlib.contextmanager
def running_lab(root: Path, tmp: Path, settings: Path | None = None, app_settings: Path | None = None):
    """JupyterLab serving ``root`` on a free 127.0.0.1 port with a random token, with its own HOME and Jupyter
    folders under ``tmp`` (user settings from ``settings``, and the application's — the venv's, which the Makefile
    writes — from ``app_settings``, if given); yields (base URL, token, log path), then stops the server."""
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(os.environ)
    env.update({
        "HOME": str(tmp / "home"),
        "JUPYTER_CONFIG_DIR": str(tmp / "config"),
        "JUPYTER_DATA_DIR": str(tmp / "data"),
        "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(settings or tmp / "lab-settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp / "lab-workspaces"),
        "IPYTHONDIR": str(tmp / "ipython"),
        "JUPYTER_PREFER_ENV_PATH": "1",  # as `make lab` sets it
    })
    cmd = _lab_command() + [
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
    ]
    if app_settings is not None:
        cmd.append(f"--LabApp.app_settings_dir={app_settings}")
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # CI containers run as root; Jupyter refuses it by default
        cmd.append("--allow-root")
    base = f"http://127.0.0.1:{port}"
    log_path = tmp / "lab.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, cwd=root, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            if proc.poll() is not None:
                pytest.fail(f"JupyterLab exited with {proc.returncode}:\n{log_path.read_text(errors='replace')}")
            try:
                status, _ = _get(f"{base}/api/contents", token)
                if status == 200:
                    break
            except OSError:  # not listening yet
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not answer within {STARTUP_SECONDS} s:\n"
                            f"{log_path.read_text(errors='replace')}")
            time.sleep(0.25)
        yield base, token, log_path
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("lab")
    with running_lab(REPO / "notebooks", tmp) as (base, token, _):
        yield Lab(base, token)


def test_lab_lists_the_three_notebooks(lab):
    status, listing = lab.get("/api/contents")
    assert status == 200 and listing["type"] == "directory"
    names = {item["name"] for item in listing["content"] if item["type"] == "notebook"}
    assert NOTEBOOKS <= names


def test_lab_refuses_a_request_without_the_token(lab):
    status, _ = lab.get("/api/contents", token=False)
    assert status == 403


def test_lab_default_kernel_is_the_venv_python_and_notebooks_name_it(lab):
    status, specs = lab.get("/api/kernelspecs")
    assert status == 200
    default = specs["default"]
    assert default == "python3"
    argv0 = specs["kernelspecs"][default]["spec"]["argv"][0]
    # `make lab` registers the kernel with the venv's Python as an absolute path (ipykernel install
    # --sys-prefix). A bare "python" (the spec ipykernel's wheel ships) would also be this Python:
    # jupyter_client starts it as the server's own sys.executable, and the server runs from the venv.
    if argv0 not in {"python", "python3", f"python3.{sys.version_info.minor}"}:
        assert Path(argv0).is_absolute() and Path(argv0).is_relative_to(sys.prefix), (argv0, sys.prefix)
    for name in NOTEBOOKS:
        nb = nbformat.read(REPO / "notebooks" / name, as_version=4)
        assert nb.metadata.kernelspec.name in specs["kernelspecs"], name


# ------------------------------------------------------------------------------------------------ language
MAKEFILE = REPO / "Makefile"
OVERRIDES = REPO / "scripts" / "lab-overrides.json"


def _make_variable(name: str) -> str:
    m = re.search(rf"^{name}\s*:=\s*(.+)$", MAKEFILE.read_text(encoding="utf-8"), flags=re.M)
    assert m, name
    return m.group(1).strip()


def test_make_lab_installs_the_chinese_language_pack_and_selects_it():
    text = MAKEFILE.read_text(encoding="utf-8")
    # the pack is in the lab extra, which the venv installs; the setting goes into the venv's JupyterLab settings
    assert re.search(r'pip install --quiet -e "\.\[test,lab\]"', text)
    settings = _make_variable("LAB_SETTINGS")
    assert settings == "$(VENV)/share/jupyter/lab/settings/overrides.d/zhidang-analysis.json"
    assert re.search(r"^lab: .*\$\(LAB_SETTINGS\)", text, flags=re.M)
    assert re.search(r"^\$\(LAB_SETTINGS\): scripts/lab-overrides\.json", text, flags=re.M)
    assert json.loads(OVERRIDES.read_text(encoding="utf-8")) == {
        "@jupyterlab/translation-extension:plugin": {"locale": "zh_CN"}}
    assert metadata.version("jupyterlab-language-pack-zh-CN")


def test_lab_with_the_venvs_settings_speaks_chinese(tmp_path):
    """JupyterLab started with the application settings the Makefile writes (a copy, so the test does not depend on
    whether `make lab` has run): its default language is zh_CN and the pack's translations are served."""
    app_settings = tmp_path / "app-settings"
    (app_settings / "overrides.d").mkdir(parents=True)
    shutil.copy(OVERRIDES, app_settings / "overrides.d" / "zhidang-analysis.json")
    with running_lab(REPO / "notebooks", tmp_path, app_settings=app_settings) as (base, token, _):
        lab = Lab(base, token)
        status, plugin = lab.get("/lab/api/settings/@jupyterlab/translation-extension:plugin")
        assert status == 200
        assert plugin["schema"]["properties"]["locale"]["default"] == "zh_CN"
        assert plugin["settings"].get("locale", "zh_CN") == "zh_CN"
        status, languages = lab.get("/lab/api/translations/")
        assert status == 200 and "zh_CN" in languages["data"], languages
        status, pack = lab.get("/lab/api/translations/zh_CN")
        assert status == 200 and pack["data"], pack.get("message")
        jupyterlab = pack["data"].get("jupyterlab", {})
        assert jupyterlab.get("Run All Cells") == ["运行所有单元格"]  # the menu item the explorer notebook names
