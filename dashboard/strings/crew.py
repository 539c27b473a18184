"""UI strings of the crew app: key -> (zh-CN, English)."""

from __future__ import annotations

STRINGS: dict[str, tuple[str, str]] = {
    # my orders
    "crew_open": ("进行中", "Open"), "crew_closed_today": ("今日已完成", "Closed today"),
    "crew_none_open": ("暂无进行中的工单", "No open orders"),
    "crew_none_closed": ("今天还没有完成的工单", "Nothing closed today"),
    "crew_offer": ("待我接单", "Offered to you"),
    "crew_due_in": ("剩余 {t}", "due in {t}"), "crew_overdue_by": ("已超时 {t}", "overdue by {t}"),
    "crew_days": ("{d}天", "{d}d"),
    "crew_sound_hint": ("点击此处开启新工单提示音", "Tap here to turn on the new-order sound"),
    "crew_sound_on": ("新工单提示音已开启", "New-order sound on"),
    "crew_new_order": ("新工单：{list}", "New order: {list}"),
    "crew_stale": ("离线：显示 {t} 加载的内容", "Offline: showing what was loaded at {t}"),
    # one order
    "crew_location": ("位置", "Location"), "crew_unit_floor": ("单元/楼层", "Entrance / floor"),
    "crew_procedure": ("处置流程", "Procedure"),
    "crew_procedure_kept": ("勾选保存在本机", "Ticks are kept on this phone"),
    "crew_due_times": ("各环节时限", "Due times"),
    "crew_step_ack": ("响应", "Acknowledge"), "crew_step_dispatch": ("派单", "Dispatch"),
    "crew_step_arrive": ("到场", "Arrive"), "crew_step_resolve": ("修复", "Resolve"),
    "crew_done_at": ("已完成 {t}", "done {t}"),
    "crew_call": ("拨打回访电话", "Call back"),
    "crew_hold": ("暂停", "Hold"), "crew_resume": ("恢复维修", "Resume"),
    "crew_hold_reason": ("暂停/恢复原因", "Reason to hold or resume"),
    "crew_reason_needed": ("暂停需填写原因", "Holding needs a reason"),
    "crew_finish": ("完工登记", "Finish the repair"),
    "crew_parts_hint": ("门锁开关 x1, 螺栓 x4", "door switch x1, bolt x4"),
    "crew_cost_invalid": ("费用请填写金额，如 450.00", "Cost is an amount such as 450.00"),
    "crew_photos": ("现场照片", "Photos"), "crew_take_photo": ("拍照上传", "Take a photo"),
    "crew_no_photos": ("暂无照片", "No photos yet"),
    "crew_uploading": ("上传中 {p}%", "Uploading {p}%"), "crew_uploaded": ("照片已上传", "Photo uploaded"),
    "crew_upload_failed": ("照片上传失败：{reason}", "Photo not uploaded: {reason}"),
    "crew_retry": ("重试", "Retry"),
    "crew_sync_queued": ("待发送 ({n})", "Queued ({n})"), "crew_sync_sending": ("发送中…", "Sending…"),
    "crew_sync_sent": ("已发送", "Sent"), "crew_sync_failed": ("发送失败：{reason}", "Failed: {reason}"),
    "crew_offline": ("网络已断开，操作将在恢复后发送", "Offline: actions are sent when the network is back"),
    "crew_network": ("网络中断", "network down"),
    "crew_dismiss": ("知道了", "Dismiss"),
    "crew_pending": ("{state}（待发送）", "{state} (queued)"),
    "crew_photo_event": ("上传照片", "Photo added"),
}
