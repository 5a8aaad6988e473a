"""Downloads with a timeout and a cache keyed by the whole URL, against
local servers (a stalled one, a refused port, a small file server)."""
import io
import os.path as osp

import pytest
import torch
from mmengine.runner import CheckpointLoader

from dhkd_det.checkpoint import fetch_checkpoint, read_checkpoint
from dhkd_det.checkpoint.remote import resolve_url
from dhkd_det.utils.download import (DownloadError, cache_path, fetch,
                                     unreachable)
from url_servers import file_server, refused_url, stalled_server


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv('DHKD_CACHE_DIR', str(tmp_path / 'cache'))
    monkeypatch.setenv('DHKD_DOWNLOAD_TIMEOUT', '0.5')
    monkeypatch.setenv('DHKD_PROBE_TIMEOUT', '0.5')
    return tmp_path / 'cache'


def checkpoint_bytes(value: float) -> bytes:
    buffer = io.BytesIO()
    torch.save({'state_dict': {'w': torch.full((2, ), value)}}, buffer)
    return buffer.getvalue()


def test_a_stalled_server_is_a_named_error_not_a_hang():
    with stalled_server() as url:
        name = f'{url}/teachers/latest.pth'
        with pytest.raises(DownloadError) as info:
            fetch_checkpoint(name, key='model.teacher_ckpt')
        message = str(info.value)
        assert message.startswith(f'model.teacher_ckpt={name}: downloading '
                                  f'{name} failed: the server sent nothing '
                                  'for 0.5 s (stalled)')
        assert 'set model.teacher_ckpt to the local file' in message
        assert cache_path(name) in message
        assert 'stalled' in unreachable(name)
    assert not osp.exists(cache_path(name))


def test_a_refused_port_is_named():
    url = refused_url() + '/x.pth'
    with pytest.raises(DownloadError, match='the connection was refused'):
        fetch(url)
    assert unreachable(url) == 'the connection was refused'


def test_two_files_of_one_name_at_two_addresses_are_cached_apart(cache):
    files = {'/a/latest.pth': checkpoint_bytes(1.0),
             '/b/latest.pth': checkpoint_bytes(2.0)}
    with file_server(files) as url:
        first, second = f'{url}/a/latest.pth', f'{url}/b/latest.pth'
        assert unreachable(first) is None
        assert unreachable(f'{url}/c/latest.pth') == \
            'the server answered HTTP 404 Not Found'
        # MMEngine's own reader (backbones' init_cfg) and ours (teachers)
        a = CheckpointLoader.load_checkpoint(first, map_location='cpu')
        b = read_checkpoint(second, 'teacher checkpoint')
        files.clear()  # the server has nothing now: both come from the cache
        assert a['state_dict']['w'].tolist() == [1.0, 1.0]
        assert b['state_dict']['w'].tolist() == [2.0, 2.0]
        again = CheckpointLoader.load_checkpoint(second, map_location='cpu')
        assert again['state_dict']['w'].tolist() == [2.0, 2.0]
    assert cache_path(first) != cache_path(second)
    assert osp.basename(cache_path(first)) == 'latest.pth'
    assert osp.isfile(cache_path(first)) and osp.isfile(cache_path(second))


def test_a_checkpoint_of_objects_is_still_refused(cache):
    """URLs keep torch's weights_only default (the package's guarantee)."""
    buffer = io.BytesIO()
    torch.save({'state_dict': {}, 'obj': torch.nn.Linear(1, 1)}, buffer)
    with file_server({'/m.pth': buffer.getvalue()}) as url:
        with pytest.raises(ValueError, match='not plain weights'):
            read_checkpoint(f'{url}/m.pth', 'teacher checkpoint')


def test_zoo_names_resolve_to_their_addresses():
    assert resolve_url('torchvision://resnet50').startswith(
        'https://download.pytorch.org/models/resnet50-')
    assert resolve_url('/local/file.pth') is None
    assert resolve_url('s3://bucket/file.pth') is None
    with pytest.raises(KeyError, match='torchvision has no model'):
        resolve_url('torchvision://resnet5')
