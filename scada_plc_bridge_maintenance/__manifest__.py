# Copyright 2026 scada_plc_bridge contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "SCADA PLC Bridge - Maintenance",
    "summary": "Equipment failures reported by the PLC open corrective maintenance requests",
    "version": "14.0.1.0.0",
    "category": "Manufacturing",
    "website": "https://github.com/scada-plc-bridge/scada_plc_bridge",
    "author": "scada_plc_bridge contributors",
    "license": "LGPL-3",
    "installable": True,
    "auto_install": True,
    "depends": ["scada_plc_bridge", "maintenance"],
    "data": [
        "security/scada_plc_bridge_maintenance_security.xml",
        "views/scada_equipment_views.xml",
        "views/scada_equipment_failure_views.xml",
        "views/scada_plc_views.xml",
        "views/maintenance_equipment_views.xml",
    ],
    "post_init_hook": "post_init_hook",
}
