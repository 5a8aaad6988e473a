"""The offline demos, on real data that ships with scikit-learn:
classification by default (dhkd_det/experiments/demo_cls.py, about 4
minutes on 2 CPU cores), detection with --task det (tools/demo_det.py).

    python tools/demo.py                  # the default run
    python tools/demo.py --seeds 0 1 2    # mean ± std over 3 seeds
    python tools/demo.py --smoke          # a 1-epoch run on a subset (tests)
    python tools/demo.py --task det       # the detection demo (demo_det.py)

The classification demo caches its teacher in WORK_DIR/teacher_cache/: a
second run with the same config, data, seed, epochs and torch version skips
training it.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from dhkd_det.experiments import demo_cls  # noqa: E402


def main(argv=None):
    task_parser = argparse.ArgumentParser(add_help=False)
    task_parser.add_argument('--task', choices=['cls', 'det'], default='cls',
                             help='cls: classification (this help); det: '
                             'the detection demo (--task det --help)')
    task, rest = task_parser.parse_known_args(argv)
    if task.task == 'det':  # its own arguments, help included
        import demo_det  # tools/ is on sys.path when this runs as a script
        return demo_det.main(rest)
    parser = demo_cls.argument_parser(parents=[task_parser])
    demo_cls.run_demo(parser.parse_args(argv))


if __name__ == '__main__':
    main()
