"""nbgrader configuration for the course (instructor side).

Run nbgrader from the repository root (or use the Makefile targets). The layout is nbgrader's
own: source/ is built from the chapter texts chapters/NN-name.py (`make notebooks`), release/ and
solutions/ are generated from it (`make release`).
"""
import os
from pathlib import Path

c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)

c.CourseDirectory.course_id = "transformer-course"
c.CourseDirectory.root = str(Path(__file__).resolve().parent)

# The class's language, the one setting that picks the edition: "en" (source/, release/, solutions/) or
# "zh", 中文版 (source-zh/, release-zh/, solutions-zh/). Same assignment names, grade ids and points, so
# grading, scores and the gradebook are the same; every nbgrader command, the formgrader and
# course_grader.pipeline follow it. COURSE_LANGUAGE in the environment overrides it for one command.
COURSE_LANGUAGE = os.environ.get("COURSE_LANGUAGE") or "en"

from course_grader.pipeline import EDITIONS, check_language  # noqa: E402

check_language(COURSE_LANGUAGE)  # anything but "en" or "zh" stops here, naming the setting

c.CourseDirectory.source_directory = EDITIONS[COURSE_LANGUAGE]["source"]
c.CourseDirectory.release_directory = EDITIONS[COURSE_LANGUAGE]["release"]
c.CourseDirectory.solution_directory = EDITIONS[COURSE_LANGUAGE]["solutions"]

# The exchange students fetch from and submit to. On a shared machine point NBGRADER_EXCHANGE at a
# folder every student can write to (see the README's "shared machine" section).

c.Exchange.root = os.environ.get("NBGRADER_EXCHANGE", str(Path(c.CourseDirectory.root) / "exchange"))
c.Exchange.path_includes_course = True
c.CollectApp.check_owner = False  # everyone is the same OS user in a single-user or container set-up
# On JupyterHub (hub/jupyterhub_config.py sets COURSE_SHARED_EXCHANGE=1 in the instructor's server and the
# formgrader service) every person is their own Unix account: collect refuses a submission that names a
# student other than the account that wrote it (course_grader.hub.OwnerCheckedCollect).
if os.environ.get("COURSE_SHARED_EXCHANGE") == "1":
    c.CollectApp.check_owner = True
    c.ExchangeFactory.collect = "course_grader.hub.OwnerCheckedCollect"
    c.CourseDirectory.max_file_size = 5000  # kB: a larger file in a submission is left out (with a warning)

# The gradebook: SQLite in the course folder unless NBGRADER_DB_URL names another database, e.g.
# postgresql+psycopg2://grader@127.0.0.1:5432/transformer_course (SQLAlchemy 2.1 needs the +psycopg2),
# which several graders can write at once.
if os.environ.get("NBGRADER_DB_URL"):
    c.CourseDirectory.db_url = os.environ["NBGRADER_DB_URL"]

# What a submission leaves out: nbgrader's defaults plus chapter 08's training checkpoints (megabytes
# of weights that grading never reads).
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "checkpoints"]

# A cell that runs longer than this scores zero; later cells still run.
c.Execute.timeout = 180

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Solutions are committed without outputs so that regenerating them is deterministic
# (timings and figures differ on every run). The test suite executes them instead.
from nbgrader.preprocessors import ClearMarkScheme, ClearOutput, IncludeHeaderFooter, LockCells  # noqa: E402

c.GenerateSolution.preprocessors = [IncludeHeaderFooter, LockCells, ClearOutput, ClearMarkScheme]

# Autograding you can trust (grader/course_grader/grading): student code runs only inside bubblewrap
# sandboxes (an unprivileged user, a read-only view without the course folder or the grader, no network,
# its own PID namespace, limits; README "How grading resists cheating"). The kernel run there produces the
# feedback's outputs; every test cell's verdict comes from a static tamper scan and the graded run, whose
# judge runs the test cells and the hidden checks outside the sandbox and asks the student's code, in the
# sandbox, only for values; a kernel that dies no longer fails the whole submission.
from course_grader.grading.nbgrader_plugins import SanitizeStudentMarkup, TrustedExecute  # noqa: E402
from course_grader.intake import nbgrader_hook  # noqa: E402
from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor  # noqa: E402
from nbgrader.preprocessors import (  # noqa: E402
    AssignLatePenalties,
    CheckCellMetadata,
    ClearHiddenTests,
    GetGrades,
    IgnorePattern,
    LimitOutput,
    SaveAutoGrades,
)

# One door: make autograde and the formgrader's Autograde button (NbGraderAPI) grade the same way; intake runs
# on both (make autograde also handles renamed and missing notebooks before nbgrader starts).
c.Autograde.pre_convert_hook = nbgrader_hook
c.Autograde.autograde_preprocessors = [TrustedExecute, SanitizeStudentMarkup, IgnorePattern, ClearMetadataPreprocessor,
                                       LimitOutput, SaveAutoGrades, AssignLatePenalties, CheckCellMetadata]
# The grading options, one place (course_grader.grading.nbgrader_plugins.TrustedExecute has their help):
c.TrustedExecute.submission_seconds = 900  # wall clock of one submission, for the kernel run and the graded run each
c.TrustedExecute.memory_mb = 6144  # address space of each of a submission's processes
c.TrustedExecute.disk_mb = 256  # its writable folder and its /tmp, each
c.TrustedExecute.processes = 64  # processes at once (as root, where the sandbox has a user of its own)
c.TrustedExecute.unsafe_no_sandbox = False  # True grades without bubblewrap: student code then runs as you
c.TrustedExecute.run_kernel = True  # False (make autograde KERNEL=0): no kernel run, the same grades, faster

# What a submission produces is hostile: its markdown and every output are sanitised in the autograded notebook
# (SanitizeStudentMarkup: no <script>, no event handlers, no JavaScript or SVG outputs), which the feedback and
# the formgrader both render; the instructor's own markdown keeps its markup. The feedback never shows the
# hidden tests (nbgrader #917).
c.GenerateFeedback.preprocessors = [GetGrades, CSSHTMLHeaderPreprocessor, ClearHiddenTests]
c.ClearHiddenTests.enforce_metadata = False
