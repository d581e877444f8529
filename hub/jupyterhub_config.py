"""JupyterHub for a class of the course on one server (``make hub``; README: "A class on JupyterHub").

Everything binds to 127.0.0.1 (put a TLS proxy in front to open it to a class). People log in with
their Unix password (the default PAM authenticator); each person is their own Unix account, and the
hub starts each server as that account (the default LocalProcessSpawner), so the exchange's Unix
permissions keep students apart. Read from the environment:

- ``COURSE_INSTRUCTORS`` / ``COURSE_STUDENTS``: comma-separated Unix account names, or ``HUB_ROSTER``:
  a JSON file ``{"instructors": [...], "students": [...]}`` (default ``hub/roster.json``). Nobody else
  may log in.
- ``NBGRADER_EXCHANGE``: the shared exchange (default ``/srv/nbgrader/exchange``), prepared with
  ``python -m course_grader.hub prepare``.
- ``COURSE_ROOT``: the instructor's course folder (default ``~<first instructor>/transformer-course``).
- ``HUB_PORT`` (8000; the hub's API, the proxy's API and the formgrader take the next three ports),
  ``HUB_STATE_DIR`` (``hub/state``), ``HUB_VENV`` / ``HUB_STUDENT_VENV`` (the environments ``make hub`` builds).
- ``NBGRADER_DB_URL``: a shared gradebook (PostgreSQL) instead of the course folder's SQLite file.
"""
import json
import os
import pwd
from pathlib import Path

from course_grader.hub import lock_home

c = get_config()  # noqa: F821

HERE = Path(__file__).resolve().parent
COURSE_ID = "transformer-course"
PORT = int(os.environ.get("HUB_PORT", "8000"))
STATE = Path(os.environ.get("HUB_STATE_DIR", HERE / "state"))
STATE.mkdir(parents=True, exist_ok=True)
os.chmod(STATE, 0o700)  # the hub's database and cookie secret
HUB_BIN = Path(os.environ.get("HUB_VENV", HERE / ".venv")).resolve() / "bin"
STUDENT_BIN = Path(os.environ.get("HUB_STUDENT_VENV", HERE / ".venv-student")).resolve() / "bin"
EXCHANGE = os.environ.get("NBGRADER_EXCHANGE", "/srv/nbgrader/exchange")


def _names(value):
    return [n.strip() for n in (value or "").split(",") if n.strip()]


roster_file = Path(os.environ.get("HUB_ROSTER", HERE / "roster.json"))
roster = json.loads(roster_file.read_text()) if roster_file.is_file() else {}
INSTRUCTORS = _names(os.environ.get("COURSE_INSTRUCTORS")) or roster.get("instructors", [])
STUDENTS = _names(os.environ.get("COURSE_STUDENTS")) or roster.get("students", [])
if not INSTRUCTORS:
    raise SystemExit("no instructor: set COURSE_INSTRUCTORS=name[,name] or write hub/roster.json")
GRADER = os.environ.get("COURSE_GRADER_USER", INSTRUCTORS[0])  # the account the formgrader service runs as
try:
    _grader_home = pwd.getpwnam(GRADER).pw_dir
except KeyError:
    raise SystemExit(f"the instructor account {GRADER!r} does not exist: create it (useradd -m {GRADER}) "
                     "or name another with COURSE_GRADER_USER") from None
COURSE_ROOT = os.environ.get("COURSE_ROOT", str(Path(_grader_home) / COURSE_ID))
if not Path(COURSE_ROOT, "nbgrader_config.py").is_file():
    raise SystemExit(f"the instructor's course folder {COURSE_ROOT} has no nbgrader_config.py: as {GRADER}, put a "
                     f"copy of this course there (git clone <this repository> {COURSE_ROOT}), or point COURSE_ROOT at "
                     "the folder that has it")

# --- network: loopback only -------------------------------------------------------------------------
c.JupyterHub.bind_url = f"http://127.0.0.1:{PORT}"
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = PORT + 1
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{PORT + 2}"
c.ConfigurableHTTPProxy.command = [str(HERE / "node" / "node_modules" / ".bin" / "configurable-http-proxy")]
c.ConfigurableHTTPProxy.pid_file = str(STATE / "proxy.pid")
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(STATE / "jupyterhub.pid")
c.Spawner.ip = "127.0.0.1"

# --- who may log in: the roster, with their Unix passwords (PAM) -----------------------------------------
c.JupyterHub.authenticator_class = "pam"
c.PAMAuthenticator.open_sessions = False  # no systemd-logind session per login on a container or a plain server
c.Authenticator.allowed_users = set(INSTRUCTORS) | set(STUDENTS)
c.Authenticator.admin_users = set()
c.Authenticator.reset_managed_roles_on_startup = False

# nbgrader's JupyterHub groups: formgrade-<course> for instructors and graders, nbgrader-<course> for students
c.JupyterHub.load_groups = {
    f"formgrade-{COURSE_ID}": {"users": sorted(set(INSTRUCTORS) | {GRADER})},
    f"nbgrader-{COURSE_ID}": {"users": sorted(STUDENTS)},
}
c.JupyterHub.load_roles = [
    {"name": f"grader-{COURSE_ID}", "groups": [f"formgrade-{COURSE_ID}"],
     "scopes": [f"access:services!service={COURSE_ID}"]},
    # the formgrader asks the hub who is in the course (nbgrader's JupyterHubAuthPlugin)
    {"name": f"service-{COURSE_ID}", "services": [COURSE_ID],
     "scopes": ["list:users", "read:users", "list:groups", "read:groups", "groups"]},
]

# --- each person's server, as their own Unix account ----------------------------------------------------
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.default_url = "/lab"
c.Spawner.start_timeout = 120  # a slow shared machine
c.Spawner.http_timeout = 120
c.Spawner.mem_limit = os.environ.get("HUB_MEM_LIMIT")  # honoured by spawners that can (not the local one)


def pre_spawn_hook(spawner):
    """Instructors get the instructor environment (formgrader); students the locked-down student one. Everyone's
    home is made 700 first: their work and their nbgrader cache (each submission's secret) are theirs alone."""
    name = spawner.user.name
    lock_home(name)
    instructor = name in INSTRUCTORS
    bin_dir = HUB_BIN if instructor else STUDENT_BIN
    spawner.cmd = [str(bin_dir / "jupyterhub-singleuser")]
    env = {
        "PATH": f"{bin_dir}:/usr/local/bin:/usr/bin:/bin",
        "NBGRADER_EXCHANGE": EXCHANGE,
        "LanguageServerManager_autodetect": "false",
    }
    if instructor:
        env.update(COURSE_SHARED_EXCHANGE="1", COURSE_ROOT=COURSE_ROOT)
        spawner.notebook_dir = COURSE_ROOT
    else:
        env["JUPYTER_CONFIG_PATH"] = str(HERE / "jupyter-student")
        spawner.notebook_dir = "~"
    if os.environ.get("NBGRADER_DB_URL") and instructor:
        env["NBGRADER_DB_URL"] = os.environ["NBGRADER_DB_URL"]
    spawner.environment.update(env)


c.Spawner.pre_spawn_hook = pre_spawn_hook

# --- one formgrader for the course, a hub service run as the grading account ----------------------------
service_env = {
    "PATH": f"{HUB_BIN}:/usr/local/bin:/usr/bin:/bin",
    "NBGRADER_EXCHANGE": EXCHANGE,
    "COURSE_SHARED_EXCHANGE": "1",
    "COURSE_ROOT": COURSE_ROOT,
    "HOME": pwd.getpwnam(GRADER).pw_dir,
}
if os.environ.get("NBGRADER_DB_URL"):
    service_env["NBGRADER_DB_URL"] = os.environ["NBGRADER_DB_URL"]
c.JupyterHub.services = [{
    "name": COURSE_ID,  # nbgrader: the service's name is the course id
    "url": f"http://127.0.0.1:{PORT + 3}",
    "command": [str(HUB_BIN / "jupyterhub-singleuser"), f"--ServerApp.root_dir={COURSE_ROOT}"],
    "user": GRADER,
    "cwd": COURSE_ROOT,
    "environment": service_env,
    "oauth_no_confirm": True,
}]
