"""``nbgrader submit`` for a shared server: a submission only its author and the course's graders can read.

nbgrader's own submit leaves each submission folder in the exchange mode 777 with files 644, hidden only
by an unguessable name (nbgrader issue #978); whoever learns the name can read it, change it, or read
its ``submission_secret.txt`` and so fetch its feedback (#1202). The inbound folder is set-group-id
and belongs to the instructor's group, so every submission inherits that group: :class:`PrivateSubmit`
then takes every right away from others (folders 770, files 640). The hub's student configuration
(hub/jupyter-student/nbgrader_config.py) selects it.
"""

from __future__ import annotations

import os
import shutil

from nbgrader.exchange.default.submit import ExchangeSubmit
from nbgrader.utils import ignore_patterns


class PrivateSubmit(ExchangeSubmit):
    def do_copy(self, src, dest, log=None):
        if os.path.dirname(os.path.abspath(dest)) != os.path.abspath(self.inbound_path):
            return super().do_copy(src, dest, log)  # the student's own cache copy
        if self.get_size(src) > 1000 * self.coursedir.max_dir_size:
            raise RuntimeError(f"Directory size is too big: more than {self.coursedir.max_dir_size} kB")
        # shutil.copytree would copy the folders' modes, which drops the set-group-id bit inherited from the
        # inbound folder; then timestamp.txt and submission_secret.txt would not get the instructor's group
        ignore = ignore_patterns(exclude=self.coursedir.ignore, include=self.coursedir.include,
                                 max_file_size=self.coursedir.max_file_size, log=self.log)
        for folder, dirs, files in os.walk(src):
            target = dest if folder == src else os.path.join(dest, os.path.relpath(folder, src))
            os.mkdir(target)
            skipped = ignore(folder, dirs + files)
            dirs[:] = [d for d in dirs if d not in skipped]
            for name in files:
                if name not in skipped:
                    shutil.copyfile(os.path.join(folder, name), os.path.join(target, name))

    def copy_files(self):
        super().copy_files()
        dest = os.path.join(self.inbound_path, self.assignment_filename)
        for folder, _dirs, files in os.walk(dest):
            os.chmod(folder, 0o2770)
            for name in files:
                os.chmod(os.path.join(folder, name), 0o640)
