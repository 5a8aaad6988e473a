"""dhkd_det/startup_hook.py, what the start-up line in site-packages runs in
every process: it adds ``dhkd_det`` to MMEngine's table of config packages
when MMEngine's config reader is imported (so ``dhkd_det::`` names resolve
before the package is imported) and installs the mmcv ops finder, importing
nothing of ours.  Each case runs in a fresh interpreter with the finders the
environment's start-up line installed taken off first."""
import json
import os.path as osp
import subprocess
import sys
import textwrap

from cls_utils import REPO

HOOK = osp.join(REPO, 'dhkd_det', 'startup_hook.py')

PRELUDE = textwrap.dedent('''
    import importlib.util, json, sys
    sys.meta_path[:] = [f for f in sys.meta_path
                        if not getattr(f, 'dhkd_config_package', False)
                        and not getattr(f, 'dhkd_mmcv_ops', False)]
    def install():
        spec = importlib.util.spec_from_file_location('startup_hook', %r)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        module.install()
    ''' % HOOK)


def fresh(code: str) -> dict:
    proc = subprocess.run([sys.executable, '-c', PRELUDE + code],
                          capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_without_the_hook_mmengine_does_not_know_the_name():
    found = fresh(textwrap.dedent('''
        from mmengine.config.utils import MODULE2PACKAGE
        print(json.dumps(dict(known='dhkd_det' in MODULE2PACKAGE)))
        '''))
    assert found == dict(known=False)


def test_the_hook_adds_the_name_when_the_reader_is_imported():
    found = fresh(textwrap.dedent('''
        install()
        before = 'mmengine' in sys.modules
        import inspect
        import mmengine.config.utils as utils
        print(json.dumps(dict(
            before=before, known=utils.MODULE2PACKAGE.get('dhkd_det'),
            ours_imported='dhkd_det' in sys.modules,
            source=len(inspect.getsource(utils)) > 1000,
            mmcv_finder=any(getattr(f, 'dhkd_mmcv_ops', False)
                            for f in sys.meta_path))))
        '''))
    assert found == dict(before=False, known='dhkd_det', ours_imported=False,
                         source=True, mmcv_finder=True)


def test_installed_after_the_reader_it_adds_the_name_at_once():
    found = fresh(textwrap.dedent('''
        from mmengine.config.utils import MODULE2PACKAGE
        install()
        install()  # twice: one finder
        print(json.dumps(dict(
            known=MODULE2PACKAGE.get('dhkd_det'),
            finders=sum(getattr(f, 'dhkd_config_package', False)
                        for f in sys.meta_path))))
        '''))
    assert found == dict(known='dhkd_det', finders=1)
