"""The grader's notes in a feedback (nbgrader_plugins, kernel_run, the tamper scan, intake) in Chinese; see
course.checks.messages."""

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
    # scan.py: what the tamper scan says about a line of an answer cell
    "uses {name}: touching the interpreter or other processes is not allowed":
        "使用了 {name}：不允许操作解释器或其他进程",
    "uses {name}: answer cells may not touch files or the operating system":
        "使用了 {name}：答案单元格不能访问文件或操作系统",
    "uses {name}: building functions or reaching attributes indirectly is not allowed":
        "使用了 {name}：不允许动态构造函数，也不允许间接访问属性",
    "uses {name}: hooking into IPython is not allowed in answer cells": "使用了 {name}：答案单元格中不允许挂钩 IPython",
    "uses {name}: introspecting frames, functions or classes is not allowed":
        "使用了 {name}：不允许对栈帧、函数或类做内省",
    "assigns to": "赋值给",
    "deletes": "删除了",
    "calls {name} on": "用 {name} 修改",
    "{verb} {name}: changing library functions and objects is not allowed":
        "{verb} {name}：不允许修改库函数和库对象",
    "{verb} {name}: redefine special methods only inside your own class body":
        "{verb} {name}：特殊方法只能在你自己的类定义中重新定义",
    "imports {module}: this module is not allowed in answer cells": "导入了 {module}：答案单元格中不允许使用这个模块",
    "imports * from {module}: import names one by one": "从 {module} 导入了 *：请逐个导入名字",
    "defines {name}: changing how libraries treat objects is not allowed":
        "定义了 {name}：不允许改变库对待对象的方式",
    "uses {name}: write library attributes out, not via __dict__":
        "使用了 {name}：请直接写出库的属性，不要通过 __dict__",
    "declares the built-in {name} global: replacing built-ins is not allowed":
        "把内置名字 {name} 声明为 global：不允许替换内置名字",
    "mentions '{word}' in a string: answer cells must not name grading files":
        "在字符串中提到了 '{word}'：答案单元格不能提及评分用的文件",
    "uses the IPython command {command}: magics and shell commands are not allowed in answer cells":
        "使用了 IPython 命令 {command}：答案单元格中不允许使用魔法命令和 shell 命令",
    "uses getattr on {name}: write the attribute out": "对 {name} 使用了 getattr：请直接写出属性",
    "uses getattr with a computed name: write the attribute out instead":
        "用计算出来的名字调用了 getattr：请直接写出属性",
    "uses getattr(..., {name!r}): write the attribute out instead": "使用了 getattr(..., {name!r})：请直接写出属性",
    "uses vars() on a module or namespace: write the attribute out instead":
        "对模块或命名空间使用了 vars()：请直接写出属性",
    "redefines the built-in {name}: replacing built-ins is not allowed":
        "重新定义了内置名字 {name}：不允许替换内置名字",
    "is too long or nested too deeply to check: split it up": "太长或嵌套太深，无法检查：请把它拆开",
    # intake.py: what was wrong with the file handed in
    "the notebook was handed in as {found!r}, not {expected!r}; it was graded under the expected name":
        "提交的笔记本名为 {found!r}，而不是 {expected!r}；它已按应有的文件名评分",
    "no notebook at all": "没有任何笔记本",
    "the submission has no {expected} (found: {found}); it was graded as unanswered":
        "这份提交中没有 {expected}（找到的是：{found}）；它按未作答评分",
    "the notebook is {size:.0f} MB (limit {limit:.0f} MB); its outputs were dropped before grading":
        "这个笔记本有 {size:.0f} MB（上限为 {limit:.0f} MB）；评分前已删除它的输出",
    "the notebook could not be read: {why}; it was graded as unanswered (the file is kept as {name}.unreadable)":
        "无法读取这个笔记本：{why}；它按未作答评分（原文件保存为 {name}.unreadable）",
    "it is not valid JSON (line {line}, column {column}: {error})":
        "它不是有效的 JSON（第 {line} 行，第 {column} 列：{error}）",
    "it is not a text file": "它不是文本文件",
    "it is not a readable notebook ({kind}: {error})": "它不是可读取的笔记本（{kind}：{error}）",
    "it has no cells": "它没有任何单元格",
    "cells carried nbgrader metadata of cells the released notebook does not have ({ids}); they were graded as the "
    "student's own cells":
        "有单元格带着发布的笔记本中并不存在的单元格的 nbgrader 元数据（{ids}）；它们已按学生自己添加的单元格评分",
    "graded cells were missing and were restored from the released notebook: {ids} (a missing answer cell counts as "
    "unanswered)":
        "缺少一些评分单元格，已从发布的笔记本中恢复：{ids}（缺少的答案单元格按未作答计）",
    "it was flagged: {message}": "它被标记了：{message}",
    # isolated.py
    "the set-up cell failed: {why}": "准备单元格（set-up）运行失败：{why}",
    "the grader could not run this test": "评分程序没能运行这个测试",
    "answer cell {cell} was not run because {why}": "答案单元格 {cell} 没有运行，因为{why}",
    "the submission used up its grading time ({seconds:g} s) before this test ran":
        "这份提交在运行到这个测试之前就用完了评分时间（{seconds:g} 秒）",
    "it changed library functions the tests rely on ({names})": "它改动了测试所依赖的库函数（{names}）",
    "it did not finish within {seconds:g} s": "它没有在 {seconds:g} 秒内运行完",
    "its process stopped answering ({why})": "它的进程停止了响应（{why}）",
    "it ended the Python process (exit code {code})": "它结束了 Python 进程（退出码 {code}）",
}
