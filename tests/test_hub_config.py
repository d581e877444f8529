"""hub/jupyterhub_config.py says what to create when the hub cannot start, instead of a JupyterHub traceback
(issue 33): the config is executed as JupyterHub executes it, with a roster but no course folder."""

from __future__ import annotations

import os
import pwd

import pytest
from notebooks import ROOT
from traitlets.config import Config

CONFIG = ROOT / "hub" / "jupyterhub_config.py"


def load(monkeypatch, tmp_path, **env):
    monkeypatch.setenv("HUB_STATE_DIR", str(tmp_path / "state"))
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    namespace = {"get_config": Config, "__file__": str(CONFIG), "__name__": "jupyterhub_config"}
    exec(compile(CONFIG.read_text(), str(CONFIG), "exec"), namespace)  # noqa: S102 - what JupyterHub does with it


def test_a_missing_course_folder_is_named_with_what_to_create(monkeypatch, tmp_path):
    me = pwd.getpwuid(os.getuid()).pw_name
    missing = tmp_path / "no-course-here"
    with pytest.raises(SystemExit, match=r"has no nbgrader_config\.py.*git clone"):
        load(monkeypatch, tmp_path, COURSE_INSTRUCTORS=me, COURSE_STUDENTS="", COURSE_ROOT=str(missing))


def test_an_instructor_without_an_account_is_named(monkeypatch, tmp_path):
    with pytest.raises(SystemExit, match="does not exist: create it"):
        load(monkeypatch, tmp_path, COURSE_INSTRUCTORS="no-such-account-xyz", COURSE_STUDENTS="")
