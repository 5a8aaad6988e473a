"""Print one Markdown table of runs: config, method, student / teacher,
seed, epochs, best and last top-1 of each head (and bbox mAP), wall time and
work dir; --csv writes the same runs one number a column.

    python tools/analysis/summarize.py work_dirs/* [--out results.md] \
        [--csv results.csv]

Folders that are not work dirs of a run are skipped with a note.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(
    __file__)))))

from dhkd_det.analysis import markdown_table, read_run, summarize  # noqa
from dhkd_det.analysis.summary import csv_table  # noqa


def main():
    parser = argparse.ArgumentParser(description='Summarize runs.')
    parser.add_argument('work_dirs', nargs='+')
    parser.add_argument('--out', help='also write the table to this file')
    parser.add_argument('--csv', help='also write the table as CSV here')
    args = parser.parse_args()
    runs = []
    for work_dir in args.work_dirs:
        try:
            runs.append(read_run(work_dir))
        except FileNotFoundError as err:
            print(f'skipped: {err}', file=sys.stderr)
    rows = [summarize(run) for run in runs]
    if not rows:
        sys.exit('no runs found')
    table = markdown_table(rows)
    print(table)
    if args.out:
        with open(args.out, 'w') as f:
            f.write(table + '\n')
    if args.csv:
        with open(args.csv, 'w') as f:
            f.write(csv_table([summarize(run, numeric=True)
                               for run in runs]))


if __name__ == '__main__':
    main()
