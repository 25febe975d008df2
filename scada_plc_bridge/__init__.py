from . import runner
from . import models
from . import services
from . import wizards
from . import report
