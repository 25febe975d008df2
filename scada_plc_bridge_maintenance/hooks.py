from odoo import SUPERUSER_ID, api


def post_init_hook(cr, registry):
    """The equipment the bridge knew before Maintenance came: each gets its maintenance.equipment."""
    env = api.Environment(cr, SUPERUSER_ID, {})
    env["scada.task.failures"]._maintenance_equipment(env["scada.equipment"].search([]))
