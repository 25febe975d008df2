"""plclib: Omron FINS client, memory-map codec and PLC simulator.

Plain Python (standard library only), never imports Odoo: the addon's models
call it, and it runs on its own as the `scada-plc` command."""
