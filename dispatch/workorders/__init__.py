"""Work orders: the public API. Import from here; the modules below are how it is built.

``model`` the records (``WorkOrder``, ``WorkOrderEvent``, ``NewOrder``); ``queries`` reading orders and their
history; ``journal`` what every change writes beside the row (event, NOTIFY, outbox); ``opening`` opening orders
and spotting repeats; ``lifecycle`` the state machine moves; ``offers`` offering orders to crew and accepting
them; ``assignment`` the control room's hand assignment; ``resolution`` what a finished repair must record (its
note, a cost its fund draw can complete at) and costs added after it; ``photos`` photo uploads; ``detail`` one
order with its place, costs, photos and timeline; ``addresses`` address normalisation; ``spending`` what
elevator repairs cost per month and year (the public board). The errors live in
``dispatch.errors`` and are re-exported here.
"""

from dispatch.errors import (
    AcceptConflict,
    AcceptRefused,
    AssigneeRequired,
    AssignRefused,
    IllegalTransition,
    InvalidOrder,
    PhotoRejected,
    ReasonRequired,
    UnknownPlace,
    WorkOrderNotFound,
)
from dispatch.workorders.addresses import address_key
from dispatch.workorders.assignment import assign
from dispatch.workorders.detail import Costs, Location, OrderDetail, PartUsed, order_detail
from dispatch.workorders.lifecycle import transition
from dispatch.workorders.model import NewOrder, WorkOrder, WorkOrderEvent
from dispatch.workorders.offers import accept, reassign_expired
from dispatch.workorders.opening import (
    DEFAULT_REPEAT_WINDOW,
    REPORT_ORIGINS,
    find_repeat,
    open_from_report,
    open_order,
)
from dispatch.workorders.photos import MAX_PHOTO_BYTES, Photo, attach_photo, detect_image_type, list_photos
from dispatch.workorders.queries import (
    OrderFilter,
    events,
    get_work_order,
    list_work_orders,
    page_work_orders,
    routing,
)
from dispatch.workorders.resolution import check_resolution, open_draw, record_costs
from dispatch.workorders.spending import ElevatorSpending, MonthSpending, elevator_spending

__all__ = [
    "DEFAULT_REPEAT_WINDOW", "MAX_PHOTO_BYTES", "REPORT_ORIGINS", "AcceptConflict", "AcceptRefused", "AssignRefused",
    "AssigneeRequired", "Costs", "ElevatorSpending", "IllegalTransition", "InvalidOrder", "Location",
    "MonthSpending", "NewOrder", "OrderDetail", "OrderFilter", "PartUsed", "Photo", "PhotoRejected",
    "ReasonRequired", "UnknownPlace", "WorkOrder", "WorkOrderEvent", "WorkOrderNotFound", "accept", "address_key",
    "assign", "attach_photo", "check_resolution", "detect_image_type", "elevator_spending", "events", "find_repeat",
    "get_work_order", "list_photos", "list_work_orders", "open_draw", "open_from_report", "open_order",
    "order_detail", "page_work_orders", "reassign_expired", "record_costs", "routing", "transition",
]
