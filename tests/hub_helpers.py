"""Real Unix accounts, a real JupyterHub and the exchange between them (tests/test_hub.py, benchmarks/hub_load.py).

Everything binds to 127.0.0.1; every account, process, folder and permission made here is removed afterwards
(``Accounts.remove``, ``Hub.stop``, ``Passage.close``).
"""

from __future__ import annotations

import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HUB_BIN = ROOT / "hub" / ".venv" / "bin"
STUDENT_BIN = ROOT / "hub" / ".venv-student" / "bin"
CHP = ROOT / "hub" / "node" / "node_modules" / ".bin" / "configurable-http-proxy"
COURSE_ID = "transformer-course"


def system_tool(name: str) -> str | None:
    """An administration tool (useradd, runuser ...), found whether or not /usr/sbin is on PATH."""
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin:/usr/bin:/bin")


def missing() -> str | None:
    """Why the hub cannot be tested here, or None."""
    if os.geteuid() != 0:
        return "needs root: the test creates Unix accounts (useradd) and the hub starts servers as them"
    for tool in ("useradd", "userdel", "chpasswd", "runuser"):
        if not system_tool(tool):
            return f"{tool} is not installed"
    for path, how in ((HUB_BIN / "jupyterhub", "make hub-deps (jupyterhub from PyPI into hub/.venv)"),
                      (STUDENT_BIN / "jupyterhub-singleuser", "make hub-deps (the student environment hub/.venv-student)"),
                      (CHP, "make hub-deps (configurable-http-proxy from npm into hub/node)")):
        if not path.exists():
            return f"{path.relative_to(ROOT)} is missing: run {how}"
    if subprocess.run([str(HUB_BIN / "python"), "-c", "import pamela; pamela.authenticate"],
                      capture_output=True).returncode:
        return "PAM (libpam, pamela) is not usable"
    return None


def free_ports(n: int) -> int:
    """A base port with ``n`` consecutive free ports on 127.0.0.1."""
    for _ in range(200):
        base = secrets.randbelow(20000) + 30000
        try:
            socks = []
            for p in range(base, base + n):
                s = socket.socket()
                s.bind(("127.0.0.1", p))
                socks.append(s)
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no free ports")


class Accounts:
    """Unix accounts with random names and passwords, removed by ``remove()`` (also after a failure)."""

    def __init__(self):
        self.tag = secrets.token_hex(3)
        self.passwords: dict[str, str] = {}

    def add(self, role: str) -> str:
        name = f"tc{role}{self.tag}{len(self.passwords)}"
        subprocess.run([system_tool("useradd"), "--create-home", "--shell", "/bin/bash", name], check=True)
        self.passwords[name] = secrets.token_urlsafe(12)
        subprocess.run([system_tool("chpasswd")], input=f"{name}:{self.passwords[name]}\n", text=True, check=True)
        # a home others may enter, as useradd leaves it where login.defs sets no HOME_MODE: locking it is the hub's
        # job (course_grader.hub.lock_home), and the test sees whether it does
        os.chmod(pwd.getpwnam(name).pw_dir, 0o755)
        return name

    def remove(self):
        for name in self.passwords:
            end_processes(pwd.getpwnam(name).pw_uid)  # a server a crashed hub left behind
            subprocess.run([system_tool("userdel"), "--remove", "--force", name], capture_output=True)
        self.passwords.clear()


def end_processes(uid: int) -> None:
    """Stop every process running as ``uid`` (one of the test's own accounts)."""
    for pid in [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()]:
        try:
            if Path(f"/proc/{pid}").stat().st_uid == uid:
                os.kill(pid, signal.SIGKILL)
        except (FileNotFoundError, ProcessLookupError):
            pass


# POSIX ACLs as Linux stores them (the extended attribute ``system.posix_acl_access``): a version, then entries
# (tag, permissions, id), sorted by tag and id
_ACL, _ACL_VERSION, _NO_ID = "system.posix_acl_access", 2, 0xFFFFFFFF
_USER_OBJ, _USER, _GROUP_OBJ, _GROUP, _MASK, _OTHER = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20


def blocked(path: Path) -> list[Path]:
    """The folders from / down to ``path`` that other accounts may not pass through (no x for others)."""
    return [p for p in [*reversed(path.parents), path] if not p.stat().st_mode & 0o001]


class Passage:
    """Lets some accounts through folders they could not pass (one ACL entry ``user:NAME:--x`` each: no reading,
    no listing), for as long as the test needs; ``close()`` gives every folder its mode and ACL back."""

    def __init__(self, folders: list[Path], users: list[str]):
        self.saved: list[tuple[Path, int, bytes | None]] = []
        uids = sorted(pwd.getpwnam(u).pw_uid for u in users)
        try:
            for folder in folders:
                mode = folder.stat().st_mode
                try:
                    old = os.getxattr(folder, _ACL)
                except OSError:
                    old = None
                self.saved.append((folder, mode & 0o7777, old))
                entries = dict(self._entries(old, mode))
                for uid in uids:
                    entries[(_USER, uid)] = entries.get((_USER, uid), 0) | 1
                # the mask bounds every entry but the owner's and others': x added, nothing else widened
                entries[(_MASK, _NO_ID)] = entries.get((_MASK, _NO_ID), entries[(_GROUP_OBJ, _NO_ID)]) | 1
                os.setxattr(folder, _ACL, struct.pack("<I", _ACL_VERSION) + b"".join(
                    struct.pack("<HHI", tag, perm, uid) for (tag, uid), perm in sorted(entries.items())))
        except BaseException:
            self.close()
            raise

    @staticmethod
    def _entries(acl: bytes | None, mode: int) -> list[tuple[tuple[int, int], int]]:
        if acl is None:  # the three entries the mode bits stand for
            return [((_USER_OBJ, _NO_ID), mode >> 6 & 7), ((_GROUP_OBJ, _NO_ID), mode >> 3 & 7),
                    ((_OTHER, _NO_ID), mode & 7)]
        return [((tag, uid), perm) for tag, perm, uid in struct.iter_unpack("<HHI", acl[4:])]

    def close(self):
        for folder, mode, old in reversed(self.saved):
            if old is None:
                os.removexattr(folder, _ACL)
            else:
                os.setxattr(folder, _ACL, old)
            os.chmod(folder, mode)
        self.saved.clear()


def as_user(user: str, *cmd: str, cwd: str | None = None, env: dict | None = None, check: bool = True,
            timeout: float = 600) -> subprocess.CompletedProcess:
    """Run ``cmd`` as the Unix account ``user`` with a clean environment."""
    home = pwd.getpwnam(user).pw_dir
    base = {"HOME": home, "USER": user, "LOGNAME": user, "PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}
    base.update(env or {})
    proc = subprocess.run([system_tool("runuser"), "-u", user, "--", "env", "-i", *[f"{k}={v}" for k, v in base.items()], *cmd],
                          cwd=cwd or home, capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode:
        raise AssertionError(f"{' '.join(cmd)} as {user} failed ({proc.returncode}):\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}")
    return proc


class Hub:
    """``hub/jupyterhub_config.py`` running as root on free ports, its state in ``state``."""

    def __init__(self, state: Path, env: dict):
        self.port = free_ports(4)
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(state / "hub.log", "w")
        full = dict(os.environ, **env, HUB_PORT=str(self.port), HUB_STATE_DIR=str(state),
                    PATH=f"{CHP.parent}:{HUB_BIN}:/usr/local/bin:/usr/bin:/bin")
        full.pop("PYTHONPATH", None)
        self.proc = subprocess.Popen([str(HUB_BIN / "jupyterhub"), "-f", str(ROOT / "hub" / "jupyterhub_config.py")],
                                     cwd=state, env=full, stdout=self.log, stderr=subprocess.STDOUT)
        self.state = state
        import requests

        deadline = time.time() + 120
        while time.time() < deadline:
            if self.proc.poll() is not None:
                log = self.logtext()[-4000:]
                self.stop()  # the proxy it started may still run
                raise RuntimeError(f"the hub exited:\n{log}")
            try:
                if requests.get(f"{self.url}/hub/api/", timeout=5).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.5)
        log = self.logtext()[-4000:]
        self.stop()
        raise RuntimeError(f"the hub did not answer:\n{log}")

    def logtext(self) -> str:
        self.log.flush()
        return (self.state / "hub.log").read_text(errors="replace")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()  # the hub stops the servers and services it started
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.stop_proxy()
        if not self.log.closed:
            self.log.close()

    def proxy_pid(self) -> int | None:
        """The configurable-http-proxy this hub started, while it runs (its pid file: hub/jupyterhub_config.py)."""
        try:
            pid = int((self.state / "proxy.pid").read_text().strip())
            running = "configurable-http-proxy" in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        except (FileNotFoundError, ValueError):
            return None
        return pid if running else None

    def stop_proxy(self):
        """A hub that exits without cleaning up (a failed start, a crash) leaves its proxy running: end it."""
        pid = self.proxy_pid()
        if pid is None:
            return
        os.kill(pid, signal.SIGTERM)
        for _ in range(100):
            if self.proxy_pid() is None:
                return
            time.sleep(0.1)
        os.kill(pid, signal.SIGKILL)


class Person:
    """One account logged in through the hub's login form, holding an API token."""

    def __init__(self, hub: Hub, name: str, password: str):
        import requests

        self.hub, self.name = hub, name
        self.session = requests.Session()
        self.session.get(f"{hub.url}/hub/login", timeout=30)
        r = self.session.post(f"{hub.url}/hub/login?next=", timeout=60, allow_redirects=False,
                              data={"username": name, "password": password, "_xsrf": self.session.cookies.get("_xsrf")})
        if r.status_code != 302:
            raise PermissionError(f"login of {name} refused ({r.status_code})")
        r = self.session.post(f"{hub.url}/hub/api/users/{name}/tokens", json={"note": "test", "expires_in": 3600},
                              headers={"X-XSRFToken": self.session.cookies.get("_xsrf")}, timeout=30)
        r.raise_for_status()
        self.token = r.json()["token"]
        self.headers = {"Authorization": f"token {self.token}"}

    def api(self, method: str, path: str, **kw):
        import requests

        return requests.request(method, f"{self.hub.url}{path}", headers=self.headers, timeout=kw.pop("timeout", 300), **kw)

    def start_server(self):
        r = self.api("POST", f"/hub/api/users/{self.name}/server")
        assert r.status_code in (201, 202), (r.status_code, r.text)

    def wait_ready(self, timeout: float = 180):
        deadline = time.time() + timeout
        while time.time() < deadline:
            info = self.api("GET", f"/hub/api/users/{self.name}").json()
            server = info.get("servers", {}).get("")
            if server and server.get("ready"):
                return
            time.sleep(1)
        raise RuntimeError(f"{self.name}'s server did not start:\n{self.hub.logtext()[-4000:]}")

    def assignments(self, action: str, assignment: str) -> dict:
        """nbgrader's assignment list in this person's own server: fetch, submit, fetch_feedback."""
        r = self.api("POST", f"/user/{self.name}/assignments/{action}",
                     data={"course_id": COURSE_ID, "assignment_id": assignment})
        assert r.status_code == 200, (r.status_code, r.text[:2000])
        return r.json()

    def put_notebook(self, path: str, nb: dict):
        r = self.api("PUT", f"/user/{self.name}/api/contents/{path}", json={"type": "notebook", "format": "json", "content": nb})
        assert r.status_code in (200, 201), (r.status_code, r.text[:2000])


def exchange_folder() -> Path:
    """A folder every account can reach (pytest's own tmp folders are private to root)."""
    base = Path(tempfile.mkdtemp(prefix="course-hub-", dir="/tmp"))
    os.chmod(base, 0o755)
    return base


def student_env(exchange: Path) -> dict:
    return {"NBGRADER_EXCHANGE": str(exchange), "JUPYTER_CONFIG_PATH": str(ROOT / "hub" / "jupyter-student")}


def instructor_env(exchange: Path, course_root: Path, **extra) -> dict:
    return {"NBGRADER_EXCHANGE": str(exchange), "COURSE_SHARED_EXCHANGE": "1", "COURSE_ROOT": str(course_root),
            "OMP_NUM_THREADS": "1", **extra}


def pipeline(user: str, course_root: Path, exchange: Path, *args: str, **env) -> str:
    proc = as_user(user, str(HUB_BIN / "python"), "-m", "course_grader.pipeline", *args, "--root", str(course_root),
                   cwd=str(course_root), env=instructor_env(exchange, course_root, **env))
    return proc.stdout + proc.stderr


def dumps(obj) -> str:
    return json.dumps(obj)


if __name__ == "__main__":
    print(missing() or "ok")
    sys.exit(0)
