"""The grader's notes in a feedback (nbgrader_plugins, kernel_run) in Chinese; see course.checks.messages."""

MESSAGES = {
    # nbgrader_plugins.py
    "**Grading notes** (read these first)": "**评分说明**（请先阅读）",
    "Graded in a separate process, this test failed: {message}": "在单独的进程中评分时，这个测试没有通过：{message}",
    "- cell `{cell}` line {line}: {message} ({rule})": "- 单元格 `{cell}` 第 {line} 行：{message}（{rule}）",
    "- answer cell `{cell}` was not graded: {why}": "- 答案单元格 `{cell}` 没有参与评分：{why}",
    "- the graded run used up the submission's {seconds:g} s: the tests it had not reached score zero":
        "- 评分运行用完了这份提交的 {seconds:g} 秒：尚未运行到的测试记为零分",
    "- graded WITHOUT the sandbox (unsafe_no_sandbox): this submission's code ran as the grading account":
        "- 评分时**没有**使用沙箱（unsafe_no_sandbox）：这份提交的代码是以评分账户的身份运行的",
    "- graded without running the notebook in a kernel: every test ran in the grader and shows its verdict and what "
    "it printed; the other cells show no output":
        "- 评分时没有在内核中运行这个笔记本：每个测试都在评分程序中运行，显示其结果和打印的内容；其他单元格没有输出",
    # kernel_run.py
    "the kernel run returned an unreadable notebook; no outputs are shown":
        "内核运行返回的笔记本无法读取；不显示任何输出",
    "the kernel run returned a notebook with other cells; no outputs are shown":
        "内核运行返回的笔记本与发送的单元格不一致；不显示任何输出",
    "the kernel's sandbox stopped; no outputs are shown, but every test was still graded":
        "内核所在的沙箱停止了；不显示任何输出，但每个测试仍然都评了分",
    "the notebook did not finish running within the submission's {seconds:g} s; its outputs are not shown, but every "
    "test was still graded": "笔记本没有在这份提交的 {seconds:g} 秒内运行完；不显示它的输出，但每个测试仍然都评了分",
    "the notebook's run ended without a result; its outputs are not shown, but every test was still graded":
        "笔记本的运行没有给出结果就结束了；不显示它的输出，但每个测试仍然都评了分",
    "the kernel run returned an unreadable result; no outputs are shown": "内核运行返回的结果无法读取；不显示任何输出",
    "the notebook's kernel stopped before the end ({problem}); cells after that point show no output, but every test "
    "was still graded": "笔记本的内核在运行到结尾之前停止了（{problem}）；此后的单元格没有输出，但每个测试仍然都评了分",
}
