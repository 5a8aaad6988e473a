"""Downloads that never hang and a cache keyed by the whole URL.

``urllib`` and ``torch.hub`` wait on a stalled server for ever (no socket
timeout), and ``torch.hub``'s cache (which MMEngine uses for checkpoint
URLs) is keyed by the file name alone, so two checkpoints called
``latest.pth`` at different addresses share one cached file.  Here every
socket operation has a timeout (a server that sends nothing for that long
is a named error naming the URL and the local alternative), and a URL is
cached under a folder named by the SHA-256 of the whole URL:
``<cache>/<sha256(url)[:16]>/<file name>``.

The cache is ``$DHKD_CACHE_DIR`` if set, else
``<torch hub dir>/checkpoints/by_url`` (``$TORCH_HOME/hub/...``, by default
``~/.cache/torch/hub/...``).  Timeouts, in seconds: ``$DHKD_DOWNLOAD_TIMEOUT``
(default 60) for a download, ``$DHKD_PROBE_TIMEOUT`` (default 5) for the
pre-flight's look at whether a URL answers.  ``DHKD_OFFLINE=1`` contacts no
address but this machine's own (``localhost``, ``127.*``, ``::1``): other
URLs are unreachable at once and only their cached files are used (the
test suite runs so).
"""
import hashlib
import os
import os.path as osp
import socket
import urllib.error
import urllib.parse
import urllib.request
from typing import Optional

#: seconds a download may wait for the server's next bytes
DEFAULT_DOWNLOAD_TIMEOUT = 60.0
#: seconds the pre-flight waits for a URL to answer
DEFAULT_PROBE_TIMEOUT = 5.0
_CHUNK = 1 << 20


class DownloadError(RuntimeError):
    """A URL could not be fetched: stalled, refused, not found, or cut
    off.  The message names the URL, why, and the local alternative."""


def _seconds(env: str, default: float) -> float:
    value = os.environ.get(env)
    if not value:
        return default
    try:
        seconds = float(value)
    except ValueError:
        raise ValueError(f'${env}={value!r}: give a number of seconds, '
                         f'e.g. {env}={default:g}') from None
    if not seconds > 0:
        raise ValueError(f'${env}={value!r}: give a positive number of '
                         'seconds')
    return seconds


def download_timeout() -> float:
    return _seconds('DHKD_DOWNLOAD_TIMEOUT', DEFAULT_DOWNLOAD_TIMEOUT)


def probe_timeout() -> float:
    return _seconds('DHKD_PROBE_TIMEOUT', DEFAULT_PROBE_TIMEOUT)


def cache_dir() -> str:
    """The folder of the URL cache (see the module's doc)."""
    root = os.environ.get('DHKD_CACHE_DIR')
    if root:
        return root
    import torch.hub
    return osp.join(torch.hub.get_dir(), 'checkpoints', 'by_url')


def file_name(url: str) -> str:
    """The file name a URL's path ends in (``download`` if none)."""
    name = osp.basename(urllib.parse.urlparse(url).path)
    return urllib.parse.unquote(name) or 'download'


def cache_path(url: str) -> str:
    """Where ``url`` is cached: a folder per whole URL (its SHA-256), so
    ``https://a/latest.pth`` and ``https://b/latest.pth`` never share a
    file."""
    digest = hashlib.sha256(url.encode('utf-8')).hexdigest()[:16]
    return osp.join(cache_dir(), digest, file_name(url))


def cached(url: str) -> Optional[str]:
    """The cached file of ``url``, or None."""
    path = cache_path(url)
    return path if osp.isfile(path) else None


_LOOPBACK = ('localhost', '::1')


def _offline_refusal(url: str) -> Optional[str]:
    """Why ``url`` is not contacted under ``DHKD_OFFLINE=1``, or None."""
    if os.environ.get('DHKD_OFFLINE', '') in ('', '0'):
        return None
    host = urllib.parse.urlparse(url).hostname or ''
    if host in _LOOPBACK or host.startswith('127.'):
        return None
    return 'DHKD_OFFLINE is set: no address outside this machine is ' \
        'contacted'


def _reason(err: BaseException, timeout: float) -> str:
    """Why a request failed, in words."""
    if isinstance(err, urllib.error.HTTPError):
        return f'the server answered HTTP {err.code} {err.reason}'
    inner = getattr(err, 'reason', err)
    if isinstance(inner, (socket.timeout, TimeoutError)) or \
            isinstance(err, (socket.timeout, TimeoutError)):
        return f'the server sent nothing for {timeout:g} s (stalled)'
    if isinstance(inner, ConnectionRefusedError):
        return 'the connection was refused'
    if isinstance(inner, socket.gaierror):
        return f'the host name does not resolve ({inner.strerror})'
    return f'{type(inner).__name__}: {inner}'


def fetch(url: str, timeout: Optional[float] = None,
          alternative: str = '') -> str:
    """The local path of ``url``: its cached file, or the URL downloaded
    into the cache first (``download_to``)."""
    path = cached(url)
    if path:
        return path
    path = cache_path(url)
    os.makedirs(osp.dirname(path), exist_ok=True)
    download_to(url, path, timeout, alternative)
    return path


def download_to(url: str, path: str, timeout: Optional[float] = None,
                alternative: str = '') -> None:
    """Download ``url`` to ``path`` through a temporary file renamed into
    place (concurrent processes never read a partial file).  Each socket
    operation waits at most ``timeout`` seconds (``download_timeout()`` if
    None); on any failure a ``DownloadError`` names the URL, the reason and
    ``alternative`` (what to do without the network)."""
    refusal = _offline_refusal(url)
    if refusal:
        raise DownloadError(f'downloading {url} failed: {refusal}. '
                            f'{alternative}'.rstrip())
    timeout = download_timeout() if timeout is None else timeout
    partial = f'{path}.part{os.getpid()}'
    try:
        request = urllib.request.Request(
            url, headers={'User-Agent': 'dhkd_det'})
        with urllib.request.urlopen(request, timeout=timeout) as response, \
                open(partial, 'wb') as f:
            expected = response.headers.get('Content-Length')
            size = 0
            while True:
                chunk = response.read(_CHUNK)
                if not chunk:
                    break
                f.write(chunk)
                size += len(chunk)
        if expected is not None and size != int(expected):
            raise DownloadError(
                f'downloading {url} was cut off after {size} of {expected} '
                f'bytes. {alternative}'.rstrip())
        os.replace(partial, path)
    except DownloadError:
        raise
    except (urllib.error.URLError, OSError, ValueError) as err:
        raise DownloadError(
            f'downloading {url} failed: {_reason(err, timeout)}. '
            f'{alternative}'.rstrip()) from err
    finally:
        if osp.exists(partial):
            os.remove(partial)


def unreachable(url: str, timeout: Optional[float] = None) -> Optional[str]:
    """None when ``url`` answers within ``timeout`` seconds
    (``probe_timeout()`` if None), else why not: a HEAD request, so nothing
    is downloaded.  A server that answers at all is reachable, except with
    404 / 410 (the file is not there)."""
    refusal = _offline_refusal(url)
    if refusal:
        return refusal
    timeout = probe_timeout() if timeout is None else timeout
    request = urllib.request.Request(url, method='HEAD',
                                     headers={'User-Agent': 'dhkd_det'})
    try:
        with urllib.request.urlopen(request, timeout=timeout):
            return None
    except urllib.error.HTTPError as err:
        return _reason(err, timeout) if err.code in (404, 410) else None
    except (urllib.error.URLError, OSError, ValueError) as err:
        return _reason(err, timeout)
