"""PyTorch for the scripts that hold Reel's network library against it
(tests/conformance/test_nn_torch.py, bench/bench_nn.py): build/venv-torch, a
venv over Debian's python3 with --system-site-packages (numpy, cv2 and
OpenImageIO stay Debian's), filled by `pip install torch` from PyPI on first
use (about 90 s; several GB). Offline, or with REEL_NO_FETCH=1, callers skip
with the reason this module gives."""
import fcntl
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.path.join(ROOT, "build", "venv-torch")
PY = os.path.join(VENV, "bin", "python")
MARK = "REEL_TORCH_VENV"  # set in the environment of the re-executed script


def _has_torch(py):
    return os.path.exists(py) and subprocess.run(
        [py, "-c", "import torch"], capture_output=True).returncode == 0


def _last_line(r):
    lines = (r.stderr or r.stdout or "").strip().splitlines()
    return lines[-1] if lines else "exit status %d" % r.returncode


def ensure():
    """(python with torch, None), or (None, reason to skip). Raises
    RuntimeError when PyPI answers but the install fails."""
    if _has_torch(PY):
        return PY, None
    if os.environ.get("REEL_NO_FETCH") == "1":
        return None, "PyTorch is not in build/venv-torch and REEL_NO_FETCH=1"
    os.makedirs(os.path.dirname(VENV), exist_ok=True)
    with open(VENV + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a parallel test or bench may be installing
        if _has_torch(PY):
            return PY, None
        base = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
        r = subprocess.run([base, "-m", "venv", "--system-site-packages", VENV],
                           capture_output=True, text=True)
        if r.returncode:
            raise RuntimeError("python3 -m venv %s: %s (apt-get install python3-venv)" %
                               (VENV, _last_line(r)))
        pip = [PY, "-m", "pip", "--disable-pip-version-check"]
        r = subprocess.run(pip + ["index", "versions", "torch", "--timeout", "10", "--retries",
                                  "1"], capture_output=True, text=True, timeout=120)
        if r.returncode:
            return None, "PyPI is unreachable (pip index versions torch: %s)" % _last_line(r)
        print("torch_venv: pip install torch into %s (once, about 90 s)" % VENV, flush=True)
        r = subprocess.run(pip + ["install", "-q", "torch"], capture_output=True, text=True)
        if r.returncode or not _has_torch(PY):
            raise RuntimeError("pip install torch into %s failed: %s" % (VENV, _last_line(r)))
    return PY, None


def reexec():
    """Makes the calling script run under a python that imports torch: returns
    None when this one does, else re-executes the script under build/venv-torch
    (creating it) and does not return, or returns the reason to skip."""
    try:
        import torch  # noqa: F401
        return None
    except ImportError:
        pass
    if os.environ.get(MARK):
        raise RuntimeError("%s cannot import torch" % sys.executable)
    py, why = ensure()
    if py is None:
        return why
    os.environ[MARK] = "1"
    sys.stdout.flush()
    os.execv(py, [py] + sys.argv)
