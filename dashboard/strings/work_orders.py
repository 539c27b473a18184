"""UI strings of the work-order board, closed list, search and order pages: key -> (zh-CN, English)."""

from __future__ import annotations

STRINGS: dict[str, tuple[str, str]] = {
    # board: views, search, filters, counts
    "wo_view_open": ("进行中", "Open"), "wo_view_closed": ("已结束", "Closed"),
    "wo_search_placeholder": ("工单号、内容、设备或地址", "Number, title, device or address"),
    "wo_priority": ("优先级", "Priority"), "wo_assignee": ("处理人", "Assignee"),
    "wo_created_from": ("创建日期自", "Created from"), "wo_created_to": ("至", "to"),
    "wo_clear_filters": ("清除筛选", "Clear filters"), "wo_counts": ("各状态工单数", "Orders per state"),
    "wo_more": ("另有 {n} 张，请缩小筛选范围", "{n} more: narrow the filters"),
    "wo_none": ("暂无工单", "No orders"),
    "wo_nobody": ("未指派", "Not assigned"),
    # SLA clocks: the step and the time left or over
    "wo_step_ack": ("响应", "Acknowledge"), "wo_step_dispatch": ("派单", "Dispatch"),
    "wo_step_arrive": ("到场", "Arrive"), "wo_step_resolve": ("修复", "Resolve"),
    "wo_due_in": ("{step}时限 剩余 {t}", "{step} due in {t}"),
    "wo_overdue_by": ("{step}已超时 {t}", "{step} overdue by {t}"),
    # lengths of time, with their units so "1:30" is never read as either 1 h 30 min or 1 min 30 s
    "wo_span_s": ("{s}秒", "{s} s"), "wo_span_ms": ("{m}分{s}秒", "{m} min {s} s"),
    "wo_span_hm": ("{h}小时{m}分", "{h} h {m} min"), "wo_span_dh": ("{d}天{h}小时", "{d} d {h} h"),
    "wo_escalation": ("已升级 L{n}", "Escalated L{n}"),
    "wo_sla": ("时限", "SLA clocks"), "wo_step": ("环节", "Step"), "wo_due_at": ("截止时间", "Due"),
    "wo_done_at": ("完成时间", "Done"), "wo_sla_state": ("结果", "Result"),
    "wo_met": ("按时", "Met"), "wo_missed_by": ("超时 {t}", "Missed by {t}"),
    "wo_not_reached": ("未完成（工单已结束）", "Not reached (order ended)"),
    # closed list
    "wo_number": ("工单号", "Number"), "wo_created": ("创建时间", "Created"), "wo_ended": ("结束时间", "Ended"),
    # order page
    "wo_back": ("返回工单看板", "Back to the board"), "wo_origin": ("来源", "Origin"),
    "wo_origin_alarm": ("设备报警", "Device alarm"), "wo_origin_preventive": ("计划维保", "Planned maintenance"),
    "wo_emergency": ("紧急维修", "Emergency repair"), "wo_location": ("位置", "Location"),
    "wo_building_unit": ("单元", "Stairwell"), "wo_reporter": ("报告人联系方式", "Reporter's contact"),
    "wo_linked_alarm": ("关联报警", "Linked alarm"), "wo_unit": ("责任单位", "Responsible unit"),
    "wo_repeat_of": ("重复报修，前单", "Repeat of"), "wo_hotline": ("12345 工单", "12345 ticket"),
    "wo_costs": ("配件与费用", "Parts and cost"), "wo_labour": ("人工(元)", "Labour (CNY)"),
    "wo_parts_cost": ("配件(元)", "Parts (CNY)"), "wo_cost_total": ("合计(元)", "Total (CNY)"),
    "wo_quantity": ("数量", "Quantity"), "wo_unit_cost": ("单价(元)", "Unit cost (CNY)"),
    "wo_line_amount": ("金额(元)", "Amount (CNY)"), "wo_no_parts": ("未使用配件", "No parts used"),
    "wo_photos": ("现场照片", "Photos"), "wo_no_photos": ("暂无照片", "No photos yet"),
    "wo_photo_alt": ("照片 {n}，上传人 {who}", "Photo {n} by {who}"),
    "wo_draws": ("维修资金使用", "Maintenance fund draws"), "wo_no_draws": ("未申请维修资金", "No fund draw"),
    "wo_draw_item": ("项目", "Item"), "wo_draw_estimate": ("预算(元)", "Estimate (CNY)"),
    "wo_draw_actual": ("实际(元)", "Actual (CNY)"), "wo_apply_draw": ("申请使用维修资金", "Apply for a fund draw"),
    "wo_draw_pending": ("待审批", "Pending"), "wo_draw_approved": ("已批准", "Approved"),
    "wo_draw_rejected": ("已驳回", "Rejected"), "wo_draw_completed": ("已完成", "Completed"),
    "wo_read_only": ("只读：业委会和街道办查看工单，不做处置",
                     "Read only: the committee and the sub-district follow orders"),
    # a note the system writes on a person's event (dispatch.alarm_sync)
    "wo_note_alarm_acknowledged": ("报警已确认", "alarm acknowledged"),
    # timeline entries by kind
    "wo_ev_opened": ("工单创建", "Order opened"), "wo_ev_transition": ("状态变更", "State change"),
    "wo_ev_alarm": ("报警变化", "Alarm change"), "wo_ev_upgrade": ("报警级别提升", "Alarm severity raised"),
    "wo_ev_hotline": ("12345 记录", "12345 record"), "wo_ev_escalation": ("超时升级", "Escalation"),
    "wo_ev_assignment": ("人工派单", "Assigned by hand"), "wo_ev_offer": ("推送给维修人员", "Offered to crew"),
    "wo_ev_offer_timeout": ("推送超时未接", "Offer not taken in time"), "wo_ev_photo": ("上传照片", "Photo added"),
    # operator actions and their confirmation
    "wo_act_ack": ("响应", "Acknowledge"), "wo_act_assign": ("派单", "Assign"),
    "wo_act_reassign": ("改派", "Reassign"), "wo_act_hold": ("暂停", "Put on hold"),
    "wo_act_resume": ("恢复维修", "Resume"), "wo_act_cancel": ("取消工单", "Cancel the order"),
    "wo_act_false_alarm": ("误报", "False alarm"), "wo_act_verify": ("验收", "Verify"),
    "wo_act_close": ("关闭", "Close"), "wo_act_reopen": ("重新打开", "Reopen"),
    "wo_confirm": ("确定对工单 {number} 执行「{action}」？", "{action}: order {number}?"),
    "wo_reason_required": ("请填写原因", "A reason is required"),
    "wo_crew_member": ("维修人员", "Crew member"), "wo_pick_member": ("请选择维修人员", "Pick a crew member"),
    "wo_member_load": ("{name}（进行中 {n} 张）", "{name} ({n} open)"),
    "wo_member_off": ("{name}（不在班）", "{name} (off shift)"),
}
