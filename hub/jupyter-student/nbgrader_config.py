"""nbgrader's settings for every student server the hub starts (found through JUPYTER_CONFIG_PATH).

Students fetch from and submit to the shared exchange; nothing here names the instructor's course folder.
"""
import os

c = get_config()  # noqa: F821
c.CourseDirectory.course_id = "transformer-course"
c.Exchange.root = os.environ.get("NBGRADER_EXCHANGE", "/srv/nbgrader/exchange")
c.Exchange.path_includes_course = True
# each submission readable by its author and the instructor's group only (course/exchange.py)
c.ExchangeFactory.submit = "course.exchange.PrivateSubmit"
# files over 5 MB are left out of a submission (nbgrader logs "Ignoring file too large"); collect does the same
c.CourseDirectory.max_file_size = 5000
