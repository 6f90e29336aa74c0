# Handlers read secrets from /var/openfaas/secrets/<name>, as on OpenFaaS; locally they live elsewhere.
import builtins
import os

_folder = os.getenv("FAASLINE_SECRETS_DIR")
_prefix = "/var/openfaas/secrets/"
_open = builtins.open


def _redirect(path):
    if _folder and isinstance(path, str) and path.startswith(_prefix):
        return os.path.join(_folder, os.path.basename(path))
    return path


def _open_redirected(file, *args, **kwargs):
    return _open(_redirect(file), *args, **kwargs)


builtins.open = _open_redirected
