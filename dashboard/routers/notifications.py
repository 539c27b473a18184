"""Delivery status of a work order's notifications (``dispatch.notify``): what was sent to whom, through which
channel, and how each attempt went."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict

from dashboard import roles
from dashboard.errors import not_found
from dashboard.security import Conn, check_site, require
from dashboard.users import User
from dispatch import workorders
from dispatch.notify import order_notifications

router = APIRouter(prefix="/api/v1/work-orders", tags=["work-orders"])


class DeliveryOut(BaseModel):
    """One notification through one channel: ``pending`` (retried at ``next_attempt_at``), ``sent``, ``failed``
    (gave up) or ``unrouted`` (no channel is configured for these recipients).

    Restates ``dispatch.notify.Delivery`` without its row ids, which the enclosing notification and order give."""

    model_config = ConfigDict(from_attributes=True)
    channel: str
    channel_type: str
    recipients: list[dict[str, str]]
    state: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None


class NotificationOut(BaseModel):
    """A notice queued for the order (opened, offer, unassigned, sla_breach …) with ids and codes only."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    kind: str
    created_at: datetime
    routed_at: datetime | None
    payload: dict[str, Any]
    deliveries: list[DeliveryOut]


@router.get("/{order_id}/notifications", response_model=list[NotificationOut],
            summary="The order's notifications and the delivery status of each")
def list_notifications(order_id: int, conn: Conn,
                       user: Annotated[User, Depends(require(roles.CONTROL_ROOM))]) -> list[NotificationOut]:
    """Oldest first. 404 for an unknown order, 403 outside your sites."""
    order = workorders.get_work_order(conn, order_id)
    if order is None:
        raise not_found("work order", order_id)
    check_site(user, order.site_id)
    return [NotificationOut.model_validate(n) for n in order_notifications(conn, order_id)]
