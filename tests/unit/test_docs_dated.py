"""Every time the docs quote is dated and says on what machine.

A run time measured here ("CE 5.5 min") means little a year later on
another machine: the paragraph that quotes it (a table counts with the
paragraphs around it) must carry the date of the measurement (YYYY-MM-DD)
and the machine (CPU cores, a GPU model, "machine"). Sentences that state a
setting, not a measurement (a timeout, a target, a budget, a schedule's
interval), are exempt by their wording."""
import glob
import os.path as osp
import re

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DOCS = [osp.join(REPO, 'README.md')] + sorted(
    glob.glob(osp.join(REPO, 'docs', '*.md')))

DURATION = re.compile(
    r'\b\d+h\s?\d+m\b|\b\d+m\s?\d+s\b'
    r'|\b\d+(?:[.,]\d+)?(?:\s?[-–]\s?\d+(?:[.,]\d+)?)?\s?'
    r'(?:ms|s|sec|seconds?|min|minutes?|h|hours?|GPU-hours?)\b')
DATE = re.compile(r'\b20\d\d-\d\d-\d\d\b')
MACHINE = re.compile(r'\bCPU|\bGPU|\bH100|\bH200|\bA100|\bV100|machine|'
                     r'\bcores?\b', re.I)
#: wording of a setting, a limit or an aim rather than a measurement
SETTING = re.compile(
    r'timeout|time-out|time limit|\blimit|target|\baim|goal|budget|'
    r'at most|no more than|\bwithin\b|<=|≤|\bevery\b|interval|--budget|'
    r'--timeout|_s\b|estimate|stall', re.I)
SENTENCE = re.compile(r'(?<=[.!?])\s+(?=[A-Z`(*])')


def blocks(text: str):
    """Paragraphs, with code blocks dropped and each table joined to the
    paragraphs before and after it (its caption)."""
    text = re.sub(r'```.*?```', '', text, flags=re.S)
    paras = [p for p in text.split('\n\n') if p.strip()]
    for i, para in enumerate(paras):
        if para.lstrip().startswith('|'):
            context = paras[max(i - 1, 0):i + 2]
            yield para, '\n\n'.join(context)
        else:
            yield para, para


def measured_durations(para: str):
    found = []
    for sentence in SENTENCE.split(para):
        if SETTING.search(sentence):
            continue
        found += [m.group(0) for m in DURATION.finditer(sentence)]
    return found


def test_the_pattern_finds_quoted_times():
    assert measured_durations('CE took 5.5 min here.') == ['5.5 min']
    assert measured_durations('a timeout of 180 s applies.') == []
    assert measured_durations('It ran 1h 54m.') == ['1h 54m']


def test_every_quoted_time_is_dated_and_names_its_machine():
    undated = []
    for path in DOCS:
        for para, context in blocks(open(path, encoding='utf-8').read()):
            times = measured_durations(para)
            if times and not (DATE.search(context)
                              and MACHINE.search(context)):
                undated.append(f'{osp.relpath(path, REPO)}: {times[:3]} in '
                               f'"{" ".join(para.split())[:100]}..."')
    assert not undated, ('times quoted without a date (YYYY-MM-DD) and the '
                         'machine beside them:\n' + '\n'.join(undated))
