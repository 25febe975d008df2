odoo.define("scada_plc_bridge.tours", function (require) {
    "use strict";

    const tour = require("web_tour.tour");

    // A shift supervisor finds a batch Odoo refused to finish, retries the
    // push once the cause is fixed, and finds it archived in History.
    tour.register("scada_retry_push_tour", {test: true, url: "/web#action=scada_plc_bridge.mo_batch_action"}, [
        {
            content: "The batch waits in the 'Failed to Push' column of the kanban",
            trigger: ".o_kanban_group:has(.o_column_title:contains('Failed to Push')) .o_kanban_record:contains('TOUR RETRY FEED')",
        },
        {
            content: "Its card shows the error badge; open it",
            trigger: ".o_kanban_record:contains('TOUR RETRY FEED') .o_scada_error_badge",
        },
        {
            content: "The form tells why Odoo refused",
            trigger: ".o_form_view .alert-danger:contains('Odoo refused')",
            run: function () {},
        },
        {
            content: "Retry the push",
            trigger: ".o_form_statusbar button[name='action_retry_push']",
        },
        {
            content: "It is archived in History as completed",
            trigger: ".o_list_view .o_data_row:contains('TOUR RETRY FEED'):contains('Completed')",
        },
        {
            content: "The history record is read-only",
            trigger: ".o_form_view .o_statusbar_status .btn-primary:contains('Completed')",
            run: function () {},
        },
    ]);

    // A batch is cancelled with a reason, which becomes the history note.
    tour.register("scada_cancel_batch_tour", {test: true, url: "/web#action=scada_plc_bridge.mo_batch_action"}, [
        {
            content: "Open the running batch",
            trigger: ".o_kanban_record:contains('TOUR CANCEL FEED')",
        },
        {
            content: "Cancel it",
            trigger: ".o_form_statusbar button:contains('Cancel')",
        },
        {
            content: "Give the reason",
            trigger: "textarea[name='reason']",
            run: "text Silo C blocked by caking",
        },
        {
            content: "Confirm",
            trigger: "button[name='action_cancel']",
        },
        {
            content: "The reason is the history note",
            trigger: ".o_list_view .o_data_row:contains('TOUR CANCEL FEED'):contains('Silo C blocked by caking')",
            run: function () {},
        },
    ]);
});
