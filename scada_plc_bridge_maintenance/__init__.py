from . import models
from . import services
from .hooks import post_init_hook
