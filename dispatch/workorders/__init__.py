"""Work orders: the public API. Import from here; the modules below are how it is built.

``model`` the records (``WorkOrder``, ``WorkOrderEvent``, ``NewOrder``); ``queries`` reading orders and their
history; ``journal`` what every change writes beside the row (event, NOTIFY, outbox); ``opening`` opening orders
and spotting repeats; ``lifecycle`` the state machine moves; ``offers`` offering orders to crew and accepting
them; ``photos`` photo uploads. The errors live in ``dispatch.errors`` and are re-exported here.
"""

from dispatch.errors import (
    AcceptConflict,
    AcceptRefused,
    IllegalTransition,
    InvalidOrder,
    PhotoRejected,
    UnknownPlace,
    WorkOrderNotFound,
)
from dispatch.workorders.lifecycle import transition
from dispatch.workorders.model import NewOrder, WorkOrder, WorkOrderEvent
from dispatch.workorders.offers import accept, reassign_expired
from dispatch.workorders.opening import (
    DEFAULT_REPEAT_WINDOW,
    REPORT_ORIGINS,
    address_key,
    find_repeat,
    open_from_report,
    open_order,
)
from dispatch.workorders.photos import MAX_PHOTO_BYTES, Photo, attach_photo, detect_image_type
from dispatch.workorders.queries import events, get_work_order, list_work_orders, page_work_orders

__all__ = [
    "DEFAULT_REPEAT_WINDOW", "MAX_PHOTO_BYTES", "REPORT_ORIGINS", "AcceptConflict", "AcceptRefused",
    "IllegalTransition", "InvalidOrder", "NewOrder", "Photo", "PhotoRejected", "UnknownPlace", "WorkOrder",
    "WorkOrderEvent", "WorkOrderNotFound", "accept", "address_key", "attach_photo", "detect_image_type", "events",
    "find_repeat", "get_work_order", "list_work_orders", "open_from_report", "open_order", "page_work_orders",
    "reassign_expired", "transition",
]
