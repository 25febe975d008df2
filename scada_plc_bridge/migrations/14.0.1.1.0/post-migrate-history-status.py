"""The history status "failed" is gone: a batch the PLC failed is archived
as cancelled and keeps the PLC's failure (status_operation).  A row an older
database holds as "failed" becomes that, so it stays among the PLC failures."""

import logging

_logger = logging.getLogger(__name__)


def migrate(cr, version):
    if not version:
        return
    cr.execute("UPDATE mo_history SET status = 'cancelled', status_operation = TRUE WHERE status = 'failed'")
    if cr.rowcount:
        _logger.info("mo.history: %d failed batch(es) now cancelled by a PLC failure", cr.rowcount)
