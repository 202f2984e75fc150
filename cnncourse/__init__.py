"""cnncourse: the package behind the course *Convolutional Neural Networks*.

Every layer, architecture, task head and visualization method the course
teaches is implemented here from scratch and checked against PyTorch.
The notebooks import this package; they never re-implement it.
"""

from cnncourse import simcuda
from cnncourse.runtime import Profile, device, device_name, device_of, profile, seed_everything, setup

__version__ = "0.1.0"

__all__ = ["Profile", "device", "device_name", "device_of", "profile", "seed_everything", "setup", "__version__"]

simcuda.enable_from_environment()  # CNNCOURSE_SIMULATE_CUDA=1: the tests' simulated GPU
